//! `lock-cycle-before-clear`: the lock cycle runs *before* the pointer is
//! cleared, so it flushes nothing: an ioctl that takes `down_read()` after
//! the cycle still sees the old pointer, and removal frees it underneath.
//!
//! ```c
//! cdev_device_del(&cxlmd->cdev, &cxlmd->dev);
//! down_write(&cxl_memdev_rwsem);
//! up_write(&cxl_memdev_rwsem);
//! cxlmd->cxlm = NULL;          /* too late: no reader is flushed after this */
//! /* devm frees cxlm */
//! ```

use super::memdev::Memdev;
use crate::memdev_file_ops;
use crate::workload::{Driver, Probe, Workload};
use harness::kernel::{
    cdev_device_del, down_read, down_write, up_read, up_write, File, RwSemaphore,
};

struct LockCycleBeforeClear {
    md: Memdev,
    rwsem: RwSemaphore,
}

impl Driver for LockCycleBeforeClear {
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
            up_write(&self.rwsem);
            md.cxlm_ptr.write(None);
        });
    }
}

pub(super) fn probe(wl: &Workload) -> Probe {
    let rwsem = RwSemaphore::new("cxl_memdev_rwsem");
    Memdev::probe_each(wl, move |_, md| LockCycleBeforeClear { md, rwsem })
}
