//! `srcu-once-flag`: `srcu-plain-flag` done right. The liveness flag is the
//! driver's own and every access to it is marked (`READ_ONCE` /
//! `WRITE_ONCE`), so there is no data race; the grace period does the rest.
//!
//! ```c
//! idx = srcu_read_lock(&cxl_memdev_srcu);
//! if (READ_ONCE(cxlmd->alive))
//!         rc = __cxl_memdev_ioctl(cxlmd, cmd, arg);
//! srcu_read_unlock(&cxl_memdev_srcu, idx);
//!
//! cdev_device_del(&cxlmd->cdev, &cxlmd->dev);
//! WRITE_ONCE(cxlmd->alive, false);
//! synchronize_srcu(&cxl_memdev_srcu);
//! cxlmd->cxlm = NULL;
//! ```

use super::memdev::{mem_name, Memdev};
use crate::memdev_file_ops;
use crate::workload::{Driver, Probe, Workload};
use harness::kernel::{
    cdev_device_del, srcu_read_lock, srcu_read_unlock, synchronize_srcu, File, Plain, SrcuStruct,
    ENXIO, READ_ONCE, WRITE_ONCE,
};

struct SrcuOnceFlag {
    md: Memdev,
    alive: Plain<bool>,
    srcu: SrcuStruct,
}

impl Driver for SrcuOnceFlag {
    memdev_file_ops!(md);

    fn ioctl(&self, _file: &File, _cmd: u32, _arg: u64) -> i64 {
        let idx = srcu_read_lock(&self.srcu);
        let rc = if READ_ONCE(&self.alive) {
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
            WRITE_ONCE(&self.alive, false);
            synchronize_srcu(&self.srcu);
            md.cxlm_ptr.write(None);
        });
    }
}

pub(super) fn probe(wl: &Workload) -> Probe {
    let srcu = SrcuStruct::new("cxl_memdev_srcu");
    Memdev::probe_each(wl, move |i, md| SrcuOnceFlag {
        alive: Plain::new(mem_name(i, ".cxlmd->alive"), Some(md.cxlmd), true),
        md,
        srcu,
    })
}
