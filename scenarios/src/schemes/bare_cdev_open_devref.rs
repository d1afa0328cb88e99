//! `bare-cdev-open-devref`: the merged fix (`flag-under-write-lock`: the
//! pointer cleared under `down_write()`, the open file pinning the memdev
//! with `get_device()` in the driver's `open()`), but with the cdev added by
//! a bare `cdev_add()` with no parent, as drivers did before
//! `cdev_device_add()`. Removal deletes the cdev and the device separately.
//!
//! ```c
//! static int cxl_memdev_open(struct inode *inode, struct file *file)
//! {
//!         struct cxl_memdev *cxlmd =
//!                 container_of(inode->i_cdev, typeof(*cxlmd), cdev);
//!
//!         get_device(&cxlmd->dev);                /* too late */
//!         file->private_data = cxlmd;
//!         return 0;
//! }
//!
//! static void cxl_memdev_unregister(void *_cxlmd)
//! {
//!         cdev_del(&cxlmd->cdev);
//!         device_del(&cxlmd->dev);
//!         down_write(&cxl_memdev_rwsem);
//!         cxlmd->cxlm = NULL;
//!         up_write(&cxl_memdev_rwsem);
//!         put_device(&cxlmd->dev);                /* may free cxlmd */
//! }
//! ```
//!
//! # Verdict: use-after-removal of the memdev
//!
//! The driver's device reference is taken and dropped inside the file's
//! lifetime, but the cdev's own reference outlives it: `__fput()`
//! (fs/file_table.c) calls the driver's `release` and only then
//! `cdev_put(inode->i_cdev)`. With no parent, nothing ties the cdev's
//! kobject to the device, so when the last file closes after removal, its
//! `release` (`put_device()`) runs `cxl_memdev_release()` and frees `cxlmd`,
//! and `__fput()`'s `cdev_put()` then decrements a kobject inside freed
//! memory. An open racing removal opens a second window: `chrdev_open()`
//! takes its cdev reference before it calls the driver's `open()`, and
//! removal's final `put_device()` may free `cxlmd` in between, so that
//! `get_device()` touches freed memory, or finds the count at zero
//! ("refcount_t: addition on 0; use-after-free"). `cdev_device_add()`
//! closes both: the cdev holds its parent from `cdev_add()` until
//! `cdev_default_release()`.

use super::memdev::Memdev;
use crate::memdev_file_ops;
use crate::workload::{probe_fn, Driver, Probe, Workload};
use harness::kernel::{
    cdev_del, device_del, down_read, down_write, up_read, up_write, File, RwSemaphore,
};
use std::sync::Arc;

struct BareCdevOpenDevref {
    md: Memdev,
    rwsem: RwSemaphore,
}

impl Driver for BareCdevOpenDevref {
    memdev_file_ops!(md);

    fn ioctl(&self, _file: &File, _cmd: u32, _arg: u64) -> i64 {
        down_read(&self.rwsem);
        let rc = Memdev::send_cmd_if(self.md.cxlm_ptr.read());
        up_read(&self.rwsem);
        rc
    }

    fn remove(&self) {
        let md = &self.md;
        md.unbind(|| {
            cdev_del(&md.cdev);
            device_del(&md.dev);
            down_write(&self.rwsem);
            md.cxlm_ptr.write(None);
            up_write(&self.rwsem);
        });
    }
}

pub(super) fn probe(wl: &Workload) -> Probe {
    let rwsem = RwSemaphore::new("cxl_memdev_rwsem");
    let remove_work = wl.remove_work;
    probe_fn(move |i, devt| {
        Arc::new(BareCdevOpenDevref {
            md: Memdev::probe_bare_cdev(i, devt, remove_work),
            rwsem,
        })
    })
}
