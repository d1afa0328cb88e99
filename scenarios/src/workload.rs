//! The workload that drives a scheme: devices, users with their open files,
//! and the tasks that remove (and rebind) the devices.
//!
//! A workload is a description: per-user scripts of file operations and
//! per-remover scripts of driver-core operations. The classic knobs
//! (`--users --ioctls --devices --open-races-del --remove-work`) generate
//! one:
//!
//! ```text
//!  init:    probe every device (cdev_device_add), make its device node,
//!           spawn tasks, join them
//!  userN:   open -> ioctl x k -> close
//!           (chrdev_open() -> [fops->open] ... __fput(): [fops->release] -> cdev_put())
//!  remove:  [wait-opens, unless opens race removal] -> remove every device
//! ```
//!
//! and a `[workload]` table with `[[workload.user]]` and
//! `[[workload.remover]]` scripts says anything else: a user that opens
//! twice, an open gated until removal has started, a remover that unbinds
//! and rebinds, a second remover task (see `examples/workloads/`).
//!
//! The VFS half is the kernel's (fs/char_dev.c, fs/file_table.c): an open
//! file holds a reference on the cdev from `chrdev_open()` to `__fput()`,
//! which drops it after the driver's `release`. An open that finds the
//! device number unmapped fails with `-ENXIO` and never reaches the driver.

use harness::engine::ScenarioFn;
use harness::kernel::{
    __fput, chrdev_open, complete, complete_all, lockdep_sys_exit, spawn_task, wait_for_completion,
    Completion, DevT, File, Inode, Task, O_RDWR,
};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// `-EINVAL`: what a file operation the driver does not implement returns
/// (fs/read_write.c answers a missing `->read`/`->write` so).
pub const EINVAL: i64 = 22;

/// `DEFAULT_POLLMASK` (include/linux/poll.h): what `vfs_poll()` reports for
/// a file without `->poll`: readable and writable at once.
pub const DEFAULT_POLLMASK: u32 = 0x0001 | 0x0004 | 0x0040 | 0x0100;

/// One probed device as the workload sees it: the driver's file operations
/// (each given the open [`File`], whose `private_data` its `open` may set)
/// and its removal path.
pub trait Driver: Send + Sync + 'static {
    /// The device number of the character device users open (the workload
    /// makes one device node for it).
    fn devt(&self) -> &DevT;

    /// The driver's `fops->open`, called by `chrdev_open()` once it holds a
    /// reference on the cdev. A failure fails the `open(2)`; `chrdev_open()`
    /// then drops the cdev reference and the driver's `release` never runs.
    fn open(&self, _file: &File) -> Result<(), i64> {
        Ok(())
    }

    /// The driver's `fops->unlocked_ioctl(file, cmd, arg)`.
    fn ioctl(&self, file: &File, cmd: u32, arg: u64) -> i64;

    /// The driver's `fops->read(file, buf, count, ppos)`; a driver without
    /// one gets `-EINVAL`, as `vfs_read()` answers.
    fn read(&self, _file: &File, _count: usize) -> i64 {
        -EINVAL
    }

    /// The driver's `fops->write(file, buf, count, ppos)`; `-EINVAL`
    /// without one, as `vfs_write()` answers.
    fn write(&self, _file: &File, _count: usize) -> i64 {
        -EINVAL
    }

    /// The driver's `fops->poll(file, wait)`; without one, `vfs_poll()`
    /// reports [`DEFAULT_POLLMASK`].
    fn poll(&self, _file: &File) -> u32 {
        DEFAULT_POLLMASK
    }

    /// The driver's `fops->release`, called by `__fput()` for the last
    /// reference to the file, before it drops the file's reference on the
    /// cdev.
    fn release(&self, _file: &File) {}

    /// The whole removal of this device (`remove()` and everything the
    /// driver core does around it: `device_release_driver()`).
    fn remove(&self);
}

/// A scheme's probe, bound to the driver's global state (its locks, SRCU
/// domains): `probe(index, devt)` binds device `index` and returns its
/// [`Driver`]. `devt` is `None` on the first probe (the driver allocates a
/// device number) and the number the previous binding had on a rebind: the
/// driver's minor allocator hands the freed number out again, so the device
/// node users open is the same inode.
pub type Probe = Arc<dyn Fn(u32, Option<&DevT>) -> Arc<dyn Driver> + Send + Sync>;

/// Make a [`Probe`] from a closure.
pub fn probe_fn(
    f: impl Fn(u32, Option<&DevT>) -> Arc<dyn Driver> + Send + Sync + 'static,
) -> Probe {
    Arc::new(f)
}

/// A workload: the knobs, and the scripts they generate unless given.
///
/// Stored as a `[workload]` table in corpus entries and workload files.
/// Entries written before scripts existed hold only the knobs and load
/// unchanged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    /// User tasks (each opens one device, round robin over the devices);
    /// with user scripts, their number.
    #[serde(default = "default_users")]
    pub users: u32,
    /// Ioctls each generated user issues on its open file.
    #[serde(default = "one")]
    pub ioctls: u32,
    /// Whether generated opens may race `cdev_device_del()` (otherwise the
    /// generated remover starts once every user holds an open file).
    #[serde(default)]
    pub open_races_del: bool,
    /// Devices, all sharing the scheme's global lock or SRCU domain.
    #[serde(default = "one")]
    pub devices: u32,
    /// Bookkeeping steps removal performs per device before it starts
    /// tearing down (models the rest of a real remove path, and makes
    /// windows realistically long).
    #[serde(default)]
    pub remove_work: u32,
    /// User scripts; when given they replace the users the `users`,
    /// `ioctls` and `open_races_del` knobs generate.
    #[serde(default, rename = "user", skip_serializing_if = "is_empty")]
    pub user_scripts: Cow<'static, [UserScript]>,
    /// Remover scripts; when given they replace the generated remover.
    #[serde(default, rename = "remover", skip_serializing_if = "is_empty")]
    pub remover_scripts: Cow<'static, [RemoverScript]>,
    /// The file the workload was read from, for replay commands.
    #[serde(skip)]
    pub source: Option<String>,
}

// serde's `skip_serializing_if` hands over the field itself.
#[allow(clippy::ptr_arg)]
fn is_empty<T: Clone>(s: &Cow<'static, [T]>) -> bool {
    s.is_empty()
}

fn default_users() -> u32 {
    2
}

fn one() -> u32 {
    1
}

impl Default for Workload {
    fn default() -> Self {
        Workload::knobs(2, 1, false, 1, 0)
    }
}

/// One user task's script: file operations in order. Files are numbered by
/// the `open` that made them (0 for the first `open` of the script); an
/// operation without `file` uses the most recent open still open. Files
/// still open at the end are closed, as `exit_files()` does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserScript {
    /// The operations.
    pub ops: Cow<'static, [UserOp]>,
}

/// A point in the removers' scripts a user's `open` can wait for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Gate {
    /// A remover has started its first `remove`/`unbind`.
    RemoveStart,
    /// A remover has finished a `rebind`.
    Rebind,
}

/// A user's file operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case", deny_unknown_fields)]
pub enum UserOp {
    /// `open(2)` of the device node: `chrdev_open()`, then `fops->open`.
    Open {
        /// The device (default: the user's index modulo the devices).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        device: Option<u32>,
        /// `f_flags` (default `O_RDWR`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        flags: Option<u32>,
        /// Wait for this point in the removers' scripts first.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after: Option<Gate>,
    },
    /// `ioctl(2)`: `fops->unlocked_ioctl(file, cmd, arg)`.
    Ioctl {
        /// The command.
        #[serde(default)]
        cmd: u32,
        /// The argument.
        #[serde(default)]
        arg: u64,
        /// Which of the script's files.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file: Option<usize>,
    },
    /// `read(2)` of `count` bytes: `fops->read`.
    Read {
        /// The byte count.
        #[serde(default)]
        count: usize,
        /// Which of the script's files.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file: Option<usize>,
    },
    /// `write(2)` of `count` bytes: `fops->write`.
    Write {
        /// The byte count.
        #[serde(default)]
        count: usize,
        /// Which of the script's files.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file: Option<usize>,
    },
    /// `poll(2)`: `fops->poll`.
    Poll {
        /// Which of the script's files.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file: Option<usize>,
    },
    /// Sleep until a point in the removers' scripts (holding whatever files
    /// are open), e.g. to close a file only after the device was rebound.
    Wait {
        /// The point.
        until: Gate,
    },
    /// `close(2)` of the last descriptor: `__fput()` → `fops->release`.
    Close {
        /// Which of the script's files.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file: Option<usize>,
    },
}

/// One remover task's script.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoverScript {
    /// The operations.
    pub ops: Cow<'static, [RemoverOp]>,
}

/// A remover's operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case", deny_unknown_fields)]
pub enum RemoverOp {
    /// Wait until every user whose first `open` is not gated has made it.
    WaitOpens,
    /// Unbind the driver from the device (`device_release_driver()`, the
    /// driver's remove path): [`Driver::remove`] of its current binding.
    #[serde(alias = "unbind")]
    Remove {
        /// The device (default: every device, in order).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        device: Option<u32>,
    },
    /// Bind the driver to the device again (`device_attach()` → probe),
    /// reusing its device number.
    Rebind {
        /// The device (default: every device, in order).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        device: Option<u32>,
    },
}

/// The most user tasks a workload may have (the model's task limit, less
/// the init and removal tasks).
pub const MAX_USERS: u32 = 12;
/// The most devices a workload may have.
pub const MAX_DEVICES: u32 = 4;
/// The most operations one script may have (the knobs generate up to 66:
/// an open, 64 ioctls and a close).
pub const MAX_OPS: usize = 128;

/// Why a workload cannot run.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WorkloadError {
    /// A knob out of its range.
    #[error("{knob} must be between {min} and {max}, got {got}")]
    Knob {
        /// The knob's command-line name.
        knob: &'static str,
        /// Its least value.
        min: u32,
        /// Its greatest value.
        max: u32,
        /// What was asked.
        got: u32,
    },
    /// More tasks than the model runs.
    #[error("{users} user and {removers} remover scripts: at most {} tasks in all", MAX_USERS + 1)]
    TooManyTasks {
        /// User scripts.
        users: usize,
        /// Remover scripts.
        removers: usize,
    },
    /// A script with too many or no operations.
    #[error("{script}: {len} operations, must be between 1 and {MAX_OPS}")]
    ScriptLength {
        /// Which script (`user 2`, `remover 0`).
        script: String,
        /// Its length.
        len: usize,
    },
    /// An operation on a device the workload does not have.
    #[error("{script}, op {op}: device {device} does not exist (devices = {devices})")]
    NoSuchDevice {
        /// Which script.
        script: String,
        /// The operation's index.
        op: usize,
        /// The device named.
        device: u32,
        /// The workload's devices.
        devices: u32,
    },
    /// A file operation on a file the script has not opened, or closed.
    #[error("{script}, op {op}: {what}")]
    BadFile {
        /// Which script.
        script: String,
        /// The operation's index.
        op: usize,
        /// What is wrong.
        what: String,
    },
    /// An `open` or `wait` gated on a point no remover reaches: it would
    /// wait forever.
    #[error("{script}, op {op}: waits for {gate:?}, but no remover script has that operation")]
    GateNeverOpens {
        /// Which script.
        script: String,
        /// The operation's index.
        op: usize,
        /// The gate.
        gate: Gate,
    },
    /// A remover operation out of order for its device.
    #[error("{script}, op {op}: {what}")]
    BadRemoval {
        /// Which script.
        script: String,
        /// The operation's index.
        op: usize,
        /// What is wrong.
        what: String,
    },
    /// The workload file cannot be read or parsed.
    #[error("{path}: {what}")]
    File {
        /// The file.
        path: String,
        /// What went wrong.
        what: String,
    },
}

/// A workload file: a `[workload]` table, as corpus entries store it.
#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct WorkloadFile {
    workload: Workload,
}

impl Workload {
    /// The workload the classic knobs describe.
    pub const fn knobs(
        users: u32,
        ioctls: u32,
        open_races_del: bool,
        devices: u32,
        remove_work: u32,
    ) -> Workload {
        Workload {
            users,
            ioctls,
            open_races_del,
            devices,
            remove_work,
            user_scripts: Cow::Borrowed(&[]),
            remover_scripts: Cow::Borrowed(&[]),
            source: None,
        }
    }

    /// A scripted workload over `devices` devices, as a constant (a
    /// scheme's default workload).
    pub const fn scripted(
        devices: u32,
        users: &'static [UserScript],
        removers: &'static [RemoverScript],
    ) -> Workload {
        Workload {
            users: users.len() as u32,
            ioctls: 1,
            open_races_del: false,
            devices,
            remove_work: 0,
            user_scripts: Cow::Borrowed(users),
            remover_scripts: Cow::Borrowed(removers),
            source: None,
        }
    }

    /// Read a workload file (a `[workload]` table) and validate it.
    pub fn from_file(path: &Path) -> Result<Workload, WorkloadError> {
        let err = |what: String| WorkloadError::File {
            path: path.display().to_string(),
            what,
        };
        let bytes = harness::corpus::read_capped(path).map_err(|e| err(e.to_string()))?;
        let text = String::from_utf8(bytes).map_err(|e| err(e.to_string()))?;
        let mut wl = Workload::from_toml(&text).map_err(|e| match e {
            WorkloadError::File { what, .. } => err(what),
            other => other,
        })?;
        wl.source = Some(path.display().to_string());
        Ok(wl)
    }

    /// Parse a workload file's text and validate it.
    pub fn from_toml(text: &str) -> Result<Workload, WorkloadError> {
        let file: WorkloadFile = toml::from_str(text).map_err(|e| WorkloadError::File {
            path: "<workload>".into(),
            what: e.message().to_string(),
        })?;
        let mut wl = file.workload;
        if !wl.user_scripts.is_empty() {
            wl.users = wl.user_scripts.len() as u32;
        }
        wl.validate()?;
        Ok(wl)
    }

    /// The workload as a workload file's text.
    pub fn to_toml(&self) -> String {
        toml::to_string(&WorkloadFile {
            workload: self.clone(),
        })
        .unwrap_or_default()
    }

    /// Whether the workload has scripts of its own (is not described by the
    /// knobs alone).
    pub fn is_scripted(&self) -> bool {
        !self.user_scripts.is_empty() || !self.remover_scripts.is_empty()
    }

    /// The user scripts: the given ones, or those the knobs generate.
    pub fn users(&self) -> Vec<UserScript> {
        if !self.user_scripts.is_empty() {
            return self.user_scripts.to_vec();
        }
        let mut ops = vec![UserOp::Open {
            device: None,
            flags: None,
            after: None,
        }];
        ops.extend((0..self.ioctls).map(|_| UserOp::Ioctl {
            cmd: 0,
            arg: 0,
            file: None,
        }));
        ops.push(UserOp::Close { file: None });
        vec![
            UserScript {
                ops: Cow::Owned(ops)
            };
            self.users as usize
        ]
    }

    /// The remover scripts: the given ones, or the one the knobs generate.
    pub fn removers(&self) -> Vec<RemoverScript> {
        if !self.remover_scripts.is_empty() {
            return self.remover_scripts.to_vec();
        }
        let mut ops = Vec::new();
        if !self.open_races_del {
            ops.push(RemoverOp::WaitOpens);
        }
        ops.push(RemoverOp::Remove { device: None });
        vec![RemoverScript {
            ops: Cow::Owned(ops),
        }]
    }

    /// Check the knobs and scripts are within what the model supports and
    /// that every script can run to its end.
    pub fn validate(&self) -> Result<(), WorkloadError> {
        let knob = |knob, min, max, got| {
            if got < min || got > max {
                Err(WorkloadError::Knob {
                    knob,
                    min,
                    max,
                    got,
                })
            } else {
                Ok(())
            }
        };
        knob("devices", 1, MAX_DEVICES, self.devices)?;
        knob("remove-work", 0, 64, self.remove_work)?;
        if self.user_scripts.is_empty() {
            knob("users", 1, MAX_USERS, self.users)?;
            knob("ioctls", 1, 64, self.ioctls)?;
        }
        let users = self.users();
        let removers = self.removers();
        if users.len() + removers.len() > MAX_USERS as usize + 1 {
            return Err(WorkloadError::TooManyTasks {
                users: users.len(),
                removers: removers.len(),
            });
        }
        let mut gates = Vec::new();
        for (u, s) in users.iter().enumerate() {
            gates.extend(self.check_user(&format!("user {u}"), s)?);
        }
        let mut owner: BTreeMap<u32, usize> = BTreeMap::new();
        let mut reaches = Vec::new();
        for (r, s) in removers.iter().enumerate() {
            let name = format!("remover {r}");
            check_length(&name, s.ops.len())?;
            let mut bound = vec![true; self.devices as usize];
            for (i, op) in s.ops.iter().enumerate() {
                let (device, removing) = match op {
                    RemoverOp::WaitOpens => continue,
                    RemoverOp::Remove { device } => (*device, true),
                    RemoverOp::Rebind { device } => (*device, false),
                };
                reaches.push(if removing {
                    Gate::RemoveStart
                } else {
                    Gate::Rebind
                });
                let devices: Vec<u32> = match device {
                    Some(d) => {
                        self.check_device(&name, i, d)?;
                        vec![d]
                    }
                    None => (0..self.devices).collect(),
                };
                for d in devices {
                    if *owner.entry(d).or_insert(r) != r {
                        return Err(WorkloadError::BadRemoval {
                            script: name,
                            op: i,
                            what: format!(
                                "device {d} is also removed by remover {}; the driver core serialises one device's unbinds, so give each device one remover",
                                owner[&d]
                            ),
                        });
                    }
                    let b = &mut bound[d as usize];
                    if *b != removing {
                        return Err(WorkloadError::BadRemoval {
                            script: name,
                            op: i,
                            what: if removing {
                                format!("device {d} is already unbound (rebind it first)")
                            } else {
                                format!("device {d} is still bound (remove it first)")
                            },
                        });
                    }
                    *b = !removing;
                }
            }
        }
        for (script, op, gate) in gates {
            if !reaches.contains(&gate) {
                return Err(WorkloadError::GateNeverOpens { script, op, gate });
            }
        }
        Ok(())
    }

    fn check_device(&self, script: &str, op: usize, device: u32) -> Result<(), WorkloadError> {
        if device >= self.devices {
            return Err(WorkloadError::NoSuchDevice {
                script: script.to_string(),
                op,
                device,
                devices: self.devices,
            });
        }
        Ok(())
    }

    /// Check one user script; returns its gated opens.
    fn check_user(
        &self,
        name: &str,
        s: &UserScript,
    ) -> Result<Vec<(String, usize, Gate)>, WorkloadError> {
        check_length(name, s.ops.len())?;
        let mut gates = Vec::new();
        // Whether each opened file is still open.
        let mut files: Vec<bool> = Vec::new();
        for (i, op) in s.ops.iter().enumerate() {
            let bad = |what: String| WorkloadError::BadFile {
                script: name.to_string(),
                op: i,
                what,
            };
            let target = match op {
                UserOp::Open { device, after, .. } => {
                    if let Some(d) = device {
                        self.check_device(name, i, *d)?;
                    }
                    if let Some(g) = after {
                        gates.push((name.to_string(), i, *g));
                    }
                    files.push(true);
                    continue;
                }
                UserOp::Wait { until } => {
                    gates.push((name.to_string(), i, *until));
                    continue;
                }
                UserOp::Ioctl { file, .. }
                | UserOp::Read { file, .. }
                | UserOp::Write { file, .. }
                | UserOp::Poll { file }
                | UserOp::Close { file } => *file,
            };
            let f = match target {
                Some(f) if f >= files.len() => {
                    return Err(bad(format!(
                        "file {f} is not opened yet ({} opens before this operation)",
                        files.len()
                    )))
                }
                Some(f) if !files[f] => return Err(bad(format!("file {f} is already closed"))),
                Some(f) => f,
                None => match files.iter().rposition(|open| *open) {
                    Some(f) => f,
                    None => return Err(bad("no file is open".to_string())),
                },
            };
            if matches!(op, UserOp::Close { .. }) {
                files[f] = false;
            }
        }
        Ok(gates)
    }

    /// Command-line flags that reproduce this workload (a scripted one is
    /// named by its file; one without a file by its corpus entry).
    pub fn flags(&self) -> String {
        if self.is_scripted() {
            return match &self.source {
                Some(path) => format!("--workload {path}"),
                None => "(a scripted workload: replay its corpus entry)".to_string(),
            };
        }
        let mut s = format!(
            "--users {} --ioctls {} --devices {}",
            self.users, self.ioctls, self.devices
        );
        if self.remove_work > 0 {
            s.push_str(&format!(" --remove-work {}", self.remove_work));
        }
        if self.open_races_del {
            s.push_str(" --open-races-del");
        }
        s
    }
}

fn check_length(script: &str, len: usize) -> Result<(), WorkloadError> {
    if len == 0 || len > MAX_OPS {
        return Err(WorkloadError::ScriptLength {
            script: script.to_string(),
            len,
        });
    }
    Ok(())
}

/// Build the scenario body for a scheme's `probe` and a workload.
///
/// `probe` runs in the init task, makes the driver's global state and
/// returns the [`Probe`] that binds each device (sharing that state).
pub fn scenario(probe: fn(&Workload) -> Probe, workload: Workload) -> ScenarioFn {
    prepared(workload, move |wl, scripts| run(&probe, wl, scripts))
}

/// [`scenario`] for a probe built at run time (a kernel-C scheme).
pub fn scenario_with(
    probe: &'static (dyn Fn(&Workload) -> Probe + Send + Sync),
    workload: Workload,
) -> ScenarioFn {
    prepared(workload, move |wl, scripts| run(probe, wl, scripts))
}

/// A device's bindings, oldest first: a file dispatches to the one whose
/// cdev it was opened on (after a rebind, an inode still caching the old
/// cdev opens the old binding, as `chrdev_open()` does).
struct Bindings {
    /// The scheme's probe of this execution (`None` only between
    /// executions, in the spare kept for the next one).
    probe: Option<Probe>,
    per_device: Vec<Mutex<Vec<Binding>>>,
}

struct Binding {
    /// The cdev the binding's probe mapped at its number.
    cdev: Option<harness::kernel::Cdev>,
    driver: Arc<dyn Driver>,
    /// Whether a remover unbound it.
    removed: bool,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Bindings {
    fn bind(&self, device: u32, devt: Option<&DevT>) -> Arc<dyn Driver> {
        let probe = self
            .probe
            .as_ref()
            .expect("an execution's bindings hold its probe");
        let driver = probe(device, devt);
        let cdev = driver.devt().mapped_cdev();
        lock(&self.per_device[device as usize]).push(Binding {
            cdev,
            driver: Arc::clone(&driver),
            removed: false,
        });
        driver
    }

    /// Unbind the device's current binding, unless it is already unbound.
    fn remove(&self, device: u32) {
        let driver = {
            let mut list = lock(&self.per_device[device as usize]);
            match list.last_mut() {
                Some(b) if !b.removed => {
                    b.removed = true;
                    Arc::clone(&b.driver)
                }
                _ => return,
            }
        };
        driver.remove();
    }

    fn current(&self, device: u32) -> Option<Arc<dyn Driver>> {
        lock(&self.per_device[device as usize])
            .last()
            .map(|b| Arc::clone(&b.driver))
    }

    /// The binding whose cdev `file` was opened on. `None` while a rebind's
    /// probe has mapped its cdev but not returned: the kernel would call
    /// `fops->open` on the half-probed device, which the model cannot (its
    /// driver object exists once probe returns), so that open fails with
    /// `-ENXIO` as if it had come a moment before `cdev_add()`.
    fn of_file(&self, device: u32, file: &File) -> Option<Arc<dyn Driver>> {
        lock(&self.per_device[device as usize])
            .iter()
            .rev()
            .find(|b| b.cdev.as_ref().is_some_and(|c| file.is_on(c)))
            .map(|b| Arc::clone(&b.driver))
    }
}

/// The completions the scripts synchronise on.
struct Gates {
    /// Each user completes it once per remover that waits for opens, after
    /// its first `open`.
    opened: Completion,
    waiting_removers: usize,
    remove_start: Option<(Completion, Mutex<bool>)>,
    rebind: Option<Completion>,
}

impl Gates {
    /// Sleep until the removers reach `gate`.
    fn wait(&self, gate: Gate) {
        let c = match gate {
            Gate::RemoveStart => self.remove_start.as_ref().map(|(c, _)| c),
            Gate::Rebind => self.rebind.as_ref(),
        };
        if let Some(c) = c {
            wait_for_completion(c);
        }
    }
}

/// What the tasks of one execution share: the scripts, the bindings, the
/// device nodes, the gates, and the open-file tables of the users. One
/// allocation for all of it, kept by the thread for its next execution (see
/// [`SPARE`]).
struct Shared {
    /// The scenario's scripts: this thread's own references, taken when
    /// the state is made (or the scenario changes), so the tasks of an
    /// execution do not each bump the counts of the scenario's `Arc`s,
    /// which every worker thread shares (their cache lines would bounce
    /// between the workers' cores in every execution).
    users: Arc<[UserScript]>,
    removers: Arc<[RemoverScript]>,
    bindings: Bindings,
    inodes: Vec<Inode>,
    /// `None` only until the execution has made its gates.
    gates: Option<Gates>,
    /// Emptied open-file tables, for the users to take and give back.
    file_tables: Mutex<Vec<Vec<Option<OpenFile>>>>,
}

impl Shared {
    fn gates(&self) -> &Gates {
        self.gates
            .as_ref()
            .expect("the gates are made before any task is spawned")
    }
}

thread_local! {
    /// The shared state of this thread's last execution and its task list,
    /// emptied, for the next one: every execution of a scenario sets up the
    /// same tables again, and reusing them (with their capacity) spares
    /// their allocations. A task of the last execution that still holds the
    /// state (one left suspended) makes the next execution build its own.
    static SPARE: RefCell<(Option<Arc<Shared>>, Vec<Task>)> =
        const { RefCell::new((None, Vec::new())) };
}

/// The state for a new execution with `probe` and `devices` devices: the
/// spare one if no task of an earlier execution still holds it, else a new
/// one. Either way unshared, so the caller may fill it in.
fn fresh_shared(scripts: &Scripts, probe: Probe, devices: u32) -> Arc<Shared> {
    let spare = SPARE.with(|s| s.borrow_mut().0.take());
    if let Some(mut shared) = spare {
        if let Some(s) = Arc::get_mut(&mut shared) {
            if !Arc::ptr_eq(&s.users, &scripts.users) {
                s.users = Arc::clone(&scripts.users);
            }
            if !Arc::ptr_eq(&s.removers, &scripts.removers) {
                s.removers = Arc::clone(&scripts.removers);
            }
            s.bindings.probe = Some(probe);
            s.bindings
                .per_device
                .resize_with(devices as usize, || Mutex::new(Vec::new()));
            for list in &mut s.bindings.per_device {
                list.get_mut().unwrap_or_else(|e| e.into_inner()).clear();
            }
            s.inodes.clear();
            s.gates = None;
            return shared;
        }
    }
    Arc::new(Shared {
        users: Arc::clone(&scripts.users),
        removers: Arc::clone(&scripts.removers),
        bindings: Bindings {
            probe: Some(probe),
            per_device: (0..devices).map(|_| Mutex::new(Vec::new())).collect(),
        },
        inodes: Vec::with_capacity(devices as usize),
        gates: None,
        file_tables: Mutex::new(Vec::new()),
    })
}

/// Keep `shared` and the emptied `tasks` for the thread's next execution,
/// after dropping what the execution's drivers and files hold.
fn keep_spare(mut shared: Arc<Shared>, tasks: Vec<Task>) {
    if let Some(s) = Arc::get_mut(&mut shared) {
        s.bindings.probe = None;
        for list in &mut s.bindings.per_device {
            list.get_mut().unwrap_or_else(|e| e.into_inner()).clear();
        }
        s.inodes.clear();
        s.gates = None;
    }
    SPARE.with(|s| *s.borrow_mut() = (Some(shared), tasks));
}

fn run(probe: &dyn Fn(&Workload) -> Probe, wl: &Workload, scripts: &Scripts) {
    let users = &scripts.users;
    let removers = &scripts.removers;
    let mut shared = fresh_shared(scripts, probe(wl), wl.devices);
    let s = Arc::get_mut(&mut shared).expect("fresh_shared returns it unshared");
    for d in 0..wl.devices {
        s.bindings.bind(d, None);
    }
    // One device node (`/dev/memN`) per device: every user of a device
    // opens the same inode, and so shares its `i_cdev` cache.
    for d in 0..wl.devices {
        let driver = s.bindings.current(d).expect("every device was just bound");
        s.inodes.push(Inode::new(
            harness::names::indexed("/dev/mem", d),
            driver.devt(),
        ));
    }
    let uses = |g: Gate| {
        users.iter().any(|s| {
            s.ops.iter().any(|op| match op {
                UserOp::Open { after: Some(x), .. } | UserOp::Wait { until: x } => *x == g,
                _ => false,
            })
        })
    };
    s.gates = Some(Gates {
        opened: Completion::new_scaffolding("all_users_opened"),
        waiting_removers: removers
            .iter()
            .filter(|r| r.ops.contains(&RemoverOp::WaitOpens))
            .count(),
        remove_start: uses(Gate::RemoveStart).then(|| {
            (
                Completion::new_scaffolding("removal_started"),
                Mutex::new(false),
            )
        }),
        rebind: uses(Gate::Rebind).then(|| Completion::new_scaffolding("rebound")),
    });
    let waited_opens = users
        .iter()
        .filter(|s| {
            matches!(
                s.ops.iter().find(|op| matches!(op, UserOp::Open { .. })),
                Some(UserOp::Open { after: None, .. })
            )
        })
        .count();
    let mut tasks = SPARE.with(|s| std::mem::take(&mut s.borrow_mut().1));
    for u in 0..users.len() as u32 {
        let shared = Arc::clone(&shared);
        let devices = wl.devices;
        tasks.push(spawn_task(harness::names::indexed("user", u), move || {
            run_user(u, &shared.users[u as usize], devices, &shared)
        }));
    }
    let many = removers.len() > 1;
    for r in 0..removers.len() {
        let shared = Arc::clone(&shared);
        let devices = wl.devices;
        let name = if many {
            harness::names::indexed("remove", r as u32)
        } else {
            "remove"
        };
        tasks.push(spawn_task(name, move || {
            run_remover(
                &shared.removers[r],
                devices,
                waited_opens,
                &shared.bindings,
                shared.gates(),
            )
        }));
    }
    for t in tasks.drain(..) {
        t.join();
    }
    // rmmod: driver_unregister() unbinds every device a script left bound
    // (a rebind's binding), so what it allocated is freed, not leaked.
    for d in 0..wl.devices {
        shared.bindings.remove(d);
    }
    keep_spare(shared, tasks);
}

/// An open file and the binding whose fops it calls.
type OpenFile = (File, Arc<dyn Driver>);

fn run_user(user: u32, script: &UserScript, devices: u32, shared: &Shared) {
    let (inodes, bindings, gates) = (&shared.inodes, &shared.bindings, shared.gates());
    // One slot per `open` of the script: `None` once closed, or if the
    // open failed (the program got no descriptor, so what it would do
    // with one is skipped). The table of an earlier execution's user, if
    // one is spare.
    let mut files: Vec<Option<OpenFile>> = lock(&shared.file_tables).pop().unwrap_or_default();
    let mut signalled = false;
    let pick = |files: &[Option<OpenFile>], file: Option<usize>| match file {
        Some(f) => f,
        None => files
            .iter()
            .rposition(Option::is_some)
            .unwrap_or(files.len()),
    };
    for op in script.ops.iter() {
        match op {
            UserOp::Open {
                device,
                flags,
                after,
            } => {
                if let Some(g) = after {
                    gates.wait(*g);
                }
                let device = device.unwrap_or(user % devices);
                let mut chosen = None;
                let file = chrdev_open(
                    &inodes[device as usize],
                    flags.unwrap_or(O_RDWR),
                    user,
                    |file| {
                        let Some(driver) = bindings.of_file(device, file) else {
                            return Err(-harness::kernel::ENXIO);
                        };
                        let rc = driver.open(file);
                        chosen = Some(driver);
                        rc
                    },
                );
                if !signalled && after.is_none() {
                    for _ in 0..gates.waiting_removers {
                        complete(&gates.opened);
                    }
                }
                signalled = true;
                files.push(file.ok().zip(chosen));
            }
            UserOp::Ioctl { cmd, arg, file } => {
                if let Some(Some((f, d))) = files.get(pick(&files, *file)) {
                    d.ioctl(f, *cmd, *arg);
                    lockdep_sys_exit("ioctl");
                }
            }
            UserOp::Read { count, file } => {
                if let Some(Some((f, d))) = files.get(pick(&files, *file)) {
                    d.read(f, *count);
                    lockdep_sys_exit("read");
                }
            }
            UserOp::Write { count, file } => {
                if let Some(Some((f, d))) = files.get(pick(&files, *file)) {
                    d.write(f, *count);
                    lockdep_sys_exit("write");
                }
            }
            UserOp::Poll { file } => {
                if let Some(Some((f, d))) = files.get(pick(&files, *file)) {
                    d.poll(f);
                    lockdep_sys_exit("poll");
                }
            }
            UserOp::Wait { until } => gates.wait(*until),
            UserOp::Close { file } => {
                let i = pick(&files, *file);
                if let Some((f, d)) = files.get_mut(i).and_then(Option::take) {
                    __fput(f, |f| d.release(f));
                }
            }
        }
    }
    // exit_files(): the task's descriptors are closed as it exits.
    for (f, d) in files.drain(..).flatten() {
        __fput(f, |f| d.release(f));
    }
    lock(&shared.file_tables).push(files);
}

fn run_remover(
    script: &RemoverScript,
    devices: u32,
    waited_opens: usize,
    bindings: &Bindings,
    gates: &Gates,
) {
    for op in script.ops.iter() {
        match op {
            RemoverOp::WaitOpens => {
                for _ in 0..waited_opens {
                    wait_for_completion(&gates.opened);
                }
            }
            RemoverOp::Remove { device } => {
                if let Some((c, started)) = &gates.remove_start {
                    let first = !std::mem::replace(&mut *lock(started), true);
                    if first {
                        complete_all(c);
                    }
                }
                for d in device.map_or(0..devices, |d| d..d + 1) {
                    bindings.remove(d);
                }
            }
            RemoverOp::Rebind { device } => {
                for d in device.map_or(0..devices, |d| d..d + 1) {
                    let devt = bindings.current(d).map(|old| old.devt().clone());
                    bindings.bind(d, devt.as_ref());
                }
                if let Some(c) = &gates.rebind {
                    complete_all(c);
                }
            }
        }
    }
}

/// A workload's scripts, made once for all the executions of a scenario:
/// every execution runs the same ones, and the scripts the knobs generate
/// need not be generated again in each.
struct Scripts {
    users: Arc<[UserScript]>,
    removers: Arc<[RemoverScript]>,
}

/// The scenario body running `run` over `workload` and its scripts.
fn prepared(
    workload: Workload,
    run: impl Fn(&Workload, &Scripts) + Send + Sync + 'static,
) -> ScenarioFn {
    let scripts = Scripts {
        users: workload.users().into(),
        removers: workload.removers().into(),
    };
    Arc::new(move || run(&workload, &scripts))
}
