//! `percpu-ref-no-devref`: the original CXL design that the patch fixes. The
//! ioctl is gated by `percpu_ref_tryget_live(&cxlmd->ops_active)`, but the
//! open file holds no reference on the memdev (`cxlmd` comes from
//! `container_of(inode->i_cdev, …)`), and removal's final `put_device()`
//! frees the memdev itself. A late ioctl then reads the percpu_ref inside
//! freed memory: "missing a device reference before accessing the
//! percpu_ref", in the patch's own words.
//!
//! ```c
//! static long cxl_memdev_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
//! {
//!         struct cxl_memdev *cxlmd = file->private_data;  /* no reference held */
//!         int rc = -ENXIO;
//!
//!         if (!percpu_ref_tryget_live(&cxlmd->ops_active))
//!                 return -ENXIO;
//!         rc = __cxl_memdev_ioctl(cxlmd, cmd, arg);
//!         percpu_ref_put(&cxlmd->ops_active);
//!         return rc;
//! }
//!
//! static void cxl_memdev_unregister(struct cxl_memdev *cxlmd)
//! {
//!         percpu_ref_kill(&cxlmd->ops_active);
//!         cdev_device_del(&cxlmd->cdev, &cxlmd->dev);
//!         wait_for_completion(&cxlmd->ops_dead);
//!         cxlmd->cxlm = NULL;
//!         put_device(&cxlmd->dev);                        /* frees cxlmd */
//! }
//! ```

use super::memdev::Memdev;
use crate::workload::{Driver, Workload};
use harness::kernel::{
    cdev_device_del, complete, percpu_ref_kill, percpu_ref_put, percpu_ref_tryget_live,
    wait_for_completion, Cdev, Completion, PercpuRef, ENXIO,
};
use std::sync::Arc;

struct PercpuRefNoDevref {
    md: Memdev,
    ops_active: PercpuRef,
    ops_dead: Completion,
}

impl Driver for PercpuRefNoDevref {
    fn cdev(&self) -> &Cdev {
        &self.md.cdev
    }

    // open() and release() take no device reference: the bug.

    fn ioctl(&self) -> i64 {
        if !percpu_ref_tryget_live(&self.ops_active) {
            return -ENXIO;
        }
        let rc = Memdev::send_cmd_if(self.md.cxlm_ptr.read());
        percpu_ref_put(&self.ops_active);
        rc
    }

    fn remove(&self) {
        let md = &self.md;
        md.unbind(|| {
            percpu_ref_kill(&self.ops_active);
            cdev_device_del(&md.cdev, &md.dev);
            wait_for_completion(&self.ops_dead);
            md.cxlm_ptr.write(None);
        });
    }
}

pub(super) fn probe(wl: &Workload) -> Vec<Arc<dyn Driver>> {
    Memdev::probe_each(wl, |i, md| {
        let ops_dead = Completion::new(format!("mem{i}.cxlmd->ops_dead"), Some(md.cxlmd));
        // cxlmdev_ops_active_release(): complete(&cxlmd->ops_dead).
        let ops_active = PercpuRef::new(
            format!("mem{i}.cxlmd->ops_active"),
            Some(md.cxlmd),
            move || complete(&ops_dead),
        );
        PercpuRefNoDevref {
            md,
            ops_active,
            ops_dead,
        }
    })
}
