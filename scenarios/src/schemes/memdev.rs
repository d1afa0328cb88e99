//! The CXL memory device every scheme shares: `struct cxl_memdev` (with its
//! embedded `struct device` and `struct cdev`), the device-managed driver
//! data `struct cxl_mem`, probe and the driver-core half of removal.
//!
//! ```c
//! struct cxl_memdev {
//!         struct device dev;
//!         struct cdev cdev;
//!         struct cxl_mem *cxlm;   /* the scheme decides how this is guarded */
//! };
//! ```

use crate::workload::{probe_fn, Driver, Probe, Workload};
use harness::kernel::{
    alloc_chrdev_region, called_at, cdev_add, cdev_device_add, cond_resched, device_add,
    device_initialize, device_release_driver, devm_kzalloc, get_device, kfree, kzalloc, put_device,
    Cdev, DevT, Device, Object, Plain, ENXIO,
};
use std::sync::Arc;

/// One probed memory device.
pub struct Memdev {
    /// The `struct cxl_memdev` allocation itself.
    pub cxlmd: Object,
    /// `cxlmd->dev` (its release frees `cxlmd`).
    pub dev: Device,
    /// `cxlmd->cdev`.
    pub cdev: Cdev,
    /// `cxlmd->dev.devt`: its device number (and `cdev_map` entry), outside
    /// the memdev's memory.
    pub devt: DevT,
    /// The driver data, `struct cxl_mem`, device-managed: freed when the
    /// driver unbinds, at the end of removal.
    pub cxlm: Object,
    /// `cxlmd->cxlm`: the pointer the ioctl path follows.
    pub cxlm_ptr: Plain<Option<Object>>,
    /// Bookkeeping steps removal performs before the scheme's teardown.
    pub remove_work: u32,
}

impl Memdev {
    /// `cxl_mem_probe()` → `devm_cxl_add_memdev()`: allocate, initialise and
    /// add device number `index` with `cdev_device_add()`, so the cdev holds
    /// a reference on `cxlmd->dev` for as long as any file has it open.
    #[track_caller]
    pub fn probe(index: u32, devt: Option<&DevT>, remove_work: u32) -> Memdev {
        let md = Memdev::alloc(index, devt, remove_work);
        cdev_device_add(&md.cdev, &md.dev);
        md
    }

    /// [`Memdev::probe`] with the older pattern: a bare `cdev_add()` without
    /// `cdev_set_parent()`, then `device_add()`. The cdev (embedded in
    /// `cxlmd`) then holds no reference on the device, and the probe's
    /// `put_device()` frees `cxlmd` under files still open on its cdev.
    #[track_caller]
    pub fn probe_bare_cdev(index: u32, devt: Option<&DevT>, remove_work: u32) -> Memdev {
        let md = Memdev::alloc(index, devt, remove_work);
        cdev_add(&md.cdev, &md.devt);
        device_add(&md.dev);
        md
    }

    /// `cxl_memdev_alloc()`: the memdev, its device (with its number) and
    /// cdev initialised, the driver data allocated; nothing added yet.
    /// A rebind passes the number the previous binding had: the driver's
    /// ida hands the freed minor out again.
    #[track_caller]
    fn alloc(index: u32, devt: Option<&DevT>, remove_work: u32) -> Memdev {
        let name = mem_name(index, "");
        // The number comes from the driver's region (cxl_mem_major), which
        // outlives every memdev.
        let devt = match devt {
            Some(devt) => devt.clone(),
            None => alloc_chrdev_region(name),
        };
        let cxlmd = kzalloc(mem_name(index, ".cxlmd"));
        // cxl_memdev_release(): kfree(cxlmd) once the last reference is gone.
        let dev = device_initialize(name, cxlmd, move || kfree(cxlmd));
        dev.set_devt(&devt);
        let cxlm = devm_kzalloc(&dev, mem_name(index, ".cxlm"));
        let cxlm_ptr = Plain::new(mem_name(index, ".cxlmd->cxlm"), Some(cxlmd), Some(cxlm));
        let cdev = Cdev::new(mem_name(index, ".cdev"), cxlmd);
        Memdev {
            cxlmd,
            dev,
            cdev,
            devt,
            cxlm,
            cxlm_ptr,
            remove_work,
        }
    }

    /// `cxl_memdev_open()` in the fixed driver: the open file pins the
    /// memdev with a device reference.
    #[track_caller]
    pub fn open_with_devref(&self) -> Result<(), i64> {
        get_device(&self.dev);
        Ok(())
    }

    /// `cxl_memdev_release_file()`: drop the open file's device reference.
    #[track_caller]
    pub fn release_devref(&self) {
        put_device(&self.dev);
    }

    /// The rest of a real remove path (sysfs groups, mailbox teardown, …):
    /// steps that change nothing the ioctl path reads.
    #[track_caller]
    fn remove_bookkeeping(&self) {
        for _ in 0..self.remove_work {
            cond_resched();
        }
    }

    /// The driver core's part of removal: the driver's bookkeeping, then the
    /// scheme's `teardown`, then free the devm driver data and drop the
    /// probe's device reference.
    #[track_caller]
    pub fn unbind(&self, teardown: impl FnOnce()) {
        device_release_driver(&self.dev, || {
            self.remove_bookkeeping();
            teardown();
        });
        put_device(&self.dev);
    }

    /// The probe of a scheme's driver: each device gets a memdev added with
    /// `cdev_device_add()`, wrapped by `make` (given the device index and
    /// the memdev) into the scheme's driver.
    ///
    /// The probe runs later, in a closure, which `#[track_caller]` cannot
    /// reach: what it allocates is reported at this file's lines, called
    /// from `cxl_mem_probe()` at the scheme's call of `probe_each()`.
    #[track_caller]
    pub fn probe_each<D: Driver>(
        wl: &Workload,
        make: impl Fn(u32, Memdev) -> D + Send + Sync + 'static,
    ) -> Probe {
        let remove_work = wl.remove_work;
        let site = std::panic::Location::caller();
        probe_fn(move |i, devt| {
            called_at(site, "cxl_mem_probe", || {
                Arc::new(make(i, Memdev::probe(i, devt, remove_work)))
            })
        })
    }

    /// The ioctl on whatever driver data pointer it read: `-ENXIO` on NULL.
    #[track_caller]
    pub fn send_cmd_if(cxlm: Option<Object>) -> i64 {
        match cxlm {
            Some(cxlm) => Memdev::send_cmd(cxlm),
            None => -ENXIO,
        }
    }

    /// The ioctl's real work: `cxl_send_cmd(cxlm, …)` reads the driver data.
    #[track_caller]
    pub fn send_cmd(cxlm: Object) -> i64 {
        cxlm.read();
        0
    }
}

/// Implement [`crate::workload::Driver`]'s `cdev`, `open` and `release` for a
/// scheme struct whose [`Memdev`] is at `self.$path`, the open file holding
/// a device reference (every scheme but the pre-fix percpu_ref one).
#[macro_export]
macro_rules! memdev_file_ops {
    ($($path:tt).+) => {
        fn devt(&self) -> &harness::kernel::DevT {
            &self.$($path).+.devt
        }
        fn open(&self, _file: &harness::kernel::File) -> Result<(), i64> {
            self.$($path).+.open_with_devref()
        }
        fn release(&self, _file: &harness::kernel::File) {
            self.$($path).+.release_devref()
        }
    };
}

/// `mem{index}{suffix}`: the name of memdev `index` (`mem0`) or of a part
/// of it (`mem0.cxlmd->cxlm`), made once per thread rather than formatted
/// in every execution (see [`harness::names`]).
pub(crate) fn mem_name(index: u32, suffix: &'static str) -> &'static str {
    let name = harness::names::indexed("mem", index);
    if suffix.is_empty() {
        name
    } else {
        harness::names::child(name, suffix)
    }
}
