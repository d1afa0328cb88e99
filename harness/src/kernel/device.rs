//! The driver model: `struct device` with its reference count and release
//! callback, `kobj.state_in_sysfs` (what `device_is_registered()` reads), and
//! device-managed (devm) allocations freed when the driver is unbound.

use super::cdev::DevT;
use super::memory::{alloc_object, free_object, Object, Plain};
use super::refcount::{kref_get, kref_put, Kref};
use crate::trace::PrimId;
use crate::world::{step, step_with, LoomOp, PrimState};
use std::borrow::Cow;
use std::sync::Arc;

/// A `struct device` embedded in `owner` (e.g. `cxlmd->dev`).
#[derive(Clone)]
pub struct Device {
    name: Cow<'static, str>,
    kref: Kref,
    /// `dev->kobj.state_in_sysfs`: a plain bool, set by `device_add()` and
    /// cleared by `device_del()` (inside `cdev_device_del()`).
    pub state_in_sysfs: Plain<bool>,
    devres: PrimId,
    release: Arc<dyn Fn() + Send + Sync>,
    /// `dev->devt`: the device number of its character device, if any.
    devt: Arc<std::sync::Mutex<Option<DevT>>>,
}

impl Device {
    /// The device's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `dev->devt = devt` (e.g. `MKDEV(cxl_mem_major, cxlmd->id)`):
    /// `cdev_device_add()` adds a cdev only for a device with a number.
    pub fn set_devt(&self, devt: &DevT) {
        *self.devt.lock().unwrap_or_else(|e| e.into_inner()) = Some(devt.clone());
    }

    /// `dev->devt`.
    pub fn devt(&self) -> Option<DevT> {
        self.devt.lock().unwrap_or_else(|e| e.into_inner()).clone()
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
    let kref = Kref::new(format!("{name}.kobj.kref"), Some(owner));
    let state_in_sysfs = Plain::new(format!("{name}.kobj.state_in_sysfs"), Some(owner), false);
    let devres_name = format!("{name}.devres_head");
    let devres = step(|cx| {
        cx.w.add_prim(
            devres_name.into(),
            Some(owner.id()),
            PrimState::Devres(Vec::new()),
        )
    });
    Device {
        name,
        kref,
        state_in_sysfs,
        devres,
        release: Arc::new(release),
        devt: Arc::default(),
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
        match &mut cx.w.prim_mut(dev.devres).state {
            PrimState::Devres(list) => list.push(obj.id()),
            _ => unreachable!("devres handles always name devres lists"),
        }
        obj
    })
}

/// `device_release_driver(dev)`: runs the driver's `remove` callback, then
/// releases the device-managed resources, newest first (`devres_release_all`).
#[track_caller]
pub fn device_release_driver(dev: &Device, remove: impl FnOnce()) {
    remove();
    // devres_release_all(): one step per allocation, newest first.
    let mut more = true;
    while more {
        // Under loom the step is the free of the allocation it releases.
        let next = |w: &crate::world::World| match &w.prim(dev.devres).state {
            PrimState::Devres(list) => list.last().map_or(LoomOp::None, |&id| LoomOp::Free(id)),
            _ => unreachable!("devres handles always name devres lists"),
        };
        more = step_with(next, |cx| {
            let PrimState::Devres(list) = &mut cx.w.prim_mut(dev.devres).state else {
                unreachable!("devres handles always name devres lists")
            };
            let next = list.pop();
            let remaining = !list.is_empty();
            if let Some(id) = next {
                free_object(cx, Object::from_id(id), "devres_release_all: kfree");
            }
            remaining
        });
    }
}
