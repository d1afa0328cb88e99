//! The driver model: `struct device` with its reference count and release
//! callback, `kobj.state_in_sysfs` (what `device_is_registered()` reads), and
//! device-managed (devm) allocations and actions released when the driver is
//! unbound, and the device lock (`device_lock()`) that
//! `device_release_driver()` holds around the driver's `remove`.

use super::cdev::DevT;
use super::memory::{alloc_object, free_object, Object, Plain};
use super::mutex::{mutex_lock, mutex_unlock, Mutex};
use super::refcount::{kref_get, kref_put, Kref};
use crate::names::child_of;
use crate::trace::{ObjectId, Target};
use crate::world::{
    keep_capacity, step, step_with, with_world, Host, LoomOp, Prim, PrimitiveState,
};
use std::borrow::Cow;
use std::sync::Arc;

/// A devres action (`devm_add_action()`), run once at unbind.
type DevresAction = Box<dyn FnOnce() + Send>;

/// One entry of a device's devres list, released newest first.
#[derive(Clone, Copy, Debug)]
pub(crate) enum DevresEntry {
    /// A `devm_kzalloc()` allocation: freed.
    Alloc(ObjectId),
    /// A `devm_add_action()` action: the index of its closure in the
    /// device's action table.
    Action(usize),
}

/// A device's devres list (`dev->devres_head`): the devm allocations and
/// actions to release on unbind, oldest first.
impl PrimitiveState for Vec<DevresEntry> {
    fn renew(&mut self, mut new: Self) {
        keep_capacity(self, &mut new);
        *self = new;
    }
}

/// The host side of a `struct device`: what the model keeps besides its
/// primitives, in the world for the execution (see [`Host`]).
#[derive(Default)]
pub(crate) struct DeviceHost {
    /// The closures of the devres actions, by [`DevresEntry::Action`] index
    /// (taken when run).
    actions: Vec<Option<DevresAction>>,
    /// `dev->devt`: the device number of its character device, if any.
    devt: Option<DevT>,
}

impl std::fmt::Debug for DeviceHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceHost")
            .field("actions", &self.actions.len())
            .field("devt", &self.devt.is_some())
            .finish()
    }
}

impl PrimitiveState for DeviceHost {
    fn renew(&mut self, mut new: Self) {
        keep_capacity(&mut self.actions, &mut new.actions);
        *self = new;
    }
}

/// A `struct device` embedded in `owner` (e.g. `cxlmd->dev`).
#[derive(Clone)]
pub struct Device {
    name: Cow<'static, str>,
    kref: Kref,
    /// `dev->kobj.state_in_sysfs`: a plain bool, set by `device_add()` and
    /// cleared by `device_del()` (inside `cdev_device_del()`).
    pub state_in_sysfs: Plain<bool>,
    devres: Prim<Vec<DevresEntry>>,
    /// The devres actions and `dev->devt`: model bookkeeping outside the
    /// primitives, touched only inside steps or between scheduling points.
    host: Host<DeviceHost>,
    /// `dev->mutex`, taken by `device_lock()`.
    mutex: Mutex,
    release: Arc<dyn Fn() + Send + Sync>,
}

impl Device {
    /// The device's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `dev->devt = devt` (e.g. `MKDEV(cxl_mem_major, cxlmd->id)`):
    /// `cdev_device_add()` adds a cdev only for a device with a number.
    pub fn set_devt(&self, devt: &DevT) {
        let host = self.host;
        with_world(|w| w.host_mut(host).devt = Some(devt.clone()));
    }

    /// `dev->devt`.
    pub fn devt(&self) -> Option<DevT> {
        let host = self.host;
        with_world(|w| w.host(host).devt.clone())
    }
}

/// `device_initialize(dev)` with `dev->release = release`: reference count 1,
/// not registered.
#[track_caller]
pub fn device_initialize(
    name: impl Into<Cow<'static, str>>,
    owner: Object,
    release: impl Fn() + Send + Sync + 'static,
) -> Device {
    let name = name.into();
    let kref = Kref::new(child_of(&name, ".kobj.kref"), Some(owner));
    let state_in_sysfs = Plain::new(child_of(&name, ".kobj.state_in_sysfs"), Some(owner), false);
    let devres_name = child_of(&name, ".devres_head");
    let mutex_name = child_of(&name, ".mutex");
    let (devres, mutex, host) = step(|cx| {
        let devres = cx.add_prim(devres_name, Some(owner.id()), Vec::new());
        let mutex = Mutex::create(cx, mutex_name, Some(owner));
        (devres, mutex, cx.w.add_host(DeviceHost::default()))
    });
    Device {
        name,
        kref,
        state_in_sysfs,
        devres,
        host,
        mutex,
        release: Arc::new(release),
    }
}

/// `get_device(dev)`.
#[track_caller]
pub fn get_device(dev: &Device) {
    kref_get(&dev.kref);
}

/// `put_device(dev)`: the last reference runs the release callback.
#[track_caller]
pub fn put_device(dev: &Device) {
    kref_put(&dev.kref, || (dev.release)());
}

/// `kobject_get(&dev->kobj)`: what `cdev_add()` takes on its parent.
#[track_caller]
pub(crate) fn kobject_get(dev: &Device) {
    kref_get(&dev.kref);
}

/// `kobject_put(&dev->kobj)`: what `cdev_default_release()` drops on its
/// parent; the last reference runs the device's release.
#[track_caller]
pub(crate) fn kobject_put(dev: &Device) {
    kref_put(&dev.kref, || (dev.release)());
}

/// `device_add(dev)`: registers the device in sysfs, `kobj.state_in_sysfs =
/// true` (a plain store, as `kobject_add()` makes it).
#[track_caller]
pub fn device_add(dev: &Device) {
    device_add_in(dev, "device_add() =");
}

/// `device_del(dev)`: unregisters the device, `kobj.state_in_sysfs =
/// false` (a plain store in `kobject_del()`). Its references stay.
#[track_caller]
pub fn device_del(dev: &Device) {
    device_del_in(dev, "device_del() =");
}

/// [`device_add`] as part of the kernel helper `op`.
#[track_caller]
pub(crate) fn device_add_in(dev: &Device, op: &'static str) {
    dev.state_in_sysfs.write_in(op, true);
}

/// [`device_del`] as part of the kernel helper `op`.
#[track_caller]
pub(crate) fn device_del_in(dev: &Device, op: &'static str) {
    dev.state_in_sysfs.write_in(op, false);
}

/// `device_is_registered(dev)`: a plain read of `kobj.state_in_sysfs`.
#[track_caller]
pub fn device_is_registered(dev: &Device) -> bool {
    dev.state_in_sysfs.read_in("device_is_registered() ==")
}

/// `devm_kzalloc(dev, …)`: an allocation freed when the driver unbinds.
#[track_caller]
pub fn devm_kzalloc(dev: &Device, name: impl Into<Cow<'static, str>>) -> Object {
    let name = name.into();
    step(|cx| {
        let obj = alloc_object(cx, name);
        cx.state(dev.devres).push(DevresEntry::Alloc(obj.id()));
        obj
    })
}

/// `device_lock(dev)`: take `dev->mutex` (include/linux/device.h), which
/// the driver core holds across probe and remove; a mutex (acquire).
#[track_caller]
pub fn device_lock(dev: &Device) {
    mutex_lock(&dev.mutex);
}

/// `device_unlock(dev)`: release `dev->mutex` (a release).
#[track_caller]
pub fn device_unlock(dev: &Device) {
    mutex_unlock(&dev.mutex);
}

/// `devm_add_action_or_reset(dev, action, data)`: register `action` to run
/// when the driver unbinds, in reverse order of registration together with
/// the devm allocations (drivers/base/devres.c: `devm_add_action()`,
/// `devres_release_all()`). If the devres node cannot be allocated the
/// kernel runs the action at once and returns `-ENOMEM`; allocations never
/// fail in the model, so it registers the action and returns 0.
#[track_caller]
pub fn devm_add_action_or_reset(dev: &Device, action: impl FnOnce() + Send + 'static) -> i32 {
    step(|cx| {
        let e = cx.record(
            "devm_add_action_or_reset",
            Target::Prim(dev.devres.into()),
            None,
        );
        let owner = cx.w.prim(dev.devres).owner;
        cx.check_owner(owner, e);
        let table = &mut cx.w.host_mut(dev.host).actions;
        table.push(Some(Box::new(action)));
        let index = table.len() - 1;
        cx.state(dev.devres).push(DevresEntry::Action(index));
    });
    0
}

/// `device_release_driver(dev)`: unbind the driver as
/// `device_release_driver_internal()` in drivers/base/dd.c does: take
/// `device_lock(dev)`, run the driver's `remove` callback, release the
/// device-managed resources newest first (`devres_release_all()`: frees and
/// actions alike), then `device_unlock(dev)`.
#[track_caller]
pub fn device_release_driver(dev: &Device, remove: impl FnOnce()) {
    device_lock(dev);
    remove();
    // devres_release_all(): one step per entry, newest first.
    let mut more = true;
    while more {
        // Under loom the step is the free of the allocation it releases.
        let next = |w: &crate::world::World| match w.state(dev.devres).last() {
            Some(DevresEntry::Alloc(id)) => LoomOp::Free(*id),
            _ => LoomOp::None,
        };
        let (action, remaining) = step_with(next, |cx| {
            let list = cx.state(dev.devres);
            let entry = list.pop();
            let remaining = !list.is_empty();
            let action = match entry {
                None => None,
                Some(DevresEntry::Alloc(id)) => {
                    free_object(cx, Object::from_id(id), "devres_release_all: kfree");
                    None
                }
                Some(DevresEntry::Action(index)) => {
                    let e = cx.record_minor(
                        "devres_release_all: action",
                        Target::Prim(dev.devres.into()),
                        None,
                    );
                    let table = &mut cx.w.host_mut(dev.host).actions;
                    table.get_mut(index).and_then(Option::take).map(|a| (a, e))
                }
            };
            (action, remaining)
        });
        // The action runs after the step, as operations of its own, each
        // naming the devres release that ran it.
        if let Some((action, e)) = action {
            crate::world::callback(e, action);
        }
        more = remaining;
    }
    device_unlock(dev);
}
