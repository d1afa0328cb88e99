//! The workload that drives a scheme: devices, users, removal.
//!
//! ```text
//!  init:    probe every device (cdev_device_add), make its device node,
//!           spawn tasks, join them
//!  userN:   chrdev_open() -> [driver open] -> ioctl() x k
//!           -> __fput(): [driver release] -> cdev_put()
//!  remove:  [wait until every user has opened, unless opens race removal]
//!           remove device 0, then device 1, ...
//! ```
//!
//! The VFS half is the kernel's (fs/char_dev.c, fs/file_table.c): an open
//! file holds a reference on the cdev from `chrdev_open()` to `__fput()`,
//! which drops it after the driver's `release`. An open that finds the
//! device number unmapped fails with `-ENXIO` and never reaches the driver.

use harness::engine::ScenarioFn;
use harness::kernel::{
    __fput, chrdev_open, complete, lockdep_sys_exit, spawn_task, wait_for_completion, Completion,
    DevT, Inode,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The workload knobs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    /// User tasks (each opens one device, round robin over the devices).
    pub users: u32,
    /// Ioctls each user issues on its open file.
    pub ioctls: u32,
    /// Whether opens may race `cdev_device_del()` (otherwise removal starts
    /// once every user holds an open file).
    pub open_races_del: bool,
    /// Devices, all sharing the scheme's global lock or SRCU domain.
    pub devices: u32,
    /// Bookkeeping steps removal performs per device before it starts
    /// tearing down (models the rest of a real remove path, and makes
    /// windows realistically long).
    pub remove_work: u32,
}

impl Default for Workload {
    fn default() -> Self {
        Workload {
            users: 2,
            ioctls: 1,
            open_races_del: false,
            devices: 1,
            remove_work: 0,
        }
    }
}

/// The most user tasks a workload may have (the model's task limit, less
/// the init and removal tasks).
pub const MAX_USERS: u32 = 12;
/// The most devices a workload may have.
pub const MAX_DEVICES: u32 = 4;

impl Workload {
    /// Check the knobs are within what the model supports.
    pub fn validate(&self) -> Result<(), String> {
        if self.users == 0 || self.users > MAX_USERS {
            return Err(format!(
                "users must be between 1 and {MAX_USERS}, got {}",
                self.users
            ));
        }
        if self.devices == 0 || self.devices > MAX_DEVICES {
            return Err(format!(
                "devices must be between 1 and {MAX_DEVICES}, got {}",
                self.devices
            ));
        }
        if self.ioctls == 0 || self.ioctls > 64 {
            return Err(format!(
                "ioctls must be between 1 and 64, got {}",
                self.ioctls
            ));
        }
        if self.remove_work > 64 {
            return Err(format!(
                "remove-work must be at most 64, got {}",
                self.remove_work
            ));
        }
        Ok(())
    }

    /// Command-line flags that reproduce this workload.
    pub fn flags(&self) -> String {
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

/// One probed device as the workload sees it: the driver's file operations
/// and its removal path.
pub trait Driver: Send + Sync + 'static {
    /// The device number of the character device users open (the workload
    /// makes one device node for it).
    fn devt(&self) -> &DevT;

    /// The driver's `fops->open`, called by `chrdev_open()` once it holds a
    /// reference on the cdev.
    fn open(&self) -> Result<(), i64> {
        Ok(())
    }

    /// The driver's `fops->unlocked_ioctl`.
    fn ioctl(&self) -> i64;

    /// The driver's `fops->release`, called by `__fput()` before it drops
    /// the file's reference on the cdev.
    fn release(&self) {}

    /// The whole removal of this device (`remove()` and everything the
    /// driver core does around it).
    fn remove(&self);
}

/// Build the scenario body for a scheme's `probe` and a workload.
///
/// `probe` runs in the init task and returns one driver per device, sharing
/// whatever global lock or SRCU domain the scheme declares.
pub fn scenario(probe: fn(&Workload) -> Vec<Arc<dyn Driver>>, workload: Workload) -> ScenarioFn {
    Arc::new(move || run(probe, &workload))
}

fn run(probe: fn(&Workload) -> Vec<Arc<dyn Driver>>, wl: &Workload) {
    let drivers = probe(wl);
    // One device node (`/dev/memN`) per device: every user of a device
    // opens the same inode, and so shares its `i_cdev` cache.
    let inodes: Vec<Inode> = drivers
        .iter()
        .enumerate()
        .map(|(i, d)| Inode::new(format!("/dev/mem{i}"), d.devt()))
        .collect();
    let opened = Completion::new_scaffolding("all_users_opened");
    let mut tasks = Vec::new();
    for u in 0..wl.users {
        let driver = Arc::clone(&drivers[u as usize % drivers.len()]);
        let inode = inodes[u as usize % inodes.len()].clone();
        let ioctls = wl.ioctls;
        let signal_open = !wl.open_races_del;
        tasks.push(spawn_task(format!("user{u}"), move || {
            let file = chrdev_open(&inode, |_| driver.open());
            if signal_open {
                complete(&opened);
            }
            if let Ok(file) = file {
                for _ in 0..ioctls {
                    driver.ioctl();
                    lockdep_sys_exit("ioctl");
                }
                __fput(file, |_| driver.release());
            }
        }));
    }
    let users = wl.users;
    let wait_for_opens = !wl.open_races_del;
    tasks.push(spawn_task("remove", move || {
        if wait_for_opens {
            for _ in 0..users {
                wait_for_completion(&opened);
            }
        }
        for d in &drivers {
            d.remove();
        }
    }));
    for t in tasks {
        t.join();
    }
}
