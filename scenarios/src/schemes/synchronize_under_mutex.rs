//! `synchronize-under-mutex`: removal holds a driver mutex across
//! `synchronize_srcu()`, and the ioctl takes the same mutex inside its
//! read-side critical section. The grace period waits for the reader, the
//! reader waits for the mutex, the mutex holder waits for the grace period.
//!
//! ```c
//! idx = srcu_read_lock(&cxl_memdev_srcu);
//! cxlm = srcu_dereference(cxlmd->cxlm, &cxl_memdev_srcu);
//! if (cxlm) {
//!         mutex_lock(&cxlm_mbox_mutex);
//!         rc = cxl_send_cmd(cxlm, arg);
//!         mutex_unlock(&cxlm_mbox_mutex);
//! }
//! srcu_read_unlock(&cxl_memdev_srcu, idx);
//!
//! mutex_lock(&cxlm_mbox_mutex);
//! rcu_assign_pointer(cxlmd->cxlm, NULL);
//! synchronize_srcu(&cxl_memdev_srcu);      /* waits for a reader that waits for us */
//! mutex_unlock(&cxlm_mbox_mutex);
//! ```

use super::memdev::Memdev;
use crate::memdev_file_ops;
use crate::workload::{Driver, Probe, Workload};
use harness::kernel::{
    cdev_device_del, mutex_lock, mutex_unlock, rcu_assign_pointer, srcu_dereference,
    srcu_read_lock, srcu_read_unlock, synchronize_srcu, File, Mutex, SrcuStruct, ENXIO,
};

struct SynchronizeUnderMutex {
    md: Memdev,
    srcu: SrcuStruct,
    mbox_mutex: Mutex,
}

impl Driver for SynchronizeUnderMutex {
    memdev_file_ops!(md);

    fn ioctl(&self, _file: &File, _cmd: u32, _arg: u64) -> i64 {
        let idx = srcu_read_lock(&self.srcu);
        let rc = match srcu_dereference(&self.md.cxlm_ptr, &self.srcu) {
            Some(cxlm) => {
                mutex_lock(&self.mbox_mutex);
                let rc = Memdev::send_cmd(cxlm);
                mutex_unlock(&self.mbox_mutex);
                rc
            }
            None => -ENXIO,
        };
        srcu_read_unlock(&self.srcu, idx);
        rc
    }

    fn remove(&self) {
        let md = &self.md;
        md.unbind(|| {
            cdev_device_del(&md.cdev, &md.dev);
            mutex_lock(&self.mbox_mutex);
            rcu_assign_pointer(&md.cxlm_ptr, None);
            synchronize_srcu(&self.srcu);
            mutex_unlock(&self.mbox_mutex);
        });
    }
}

pub(super) fn probe(wl: &Workload) -> Probe {
    let srcu = SrcuStruct::new("cxl_memdev_srcu");
    let mbox_mutex = Mutex::new("cxlm_mbox_mutex", None);
    Memdev::probe_each(wl, move |_, md| SynchronizeUnderMutex {
        md,
        srcu,
        mbox_mutex,
    })
}
