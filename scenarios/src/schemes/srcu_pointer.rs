//! `srcu-pointer`: SRCU used as designed. Removal unpublishes the pointer,
//! waits a grace period, then frees; the ioctl reads the pointer with
//! `srcu_dereference()` inside its read-side critical section.
//!
//! ```c
//! idx = srcu_read_lock(&cxl_memdev_srcu);
//! cxlm = srcu_dereference(cxlmd->cxlm, &cxl_memdev_srcu);
//! if (cxlm)
//!         rc = cxl_send_cmd(cxlm, arg);
//! srcu_read_unlock(&cxl_memdev_srcu, idx);
//!
//! cdev_device_del(&cxlmd->cdev, &cxlmd->dev);
//! rcu_assign_pointer(cxlmd->cxlm, NULL);
//! synchronize_srcu(&cxl_memdev_srcu);
//! /* devm frees cxlm */
//! ```

use super::memdev::Memdev;
use crate::memdev_file_ops;
use crate::workload::{Driver, Probe, Workload};
use harness::kernel::{
    cdev_device_del, rcu_assign_pointer, srcu_dereference, srcu_read_lock, srcu_read_unlock,
    synchronize_srcu, File, SrcuStruct,
};

/// The SRCU-pointer driver, shared with the schemes that get its removal
/// order wrong or use a broken SRCU domain.
pub(super) struct SrcuPointer {
    pub(super) md: Memdev,
    pub(super) srcu: SrcuStruct,
}

impl SrcuPointer {
    /// The read side: dereference under `srcu_read_lock()`.
    pub(super) fn srcu_ioctl(&self) -> i64 {
        let idx = srcu_read_lock(&self.srcu);
        let rc = Memdev::send_cmd_if(srcu_dereference(&self.md.cxlm_ptr, &self.srcu));
        srcu_read_unlock(&self.srcu, idx);
        rc
    }
}

impl Driver for SrcuPointer {
    memdev_file_ops!(md);

    fn ioctl(&self, _file: &File, _cmd: u32, _arg: u64) -> i64 {
        self.srcu_ioctl()
    }

    fn remove(&self) {
        let md = &self.md;
        md.unbind(|| {
            cdev_device_del(&md.cdev, &md.dev);
            rcu_assign_pointer(&md.cxlm_ptr, None);
            synchronize_srcu(&self.srcu);
        });
    }
}

/// Probe every device onto one shared domain.
pub(super) fn probe_with<D: Driver>(
    wl: &Workload,
    srcu: SrcuStruct,
    wrap: fn(SrcuPointer) -> D,
) -> Probe {
    Memdev::probe_each(wl, move |_, md| wrap(SrcuPointer { md, srcu }))
}

pub(super) fn probe(wl: &Workload) -> Probe {
    probe_with(wl, SrcuStruct::new("cxl_memdev_srcu"), |d| d)
}
