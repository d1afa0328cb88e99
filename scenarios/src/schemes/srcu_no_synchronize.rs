//! `srcu-no-synchronize`: readers use SRCU, but removal unpublishes and frees
//! without waiting for a grace period.
//!
//! ```c
//! cdev_device_del(&cxlmd->cdev, &cxlmd->dev);
//! rcu_assign_pointer(cxlmd->cxlm, NULL);
//! /* missing: synchronize_srcu(&cxl_memdev_srcu); */
//! /* devm frees cxlm under a reader that dereferenced it already */
//! ```

use super::memdev::Memdev;
use super::srcu_pointer::{probe_with, SrcuPointer};
use crate::workload::{Driver, Probe, Workload};
use harness::kernel::{cdev_device_del, rcu_assign_pointer, File, SrcuStruct};

struct SrcuNoSynchronize(SrcuPointer);

impl Driver for SrcuNoSynchronize {
    crate::memdev_file_ops!(0.md);

    fn ioctl(&self, _file: &File, _cmd: u32, _arg: u64) -> i64 {
        self.0.srcu_ioctl()
    }

    fn remove(&self) {
        let md: &Memdev = &self.0.md;
        md.unbind(|| {
            cdev_device_del(&md.cdev, &md.dev);
            rcu_assign_pointer(&md.cxlm_ptr, None);
        });
    }
}

pub(super) fn probe(wl: &Workload) -> Probe {
    probe_with(wl, SrcuStruct::new("cxl_memdev_srcu"), SrcuNoSynchronize)
}
