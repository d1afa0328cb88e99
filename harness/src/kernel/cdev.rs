//! Character devices as fs/char_dev.c and fs/file_table.c have them: the
//! `struct cdev` with its own kobject, the `cdev_map` from device numbers to
//! cdevs, the inode of a device node with its `i_cdev` cache, `chrdev_open()`
//! and `__fput()`.
//!
//! What keeps what alive:
//!
//! * `cdev_init()` gives the cdev's kobject a count of 1 (dropped by
//!   `cdev_del()`); its release, `cdev_default_release()`, forgets the cdev
//!   in every inode that cached it (`cdev_purge()`) and then drops the
//!   parent (`kobject_put(kobj->parent)`).
//! * `cdev_add()` maps the device number and takes a reference on the
//!   parent, if `cdev_set_parent()` named one. `cdev_device_add()` does both
//!   with the device's kobject as the parent: the `struct device` (and what
//!   embeds it) then outlives every reference to the cdev.
//! * `chrdev_open()` takes a reference on the cdev (`cdev_get()`), either
//!   through the inode's cached `i_cdev` or by looking the device number up
//!   in `cdev_map`; the open file holds it until `__fput()` drops it after
//!   the driver's `release`. An unmapped device number fails the open with
//!   `-ENXIO` without touching the driver's memory. An inode that still
//!   caches the cdev (another file holds it) opens it even after
//!   `cdev_del()`: only the count reaching zero stops that.
//!
//! `cdev_lock` (guarding `i_cdev` and `cdev->list`) and `chrdevs_lock`
//! (guarding `cdev_map`) are spinlocks whose critical sections are folded
//! into single steps: an acquire and a release of the lock's clock around
//! the section, and under loom an acquire-release read-modify-write of the
//! lock's word (and of the cdev's count, when the section takes a reference
//! on it). The model keeps one `cdev_lock` word per device node: the lock
//! only guards the node's `i_cdev` and the list of the cdev the node maps
//! to, so per-node locks order every pair of sections the global one does.

use super::device::{self, Device};
use super::memory::{CellState, Object};
use super::refcount::{inc_not_zero, kref_put, Kref};
use crate::runtime::Ordering as MemOrder;
use crate::trace::{Target, Value};
use crate::world::{step, step_with, with_world, Host, LoomOp, Op, Prim, PrimitiveState};
use std::any::Any;
use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

/// `-ENXIO`: what `open()` of a deleted character device returns.
pub const ENXIO: i64 = 6;

/// Lock a file's private data. Steps run one at a time, so the lock is
/// never contended; a poisoned lock only means another task panicked, and
/// its state is still the model's.
fn host<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The host side of a `cdev_map` entry: the cdev mapped at a number, if any
/// (`kobj_map()` holds no reference on it: `cdev_del()` must unmap before
/// dropping its own).
#[derive(Default)]
pub(crate) struct Mapped(Option<Cdev>);

/// The host side of a `struct cdev`: its parent, number and the inodes
/// caching it.
#[derive(Default)]
pub(crate) struct CdevHost {
    /// `cdev->kobj.parent`, set by `cdev_set_parent()`.
    parent: Option<Device>,
    /// `cdev->dev`: the device number `cdev_add()` mapped.
    devt: Option<DevT>,
    /// `cdev->list`: the inodes whose `i_cdev` caches this cdev.
    list: Vec<Inode>,
}

/// The host side of an inode: `inode->i_cdev` (holds no reference by
/// itself: `cdev_purge()` clears it before the cdev can go away).
#[derive(Default)]
pub(crate) struct InodeHost(Option<Cdev>);

impl fmt::Debug for Mapped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mapped({})", self.0.is_some())
    }
}

impl fmt::Debug for CdevHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CdevHost")
            .field("parent", &self.parent.as_ref().map(Device::name))
            .field("inodes", &self.list.len())
            .finish()
    }
}

impl fmt::Debug for InodeHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InodeHost({})", self.0.is_some())
    }
}

impl PrimitiveState for Mapped {}

impl PrimitiveState for CdevHost {
    // An open caches the cdev in its inode in every execution: keep the
    // list's buffer.
    fn renew(&mut self, mut new: Self) {
        crate::world::keep_capacity(&mut self.list, &mut new.list);
        *self = new;
    }
}

impl PrimitiveState for InodeHost {}

/// A device number (`dev_t`, from `alloc_chrdev_region()`) and its entry in
/// `cdev_map`. It lives outside every driver object: looking it up after
/// the driver freed its memory touches nothing of the driver's.
#[derive(Clone)]
pub struct DevT {
    /// The `cdev_map` entry, guarded by `chrdevs_lock`.
    map: Prim<CellState>,
    /// The cdev mapped at this number, if any.
    mapped: Host<Mapped>,
}

impl DevT {
    /// The cdev `cdev_map` has at this number now, if any (host-side, for
    /// a workload to tell which binding of a device a file was opened on).
    pub fn mapped_cdev(&self) -> Option<Cdev> {
        let mapped = self.mapped;
        with_world(|w| w.host(mapped).0.clone())
    }
}

/// `alloc_chrdev_region(&devt, 0, 1, name)`: a free device number, mapped to
/// nothing yet.
#[track_caller]
pub fn alloc_chrdev_region(name: impl Into<Cow<'static, str>>) -> DevT {
    let name = name.into();
    step(|cx| DevT {
        map: cx.add_prim(
            crate::names::wrapped("cdev_map[", &name, "]"),
            None,
            CellState::new_bool(false),
        ),
        mapped: cx.w.add_host(Mapped::default()),
    })
}

/// A `struct cdev` embedded in a driver object.
#[derive(Clone)]
pub struct Cdev {
    /// `cdev->kobj`'s count, embedded in the owner's memory.
    kobj: Kref,
    /// The embedding object (`cdev->list` is part of it).
    owner: Object,
    /// Its parent, number and inode list.
    host: Host<CdevHost>,
}

impl Cdev {
    /// `cdev_init(&cxlmd->cdev, fops)` for a cdev embedded in `owner`: its
    /// kobject's count is 1 and its release is `cdev_default_release()`.
    #[track_caller]
    pub fn new(name: impl Into<Cow<'static, str>>, owner: Object) -> Self {
        let name = name.into();
        let kobj = Kref::new(crate::names::child_of(&name, ".kobj.kref"), Some(owner));
        let host = with_world(|w| w.add_host(CdevHost::default()));
        Cdev { kobj, owner, host }
    }

    /// The device `cdev_set_parent()` made the parent, if any.
    pub fn parent(&self) -> Option<Device> {
        let host = self.host;
        with_world(|w| w.host(host).parent.clone())
    }

    fn kobj(&self) -> &Kref {
        &self.kobj
    }
}

/// `cdev_set_parent(cdev, &dev->kobj)`: the cdev's kobject will hold a
/// reference on the device from `cdev_add()` until its own release.
pub fn cdev_set_parent(cdev: &Cdev, dev: &Device) {
    let host = cdev.host;
    with_world(|w| w.host_mut(host).parent = Some(dev.clone()));
}

/// A critical section of a spinlock modelled by cell `lock`, as one step:
/// acquire the lock's clock, run `f`, release into it.
fn locked<R>(cx: &mut Op<'_>, lock: Prim<CellState>, f: impl FnOnce(&mut Op<'_>) -> R) -> R {
    let mut clock = cx.state(lock).clock;
    cx.acquire(&clock);
    let r = f(cx);
    cx.release(&mut clock);
    cx.state(lock).clock = clock;
    r
}

/// Set the display value of a model-internal cell (what traces show).
fn set_cell(cx: &mut Op<'_>, id: Prim<CellState>, v: bool) {
    cx.state(id).raw = v as u64;
}

/// The loom operation of a section under `lock` that may also take a
/// reference on `cdev`'s kobject.
fn lock_op(lock: Prim<CellState>, cdev: Option<&Cdev>) -> LoomOp {
    match cdev {
        Some(c) => LoomOp::PrimPair(lock.into(), c.kobj().id().into(), MemOrder::AcqRel),
        None => LoomOp::Prim(lock.into(), MemOrder::AcqRel),
    }
}

/// `cdev_add(cdev, devt, 1)`: `kobj_map()` makes the number open this cdev
/// (under `chrdevs_lock`), then `kobject_get(cdev->kobj.parent)`.
#[track_caller]
pub fn cdev_add(cdev: &Cdev, devt: &DevT) {
    let host = cdev.host;
    with_world(|w| w.host_mut(host).devt = Some(devt.clone()));
    step_with(
        |_| LoomOp::Prim(devt.map.into(), MemOrder::AcqRel),
        |cx| {
            cx.record("cdev_add", Target::Prim(devt.map.into()), None);
            locked(cx, devt.map, |cx| set_cell(cx, devt.map, true));
            cx.w.host_mut(devt.mapped).0 = Some(cdev.clone());
        },
    );
    if let Some(parent) = cdev.parent() {
        device::kobject_get(&parent);
    }
}

/// `cdev_del(cdev)`: `cdev_unmap()` (no new open finds the cdev in
/// `cdev_map`), then `kobject_put(&cdev->kobj)`. Files already open keep
/// their references, and an inode that caches the cdev still opens it.
#[track_caller]
pub fn cdev_del(cdev: &Cdev) {
    let host = cdev.host;
    let devt = with_world(|w| w.host(host).devt.clone());
    if let Some(devt) = devt {
        step_with(
            |_| LoomOp::Prim(devt.map.into(), MemOrder::AcqRel),
            |cx| {
                cx.record("cdev_del: cdev_unmap", Target::Prim(devt.map.into()), None);
                locked(cx, devt.map, |cx| set_cell(cx, devt.map, false));
                cx.w.host_mut(devt.mapped).0 = None;
            },
        );
    }
    cdev_put(cdev);
}

/// `cdev_put(p)`: `kobject_put(&p->kobj)`; the last reference runs
/// `cdev_default_release()`.
#[track_caller]
fn cdev_put(cdev: &Cdev) {
    kref_put(cdev.kobj(), || cdev_default_release(cdev));
}

/// `cdev_default_release()`: `cdev_purge()` — under `cdev_lock`, every inode
/// caching the cdev forgets it — then `kobject_put(kobj->parent)`, which may
/// free the device and the memory embedding both.
#[track_caller]
fn cdev_default_release(cdev: &Cdev) {
    // The whole list is taken first: an open that caches the cdev again
    // while the purge runs adds to a list of its own.
    let host = cdev.host;
    let mut inodes = with_world(|w| std::mem::take(&mut w.host_mut(host).list));
    for inode in inodes.drain(..) {
        step_with(
            |_| lock_op(inode.lock, Some(cdev)),
            |cx| {
                let e = cx.record(
                    "cdev_purge: inode->i_cdev = NULL",
                    Target::Prim(inode.lock.into()),
                    None,
                );
                // cdev->list lives in the cdev.
                if !cx.check_owner(Some(cdev.owner.id()), e) {
                    return;
                }
                locked(cx, inode.lock, |cx| {
                    set_cell(cx, inode.lock, false);
                    cx.w.host_mut(inode.i_cdev).0 = None;
                });
            },
        );
    }
    // Hand the (now empty) buffer back for the next execution to reuse,
    // unless an open made a new list meanwhile.
    with_world(|w| {
        let list = &mut w.host_mut(host).list;
        if list.is_empty() {
            *list = inodes;
        }
    });
    if let Some(parent) = cdev.parent() {
        device::kobject_put(&parent);
    }
}

/// `cdev_device_add(cdev, dev)`: `cdev_set_parent(cdev, &dev->kobj)` and
/// `cdev_add(cdev, dev->devt, 1)`, *then* `device_add(dev)` (which sets
/// `kobj.state_in_sysfs`). Userspace may open the cdev before the device is
/// registered.
#[track_caller]
pub fn cdev_device_add(cdev: &Cdev, dev: &Device) {
    if let Some(devt) = dev.devt() {
        cdev_set_parent(cdev, dev);
        cdev_add(cdev, &devt);
    }
    device::device_add_in(dev, "cdev_device_add() =");
}

/// `cdev_device_del(cdev, dev)`: `device_del(dev)` (clears
/// `kobj.state_in_sysfs` with a plain store, as `kobject_del()` does),
/// *then* `cdev_del(cdev)`. An open may still succeed in between, with
/// `device_is_registered()` already false.
#[track_caller]
pub fn cdev_device_del(cdev: &Cdev, dev: &Device) {
    device::device_del_in(dev, "cdev_device_del() =");
    if dev.devt().is_some() {
        cdev_del(cdev);
    }
}

/// The inode of a device node (`/dev/mem0`, `init_special_inode()` with
/// `i_rdev`): it outlives every driver object, and caches in `i_cdev` the
/// cdev its first successful open found.
#[derive(Clone)]
pub struct Inode {
    /// `cdev_lock` for this node's `i_cdev` (see the module comment).
    lock: Prim<CellState>,
    /// `inode->i_rdev`.
    i_rdev: DevT,
    /// `inode->i_cdev`.
    i_cdev: Host<InodeHost>,
}

impl Inode {
    /// `init_special_inode(inode, S_IFCHR, devt)`: the device node for
    /// `devt`, caching no cdev yet.
    #[track_caller]
    pub fn new(name: impl Into<Cow<'static, str>>, devt: &DevT) -> Self {
        let name = name.into();
        let name = crate::names::child_of(&name, "->i_cdev");
        step(|cx| Inode {
            lock: cx.add_prim(name, None, CellState::new_bool(false)),
            i_rdev: devt.clone(),
            i_cdev: cx.w.add_host(InodeHost::default()),
        })
    }

    /// The cdev `inode->i_cdev` caches (what `file_inode(file)->i_cdev`
    /// gives an ioctl).
    pub fn i_cdev(&self) -> Option<Cdev> {
        let i_cdev = self.i_cdev;
        with_world(|w| w.host(i_cdev).0.clone())
    }
}

/// `O_RDWR`: the access mode of an `open(2)` that may read and write.
pub const O_RDWR: u32 = 2;

/// An open `struct file` on a character device: it holds a reference on
/// the cdev until [`__fput`].
///
/// Like the kernel's, it carries the driver's per-file context:
/// `file->private_data`, which the driver's `open` usually sets (to the
/// device state it took a reference on, or to a per-open context) and
/// every later file operation of this file reads back. One task owns an
/// open file in the model, so the field needs no ordering of its own: it is
/// the file's, not shared memory.
pub struct File {
    inode: Inode,
    /// The cdev `chrdev_open()` took its reference on (`inode->i_cdev` at
    /// open time; it cannot change while this file holds it).
    cdev: Cdev,
    /// `file->f_flags`: the flags `open(2)` was given.
    f_flags: u32,
    /// The index of the user task that opened the file.
    user: u32,
    /// `file->private_data`.
    private_data: Mutex<Option<Arc<dyn Any + Send + Sync>>>,
}

impl File {
    /// `file_inode(file)`.
    pub fn inode(&self) -> &Inode {
        &self.inode
    }

    /// `file->f_flags`.
    pub fn f_flags(&self) -> u32 {
        self.f_flags
    }

    /// The index of the user task that opened this file (the workload's
    /// `userN`).
    pub fn user(&self) -> u32 {
        self.user
    }

    /// Whether this file was opened on `cdev` (what `container_of(inode->i_cdev, …)`
    /// in the driver's `open` resolves to).
    pub fn is_on(&self, cdev: &Cdev) -> bool {
        self.cdev.host == cdev.host
    }

    /// `file->private_data = data`.
    pub fn set_private_data<T: Any + Send + Sync>(&self, data: Arc<T>) {
        *host(&self.private_data) = Some(data);
    }

    /// `file->private_data`, if it was set to a `T` (`None` if it was never
    /// set or holds another type: the kernel's `void *` would be a bad cast).
    pub fn private_data<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        host(&self.private_data)
            .clone()
            .and_then(|d| d.downcast::<T>().ok())
    }

    /// `file->private_data = NULL`, handing back what it held.
    pub fn take_private_data<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        host(&self.private_data)
            .take()
            .and_then(|d| d.downcast::<T>().ok())
    }
}

/// `chrdev_open(inode, filp)`: take a reference on the cdev — the one the
/// inode caches (`cdev_get()` under `cdev_lock`, failing once its count
/// reached zero), or the one `cdev_map` has at `i_rdev` (`kobj_lookup()`,
/// `-ENXIO` if none), installing it in `i_cdev` unless another open beat us
/// to it — then run the driver's `open` (`fops->open`); if that fails, drop
/// the reference again. On success the returned file holds the reference.
#[track_caller]
pub fn chrdev_open(
    inode: &Inode,
    f_flags: u32,
    user: u32,
    fops_open: impl FnOnce(&File) -> Result<(), i64>,
) -> Result<File, i64> {
    let lock = inode.lock;
    // spin_lock(&cdev_lock); p = inode->i_cdev; if (p) cdev_get(p);
    let cached = step_with(
        |w| lock_op(lock, w.host(inode.i_cdev).0.as_ref()),
        |cx| {
            let p = cx.w.host(inode.i_cdev).0.clone();
            cx.record(
                "chrdev_open: inode->i_cdev",
                Target::Prim(lock.into()),
                Some(Value::Bool(p.is_some())),
            );
            locked(cx, lock, |cx| {
                p.map(|p| {
                    let ok = cdev_get_in(cx, &p);
                    (p, ok)
                })
            })
        },
    );
    let p = match cached {
        Some((p, true)) => p,
        Some((_, false)) => return Err(-ENXIO),
        None => {
            // kobj_lookup(cdev_map, inode->i_rdev): under chrdevs_lock, the
            // mapped cdev with a reference from exact_lock() → cdev_get().
            let devt = &inode.i_rdev;
            let new = step_with(
                |w| lock_op(devt.map, w.host(devt.mapped).0.as_ref()),
                |cx| {
                    let mapped = cx.w.host(devt.mapped).0.clone();
                    cx.record(
                        "chrdev_open: kobj_lookup",
                        Target::Prim(devt.map.into()),
                        Some(Value::Bool(mapped.is_some())),
                    );
                    locked(cx, devt.map, |cx| {
                        let new = mapped?;
                        cdev_get_in(cx, &new).then_some(new)
                    })
                },
            );
            let Some(new) = new else {
                return Err(-ENXIO);
            };
            // spin_lock(&cdev_lock): install `new` unless another open did;
            // then take a reference on whatever the inode caches.
            let (p, ok, drop_new) = step_with(
                |_| lock_op(lock, Some(&new)),
                |cx| {
                    cx.record(
                        "chrdev_open: inode->i_cdev = new",
                        Target::Prim(lock.into()),
                        None,
                    );
                    locked(cx, lock, |cx| {
                        let cached = cx.w.host(inode.i_cdev).0.clone();
                        match cached {
                            None => {
                                cx.w.host_mut(inode.i_cdev).0 = Some(new.clone());
                                cx.w.host_mut(new.host).list.push(inode.clone());
                                set_cell(cx, lock, true);
                                (new.clone(), true, false)
                            }
                            Some(p) => {
                                let ok = cdev_get_in(cx, &p);
                                (p, ok, true)
                            }
                        }
                    })
                },
            );
            if drop_new {
                cdev_put(&new);
            }
            if !ok {
                return Err(-ENXIO);
            }
            p
        }
    };
    let file = File {
        inode: inode.clone(),
        cdev: p.clone(),
        f_flags,
        user,
        private_data: Mutex::new(None),
    };
    let opened = fops_open(&file);
    // The driver's open is done: nothing it took may outlive the syscall.
    crate::world::sys_exit("open", crate::trace::Site::caller());
    if let Err(rc) = opened {
        cdev_put(&p);
        return Err(rc);
    }
    Ok(file)
}

/// `cdev_get(p)`: `try_module_get(p->owner)` (the module is never unloaded
/// in the model) and `kobject_get_unless_zero(&p->kobj)`, inside a step
/// already holding the relevant lock.
fn cdev_get_in(cx: &mut Op<'_>, p: &Cdev) -> bool {
    inc_not_zero(cx, p.kobj(), "cdev_get: kobject_get_unless_zero")
}

/// `__fput(file)` of the last reference to an open character device: the
/// driver's `release` (`fops->release`), then `cdev_put(inode->i_cdev)`.
/// The inode still caches the cdev: the file's reference kept
/// `cdev_purge()` from running.
#[track_caller]
pub fn __fput(file: File, fops_release: impl FnOnce(&File)) {
    fops_release(&file);
    // __fput() runs as task work on the way back to user space from
    // close(): the driver's release must not leave a lock held.
    crate::world::sys_exit("close", crate::trace::Site::caller());
    if let Some(p) = file.inode.i_cdev() {
        cdev_put(&p);
    }
}

impl CellState {
    /// A bool cell's initial state (for the model's lock cells).
    pub(crate) fn new_bool(v: bool) -> Self {
        CellState::new(v as u64, <bool as super::memory::CellValue>::display)
    }
}
