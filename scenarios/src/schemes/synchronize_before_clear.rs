//! `synchronize-before-clear`: the grace period is waited for *before* the
//! pointer is unpublished, so it protects nothing: a reader that starts
//! after `synchronize_srcu()` returns still finds the old pointer.
//!
//! ```c
//! cdev_device_del(&cxlmd->cdev, &cxlmd->dev);
//! synchronize_srcu(&cxl_memdev_srcu);
//! rcu_assign_pointer(cxlmd->cxlm, NULL);   /* too late */
//! /* devm frees cxlm */
//! ```

use super::memdev::Memdev;
use super::srcu_pointer::{probe_with, SrcuPointer};
use crate::workload::{Driver, Probe, Workload};
use harness::kernel::{cdev_device_del, rcu_assign_pointer, synchronize_srcu, File, SrcuStruct};

struct SynchronizeBeforeClear(SrcuPointer);

impl Driver for SynchronizeBeforeClear {
    crate::memdev_file_ops!(0.md);

    fn ioctl(&self, _file: &File, _cmd: u32, _arg: u64) -> i64 {
        self.0.srcu_ioctl()
    }

    fn remove(&self) {
        let md: &Memdev = &self.0.md;
        md.unbind(|| {
            cdev_device_del(&md.cdev, &md.dev);
            synchronize_srcu(&self.0.srcu);
            rcu_assign_pointer(&md.cxlm_ptr, None);
        });
    }
}

pub(super) fn probe(wl: &Workload) -> Probe {
    probe_with(
        wl,
        SrcuStruct::new("cxl_memdev_srcu"),
        SynchronizeBeforeClear,
    )
}
