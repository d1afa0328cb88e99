//! `flag-under-write-lock`: the fix that was merged. One global rwsem; the
//! ioctl tests `cxlmd->cxlm` under `down_read()`, removal clears it under
//! `down_write()` after `cdev_device_del()`, and open files pin the memdev
//! with a device reference.
//!
//! ```c
//! static DECLARE_RWSEM(cxl_memdev_rwsem);
//!
//! static long cxl_memdev_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
//! {
//!         struct cxl_memdev *cxlmd = file->private_data;
//!         int rc = -ENXIO;
//!
//!         down_read(&cxl_memdev_rwsem);
//!         if (cxlmd->cxlm)
//!                 rc = __cxl_memdev_ioctl(cxlmd, cmd, arg);
//!         up_read(&cxl_memdev_rwsem);
//!         return rc;
//! }
//!
//! static void cxl_memdev_unregister(void *_cxlmd)
//! {
//!         cdev_device_del(&cxlmd->cdev, &cxlmd->dev);
//!         down_write(&cxl_memdev_rwsem);
//!         cxlmd->cxlm = NULL;
//!         up_write(&cxl_memdev_rwsem);
//!         put_device(&cxlmd->dev);
//! }
//! ```

use super::memdev::Memdev;
use crate::memdev_file_ops;
use crate::workload::{Driver, Probe, Workload};
use harness::kernel::{
    cdev_device_del, down_read, down_write, up_read, up_write, File, RwSemaphore,
};

struct FlagUnderWriteLock {
    md: Memdev,
    rwsem: RwSemaphore,
}

impl Driver for FlagUnderWriteLock {
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
            cdev_device_del(&md.cdev, &md.dev);
            down_write(&self.rwsem);
            md.cxlm_ptr.write(None);
            up_write(&self.rwsem);
        });
    }
}

pub(super) fn probe(wl: &Workload) -> Probe {
    let rwsem = RwSemaphore::new("cxl_memdev_rwsem");
    Memdev::probe_each(wl, move |_, md| FlagUnderWriteLock { md, rwsem })
}
