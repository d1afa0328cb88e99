//! `check-outside-lock`: time-of-check to time-of-use. The ioctl tests the
//! pointer with `READ_ONCE()` *before* taking `down_read()`, then uses the
//! value it read under the lock; removal may clear and free in between.
//!
//! ```c
//! cxlm = READ_ONCE(cxlmd->cxlm);
//! if (!cxlm)
//!         return -ENXIO;
//! down_read(&cxl_memdev_rwsem);        /* removal can finish right here */
//! rc = cxl_send_cmd(cxlm, arg);
//! up_read(&cxl_memdev_rwsem);
//!
//! cdev_device_del(&cxlmd->cdev, &cxlmd->dev);
//! down_write(&cxl_memdev_rwsem);
//! WRITE_ONCE(cxlmd->cxlm, NULL);
//! up_write(&cxl_memdev_rwsem);
//! /* devm frees cxlm */
//! ```

use super::memdev::Memdev;
use crate::memdev_file_ops;
use crate::workload::{Driver, Probe, Workload};
use harness::kernel::{
    cdev_device_del, down_read, down_write, up_read, up_write, File, RwSemaphore, ENXIO, READ_ONCE,
    WRITE_ONCE,
};

struct CheckOutsideLock {
    md: Memdev,
    rwsem: RwSemaphore,
}

impl Driver for CheckOutsideLock {
    memdev_file_ops!(md);

    fn ioctl(&self, _file: &File, _cmd: u32, _arg: u64) -> i64 {
        let Some(cxlm) = READ_ONCE(&self.md.cxlm_ptr) else {
            return -ENXIO;
        };
        down_read(&self.rwsem);
        let rc = Memdev::send_cmd(cxlm);
        up_read(&self.rwsem);
        rc
    }

    fn remove(&self) {
        let md = &self.md;
        md.unbind(|| {
            cdev_device_del(&md.cdev, &md.dev);
            down_write(&self.rwsem);
            WRITE_ONCE(&md.cxlm_ptr, None);
            up_write(&self.rwsem);
        });
    }
}

pub(super) fn probe(wl: &Workload) -> Probe {
    let rwsem = RwSemaphore::new("cxl_memdev_rwsem");
    Memdev::probe_each(wl, move |_, md| CheckOutsideLock { md, rwsem })
}
