//! Character devices: `cdev_device_add()` / `cdev_device_del()` and the VFS
//! side of `open()`.
//!
//! `cdev_device_del()` stops *new* opens (they fail with `-ENXIO`) and
//! unregisters the device, clearing `kobj.state_in_sysfs` with a plain store
//! as `kobject_del()` does. Files already open are untouched: their ioctls
//! may still run, concurrently with everything removal does next.

use super::device::Device;
use super::memory::Object;
use crate::runtime::Ordering as MemOrder;
use crate::trace::{PrimId, Target, Value};
use crate::world::{step, step_on, PrimState};
use std::borrow::Cow;

/// `-ENXIO`: what `open()` of a deleted character device returns.
pub const ENXIO: i64 = 6;

/// A `struct cdev` embedded in `owner`, bound to a device.
#[derive(Clone)]
pub struct Cdev {
    /// Models the char-device map entry and its lock (`cdev_lock`,
    /// `chrdevs_lock`): a cell whose accesses are all ordered by that lock.
    live: PrimId,
    dev: Device,
}

impl Cdev {
    /// `cdev_init(&cxlmd->cdev, fops)` for `dev`, embedded in `owner`.
    #[track_caller]
    pub fn new(name: impl Into<Cow<'static, str>>, owner: Object, dev: &Device) -> Self {
        let name = name.into();
        let live = step(|cx| {
            cx.w.add_prim(
                name,
                Some(owner.id()),
                PrimState::Cell(crate::kernel::memory::CellState::new_bool(false)),
            )
        });
        Cdev {
            live,
            dev: dev.clone(),
        }
    }

    /// The device this cdev belongs to.
    pub fn device(&self) -> &Device {
        &self.dev
    }
}

/// Set or test the cdev's map entry under the map lock (the lock is the
/// model's own: a clock acquired and released around the access; under
/// loom, an acquire-release read-modify-write of the cdev's word).
#[track_caller]
fn map_op(cdev: &Cdev, op: &'static str, set: Option<bool>) -> bool {
    step_on(cdev.live, MemOrder::AcqRel, |cx| {
        let (was, mut clock) = match &cx.w.prim(cdev.live).state {
            PrimState::Cell(c) => (c.raw != 0, c.clock),
            _ => unreachable!("cdev handles always name cells"),
        };
        let e = cx.record(
            op,
            Target::Prim(cdev.live),
            set.is_none().then_some(Value::Bool(was)),
        );
        let owner = cx.w.prim(cdev.live).owner;
        if !cx.check_owner(owner, e) {
            return false;
        }
        cx.acquire(&clock);
        cx.release(&mut clock);
        if let PrimState::Cell(c) = &mut cx.w.prim_mut(cdev.live).state {
            c.clock = clock;
            if let Some(v) = set {
                c.raw = v as u64;
            }
        }
        was
    })
}

/// `cdev_device_add(cdev, dev)`: registers the device (`kobj.state_in_sysfs
/// = true`) and makes the cdev openable.
#[track_caller]
pub fn cdev_device_add(cdev: &Cdev, dev: &Device) {
    dev.state_in_sysfs.write_in("cdev_device_add() =", true);
    map_op(cdev, "cdev_add", Some(true));
}

/// `cdev_device_del(cdev, dev)`: no new opens; then `device_del()` clears
/// `kobj.state_in_sysfs` with a plain store.
#[track_caller]
pub fn cdev_device_del(cdev: &Cdev, dev: &Device) {
    map_op(cdev, "cdev_del", Some(false));
    dev.state_in_sysfs.write_in("cdev_device_del() =", false);
}

/// The VFS half of `open()` (`chrdev_open`): `Err(-ENXIO)` once the cdev was
/// deleted; otherwise the driver's own `open` runs next.
#[track_caller]
pub fn chrdev_open(cdev: &Cdev) -> Result<(), i64> {
    if map_op(cdev, "chrdev_open", None) {
        Ok(())
    } else {
        Err(-ENXIO)
    }
}

impl crate::kernel::memory::CellState {
    /// A bool cell's initial state (for model-internal cells).
    pub(crate) fn new_bool(v: bool) -> Self {
        crate::kernel::memory::CellState::new(
            v as u64,
            <bool as crate::kernel::memory::CellValue>::display,
        )
    }
}
