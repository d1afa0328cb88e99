//! The IIO character device, `drivers/iio/industrialio-core.c`: `iio_ioctl()`
//! takes `iio_dev_opaque->info_exist_lock` and fails with `-ENODEV` once
//! `indio_dev->info` is NULL; `iio_device_unregister()` deletes the cdev and
//! clears `info` under the same mutex, after which the driver's remove path
//! frees what its callbacks use.
//!
//! ```c
//! static long iio_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
//! {
//!         ...
//!         guard(mutex)(&iio_dev_opaque->info_exist_lock);
//!         if (!indio_dev->info)
//!                 return -ENODEV;
//!         ...
//! }
//!
//! void iio_device_unregister(struct iio_dev *indio_dev)
//! {
//!         cdev_device_del(&iio_dev_opaque->chrdev, &indio_dev->dev);
//!         scoped_guard(mutex, &iio_dev_opaque->info_exist_lock) {
//!                 ...
//!                 indio_dev->info = NULL;
//!         }
//!         ...
//! }
//! ```
//!
//! The broken variant tests `info` before taking the mutex (a time-of-check
//! to time-of-use slip): unregister can clear it and the driver free its
//! state between the test and the call.

use crate::chardev::{Chardev, ENODEV};
use harness::kernel::File;
use harness::kernel::{cdev_device_del, mutex_lock, mutex_unlock, Mutex};
use unplug::workload::{Driver, Probe, Workload};

/// An IIO device; `check_before_lock` selects the broken ioctl.
struct Iio {
    indio_dev: Chardev,
    info_exist_lock: Mutex,
    check_before_lock: bool,
}

impl Driver for Iio {
    fn devt(&self) -> &harness::kernel::DevT {
        &self.indio_dev.devt
    }

    /// `iio_chrdev_open()`: `get_device()` on the iio device.
    fn open(&self, _file: &File) -> Result<(), i64> {
        self.indio_dev.open_devref()
    }

    /// `iio_ioctl()`.
    fn ioctl(&self, _file: &File, _cmd: u32, _arg: u64) -> i64 {
        let d = &self.indio_dev;
        if self.check_before_lock {
            let Some(info) = d.ptr.read() else {
                return -ENODEV;
            };
            mutex_lock(&self.info_exist_lock);
            let rc = Chardev::call(info);
            mutex_unlock(&self.info_exist_lock);
            return rc;
        }
        mutex_lock(&self.info_exist_lock);
        let rc = Chardev::call_if(d.ptr.read());
        mutex_unlock(&self.info_exist_lock);
        rc
    }

    /// `iio_chrdev_release()`: `iio_device_put()`.
    fn release(&self, _file: &File) {
        self.indio_dev.release_devref()
    }

    /// The driver's remove: `iio_device_unregister()`, then devres frees
    /// its state.
    fn remove(&self) {
        let d = &self.indio_dev;
        d.unbind(|| {
            cdev_device_del(&d.cdev, &d.dev);
            mutex_lock(&self.info_exist_lock);
            d.ptr.write(None);
            mutex_unlock(&self.info_exist_lock);
        });
    }
}

fn probe(wl: &Workload, check_before_lock: bool) -> Probe {
    Chardev::register_each(
        wl,
        "iio:device",
        "indio_dev->info",
        "info",
        move |indio_dev| Iio {
            info_exist_lock: Mutex::new(
                format!("{}.info_exist_lock", indio_dev.dev.name()),
                Some(indio_dev.chip),
            ),
            indio_dev,
            check_before_lock,
        },
    )
}

/// Today's driver.
pub fn probe_info_exist_lock(wl: &Workload) -> Probe {
    probe(wl, false)
}

/// `info` tested before the mutex is taken.
pub fn probe_check_before_lock(wl: &Workload) -> Probe {
    probe(wl, true)
}
