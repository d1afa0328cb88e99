//! `bool-then-lock-cycle`: the alternative proposed in the thread. The ioctl
//! tests `device_is_registered()` under `down_read()`; removal does
//! `cdev_device_del(); down_write(); up_write();` — a "post-delete lock
//! cycle" meant to flush every reader that saw the flag set.
//!
//! It does flush them (no use-after-removal under sequential consistency),
//! but the store to `state_in_sysfs` is outside the lock, so it races with
//! the read under `down_read()`: "the lock would have to enclose the store".
//!
//! ```c
//! down_read(&cxl_memdev_rwsem);
//! if (device_is_registered(&cxlmd->dev))
//!         rc = __cxl_memdev_ioctl(cxlmd, cmd, arg);
//! up_read(&cxl_memdev_rwsem);
//!
//! cdev_device_del(&cxlmd->cdev, &cxlmd->dev);  /* kobj.state_in_sysfs = 0 */
//! down_write(&cxl_memdev_rwsem);
//! up_write(&cxl_memdev_rwsem);
//! cxlmd->cxlm = NULL;
//! ```

use super::memdev::Memdev;
use crate::memdev_file_ops;
use crate::workload::{Driver, Probe, Workload};
use harness::kernel::{
    cdev_device_del, device_is_registered, down_read, down_write, up_read, up_write, File,
    RwSemaphore, ENXIO,
};

struct BoolThenLockCycle {
    md: Memdev,
    rwsem: RwSemaphore,
}

impl Driver for BoolThenLockCycle {
    memdev_file_ops!(md);

    fn ioctl(&self, _file: &File, _cmd: u32, _arg: u64) -> i64 {
        down_read(&self.rwsem);
        let rc = if device_is_registered(&self.md.dev) {
            Memdev::send_cmd_if(self.md.cxlm_ptr.read())
        } else {
            -ENXIO
        };
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
    Memdev::probe_each(wl, move |_, md| BoolThenLockCycle { md, rwsem })
}
