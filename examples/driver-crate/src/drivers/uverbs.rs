//! The RDMA verbs character device, `drivers/infiniband/core/uverbs_main.c`:
//! every file operation runs inside `srcu_read_lock(&uverbs_dev->
//! disassociate_srcu)` and reaches the hardware driver through
//! `srcu_dereference(uverbs_dev->ib_dev, …)`; removal of a device that
//! supports disassociation (`ib_uverbs_remove_one()` →
//! `ib_uverbs_free_hw_resources()`) publishes NULL and waits for every
//! reader with `synchronize_srcu()` before the hardware driver goes away.
//!
//! ```c
//! static long ib_uverbs_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
//! {
//!         srcu_key = srcu_read_lock(&file->device->disassociate_srcu);
//!         ib_dev = srcu_dereference(file->device->ib_dev, &file->device->disassociate_srcu);
//!         if (!ib_dev) { err = -EIO; goto out; }
//!         ...
//!         srcu_read_unlock(&file->device->disassociate_srcu, srcu_key);
//! }
//!
//! static void ib_uverbs_free_hw_resources(struct ib_uverbs_device *uverbs_dev, ...)
//! {
//!         uverbs_disassociate_api_pre(uverbs_dev);
//!         rcu_assign_pointer(uverbs_dev->ib_dev, NULL);
//!         synchronize_srcu(&uverbs_dev->disassociate_srcu);
//!         ...
//! }
//! ```
//!
//! The broken variant publishes NULL but does not wait: a reader that
//! already dereferenced `ib_dev` still calls into it once it is freed.

use crate::chardev::Chardev;
use harness::kernel::File;
use harness::kernel::{
    cdev_device_del, rcu_assign_pointer, srcu_dereference, srcu_read_lock, srcu_read_unlock,
    synchronize_srcu, DevT, SrcuStruct,
};
use unplug::workload::{Driver, Probe, Workload};

/// A uverbs device; `synchronize` is false in the broken variant.
struct Uverbs {
    uverbs_dev: Chardev,
    disassociate_srcu: SrcuStruct,
    synchronize: bool,
}

impl Driver for Uverbs {
    fn devt(&self) -> &DevT {
        &self.uverbs_dev.devt
    }

    /// `ib_uverbs_open()`: the file takes a reference on the uverbs device.
    fn open(&self, _file: &File) -> Result<(), i64> {
        self.uverbs_dev.open_devref()
    }

    /// `ib_uverbs_ioctl()`.
    fn ioctl(&self, _file: &File, _cmd: u32, _arg: u64) -> i64 {
        let d = &self.uverbs_dev;
        let srcu_key = srcu_read_lock(&self.disassociate_srcu);
        let rc = Chardev::call_if(srcu_dereference(&d.ptr, &self.disassociate_srcu));
        srcu_read_unlock(&self.disassociate_srcu, srcu_key);
        rc
    }

    /// `ib_uverbs_close()`.
    fn release(&self, _file: &File) {
        self.uverbs_dev.release_devref()
    }

    /// `ib_uverbs_remove_one()`, then the hardware driver is freed.
    fn remove(&self) {
        let d = &self.uverbs_dev;
        d.unbind(|| {
            cdev_device_del(&d.cdev, &d.dev);
            rcu_assign_pointer(&d.ptr, None);
            if self.synchronize {
                synchronize_srcu(&self.disassociate_srcu);
            }
        });
    }
}

fn probe(wl: &Workload, synchronize: bool) -> Probe {
    Chardev::register_each(
        wl,
        "uverbs",
        "uverbs_dev->ib_dev",
        "ib_dev",
        move |uverbs_dev| Uverbs {
            disassociate_srcu: SrcuStruct::new(format!(
                "{}.disassociate_srcu",
                uverbs_dev.dev.name()
            )),
            uverbs_dev,
            synchronize,
        },
    )
}

/// Today's driver.
pub fn probe_disassociate_srcu(wl: &Workload) -> Probe {
    probe(wl, true)
}

/// No `synchronize_srcu()` before the hardware driver goes away.
pub fn probe_no_synchronize(wl: &Workload) -> Probe {
    probe(wl, false)
}
