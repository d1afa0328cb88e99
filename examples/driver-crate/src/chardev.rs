//! The shape all three drivers share: a structure embedding a `struct
//! device` and a `struct cdev` (added with `cdev_device_add()`, so every
//! open file pins the device), a pointer the file operations follow to the
//! hardware driver's state, and that state itself, device-managed and freed
//! when the driver unbinds.
//!
//! ```c
//! struct xxx_chip {
//!         struct device dev;
//!         struct cdev cdev;
//!         const struct xxx_ops *ops;   /* the driver decides how this is guarded */
//! };
//! ```

use harness::kernel::{
    alloc_chrdev_region, called_at, cdev_device_add, device_initialize, device_release_driver,
    devm_kzalloc, get_device, kfree, kzalloc, put_device, Cdev, DevT, Device, Object, Plain,
};
use std::sync::Arc;
use unplug::workload::{probe_fn, Driver, Probe, Workload};

/// `ENODEV` from include/uapi/asm-generic/errno-base.h.
pub const ENODEV: i64 = 19;

/// One registered character device.
pub struct Chardev {
    /// The structure embedding the device and the cdev (`struct tpm_chip`,
    /// `struct iio_dev`, `struct ib_uverbs_device`).
    pub chip: Object,
    /// Its embedded `struct device` (its release frees [`Chardev::chip`]).
    pub dev: Device,
    /// Its embedded `struct cdev`.
    pub cdev: Cdev,
    /// Its device number.
    pub devt: DevT,
    /// The hardware driver's state the file operations reach through
    /// [`Chardev::ptr`]; freed when the driver unbinds.
    pub state: Object,
    /// The pointer the file operations follow (`chip->ops`,
    /// `indio_dev->info`, `uverbs_dev->ib_dev`).
    pub ptr: Plain<Option<Object>>,
}

impl Chardev {
    /// Allocate device `index` of class `class`, whose pointer is named
    /// `field` and whose driver state is named `state`, and add it with
    /// `cdev_device_add()` (what `tpm_add_char_device()`,
    /// `__iio_device_register()` and `ib_uverbs_add_one()` all do). A
    /// rebind passes the number the previous binding had (the class's ida
    /// hands the freed minor out again).
    #[track_caller]
    pub fn register(
        class: &str,
        index: u32,
        field: &str,
        state: &str,
        devt: Option<&DevT>,
    ) -> Chardev {
        let name = format!("{class}{index}");
        let devt = match devt {
            Some(devt) => devt.clone(),
            None => alloc_chrdev_region(name.clone()),
        };
        let chip = kzalloc(format!("{name}.chip"));
        // The class's release callback (tpm_dev_release(), iio_dev_release(),
        // ib_uverbs_release_dev()) frees the chip once the last reference
        // is gone.
        let dev = device_initialize(name.clone(), chip, move || kfree(chip));
        dev.set_devt(&devt);
        let state = devm_kzalloc(&dev, format!("{name}.{state}"));
        let ptr = Plain::new(format!("{name}.{field}"), Some(chip), Some(state));
        let cdev = Cdev::new(format!("{name}.cdev"), chip);
        cdev_device_add(&cdev, &dev);
        Chardev {
            chip,
            dev,
            cdev,
            devt,
            state,
            ptr,
        }
    }

    /// The probe that registers each device of the workload, wrapped by
    /// `make` into the driver under test. The registration runs later, in
    /// a closure: it is reported as called from the driver's call of
    /// `register_each()`.
    #[track_caller]
    pub fn register_each<D: Driver>(
        _wl: &Workload,
        class: &'static str,
        field: &'static str,
        state: &'static str,
        make: impl Fn(Chardev) -> D + Send + Sync + 'static,
    ) -> Probe {
        let site = std::panic::Location::caller();
        probe_fn(move |i, devt| {
            called_at(site, "probe", || {
                Arc::new(make(Chardev::register(class, i, field, state, devt))) as Arc<dyn Driver>
            })
        })
    }

    /// The open file's device reference (`tpm_open()`'s `get_device()`,
    /// the cdev's own reference for iio and uverbs).
    #[track_caller]
    pub fn open_devref(&self) -> Result<(), i64> {
        get_device(&self.dev);
        Ok(())
    }

    /// Drop the open file's device reference.
    #[track_caller]
    pub fn release_devref(&self) {
        put_device(&self.dev);
    }

    /// Driver core removal: `device_release_driver()` runs the driver's
    /// remove path (`teardown`), devres then frees the driver state, and
    /// the probe's reference on the device is dropped.
    #[track_caller]
    pub fn unbind(&self, teardown: impl FnOnce()) {
        device_release_driver(&self.dev, teardown);
        put_device(&self.dev);
    }

    /// Call into the hardware driver through what the pointer held:
    /// `-ENODEV` on NULL, otherwise read its state.
    #[track_caller]
    pub fn call_if(state: Option<Object>) -> i64 {
        match state {
            Some(state) => Chardev::call(state),
            None => -ENODEV,
        }
    }

    /// Call into the hardware driver: it reads its state.
    #[track_caller]
    pub fn call(state: Object) -> i64 {
        state.read();
        0
    }
}
