//! `unsynchronized`: the ioctl follows `cxlmd->cxlm` with no liveness check
//! at all, and removal frees the driver data underneath it.
//!
//! ```c
//! static long cxl_memdev_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
//! {
//!         struct cxl_memdev *cxlmd = file->private_data;
//!         return cxl_send_cmd(cxlmd->cxlm, arg);
//! }
//!
//! static void cxl_memdev_remove(struct cxl_memdev *cxlmd)
//! {
//!         cdev_device_del(&cxlmd->cdev, &cxlmd->dev);
//!         /* devm frees cxlm */
//! }
//! ```

use super::memdev::Memdev;
use crate::memdev_file_ops;
use crate::workload::{Driver, Probe, Workload};
use harness::kernel::cdev_device_del;
use harness::kernel::File;

struct Unsynchronized {
    md: Memdev,
}

impl Driver for Unsynchronized {
    memdev_file_ops!(md);

    fn ioctl(&self, _file: &File, _cmd: u32, _arg: u64) -> i64 {
        match self.md.cxlm_ptr.read() {
            Some(cxlm) => Memdev::send_cmd(cxlm),
            None => -harness::kernel::ENXIO,
        }
    }

    fn remove(&self) {
        let md = &self.md;
        md.unbind(|| {
            cdev_device_del(&md.cdev, &md.dev);
        });
    }
}

pub(super) fn probe(wl: &Workload) -> Probe {
    Memdev::probe_each(wl, move |_, md| Unsynchronized { md })
}
