//! `open-unchecked`: the merged fix (`flag-under-write-lock`), except that
//! the driver's `open()` also uses the driver data, following
//! `cxlmd->cxlm` without taking `cxl_memdev_rwsem` or checking that the
//! device is still bound.
//!
//! ```c
//! static int cxl_memdev_open(struct inode *inode, struct file *file)
//! {
//!         struct cxl_memdev *cxlmd =
//!                 container_of(inode->i_cdev, typeof(*cxlmd), cdev);
//!         struct cxl_mem *cxlm = cxlmd->cxlm;      /* no lock, no check */
//!
//!         get_device(&cxlmd->dev);
//!         file->private_data = cxlmd;
//!         if (cxlm)
//!                 cxl_mem_log_open(cxlm);         /* reads *cxlm */
//!         return 0;
//! }
//! ```
//!
//! # Verdict: use-after-removal of the driver data, only when an open races removal
//!
//! An open that completes before removal starts finds `cxlm` alive, so with
//! every user opened first the scheme is as clean as the merged fix. An open
//! racing removal is not stopped by `cdev_device_del()`: `chrdev_open()` may
//! have found the cdev in `cdev_map` just before `cdev_del()` unmapped it,
//! or find it cached in `inode->i_cdev` after, as long as another file holds
//! the cdev (fs/char_dev.c). Its `open()` may then load the pointer before
//! removal clears it and dereference it after `devres_release_all()` freed
//! the driver data. The unlocked load also races with removal's store.

use super::memdev::Memdev;
use crate::workload::{Driver, Probe, Workload};
use harness::kernel::{
    cdev_device_del, down_read, down_write, up_read, up_write, DevT, File, RwSemaphore,
};

struct OpenUnchecked {
    md: Memdev,
    rwsem: RwSemaphore,
}

impl Driver for OpenUnchecked {
    fn devt(&self) -> &DevT {
        &self.md.devt
    }

    fn open(&self, _file: &File) -> Result<(), i64> {
        self.md.open_with_devref()?;
        // The bug: driver data used with nothing keeping it alive.
        Memdev::send_cmd_if(self.md.cxlm_ptr.read());
        Ok(())
    }

    fn release(&self, _file: &File) {
        self.md.release_devref();
    }

    fn ioctl(&self, _file: &File, _cmd: u32, _arg: u64) -> i64 {
        down_read(&self.rwsem);
        let rc = Memdev::send_cmd_if(self.md.cxlm_ptr.read());
        up_read(&self.rwsem);
        rc
    }

    fn remove(&self) {
        let md = &self.md;
        md.unbind(|| {
            cdev_device_del(&md.cdev, &md.dev);
            down_write(&self.rwsem);
            md.cxlm_ptr.write(None);
            up_write(&self.rwsem);
        });
    }
}

pub(super) fn probe(wl: &Workload) -> Probe {
    let rwsem = RwSemaphore::new("cxl_memdev_rwsem");
    Memdev::probe_each(wl, move |_, md| OpenUnchecked { md, rwsem })
}
