//! `nested-down-read`: the merged fix's locking, plus an ioctl helper that
//! takes `down_read()` again. Harmless until removal queues in
//! `down_write()` between the two: a queued writer blocks new readers, the
//! writer waits for the outer reader, the outer reader waits for itself.
//!
//! ```c
//! static int cxl_mem_get_info(struct cxl_memdev *cxlmd)
//! {
//!         down_read(&cxl_memdev_rwsem);      /* recursive read: deadlock */
//!         ...
//!         up_read(&cxl_memdev_rwsem);
//! }
//!
//! down_read(&cxl_memdev_rwsem);
//! if (cxlmd->cxlm)
//!         rc = cxl_mem_get_info(cxlmd);
//! up_read(&cxl_memdev_rwsem);
//! ```

use super::memdev::Memdev;
use crate::memdev_file_ops;
use crate::workload::{Driver, Probe, Workload};
use harness::kernel::{
    cdev_device_del, down_read, down_write, up_read, up_write, File, RwSemaphore, ENXIO,
};

struct NestedDownRead {
    md: Memdev,
    rwsem: RwSemaphore,
}

impl NestedDownRead {
    fn get_info(&self, cxlm: harness::kernel::Object) -> i64 {
        down_read(&self.rwsem);
        let rc = Memdev::send_cmd(cxlm);
        up_read(&self.rwsem);
        rc
    }
}

impl Driver for NestedDownRead {
    memdev_file_ops!(md);

    fn ioctl(&self, _file: &File, _cmd: u32, _arg: u64) -> i64 {
        down_read(&self.rwsem);
        let rc = match self.md.cxlm_ptr.read() {
            Some(cxlm) => self.get_info(cxlm),
            None => -ENXIO,
        };
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
    Memdev::probe_each(wl, move |_, md| NestedDownRead { md, rwsem })
}
