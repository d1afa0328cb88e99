//! `srcu-plain-flag`: v2 of the patch under review. One SRCU domain for all
//! memdevs; the ioctl tests `device_is_registered()` — a plain read of
//! `kobj.state_in_sysfs`, which `cdev_device_del()` clears with a plain
//! store — inside `srcu_read_lock()`; removal waits with
//! `synchronize_srcu()` before clearing the driver pointer.
//!
//! No sequentially consistent interleaving frees memory under an ioctl, but
//! the flag is read and written without `READ_ONCE`/`WRITE_ONCE` while the
//! two can run concurrently: a data race, undefined under the kernel memory
//! model (the compiler may reload or tear the flag).
//!
//! ```c
//! DEFINE_STATIC_SRCU(cxl_memdev_srcu);
//!
//! static long cxl_memdev_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
//! {
//!         struct cxl_memdev *cxlmd = file->private_data;
//!         int rc = -ENXIO, idx;
//!
//!         idx = srcu_read_lock(&cxl_memdev_srcu);
//!         if (device_is_registered(&cxlmd->dev))
//!                 rc = __cxl_memdev_ioctl(cxlmd, cmd, arg);
//!         srcu_read_unlock(&cxl_memdev_srcu, idx);
//!         return rc;
//! }
//!
//! static void cxl_memdev_unregister(void *_cxlmd)
//! {
//!         cdev_device_del(&cxlmd->cdev, &cxlmd->dev);
//!         synchronize_srcu(&cxl_memdev_srcu);
//!         cxlmd->cxlm = NULL;
//!         put_device(&cxlmd->dev);
//! }
//! ```

use super::memdev::Memdev;
use crate::memdev_file_ops;
use crate::workload::{Driver, Probe, Workload};
use harness::kernel::{
    cdev_device_del, device_is_registered, srcu_read_lock, srcu_read_unlock, synchronize_srcu,
    File, SrcuStruct, ENXIO,
};

struct SrcuPlainFlag {
    md: Memdev,
    srcu: SrcuStruct,
}

impl Driver for SrcuPlainFlag {
    memdev_file_ops!(md);

    fn ioctl(&self, _file: &File, _cmd: u32, _arg: u64) -> i64 {
        let idx = srcu_read_lock(&self.srcu);
        let rc = if device_is_registered(&self.md.dev) {
            Memdev::send_cmd_if(self.md.cxlm_ptr.read())
        } else {
            -ENXIO
        };
        srcu_read_unlock(&self.srcu, idx);
        rc
    }

    fn remove(&self) {
        let md = &self.md;
        md.unbind(|| {
            cdev_device_del(&md.cdev, &md.dev);
            synchronize_srcu(&self.srcu);
            md.cxlm_ptr.write(None);
        });
    }
}

pub(super) fn probe(wl: &Workload) -> Probe {
    let srcu = SrcuStruct::new("cxl_memdev_srcu");
    Memdev::probe_each(wl, move |_, md| SrcuPlainFlag { md, srcu })
}
