//! `percpu-ref-bare-cdev`: `percpu-ref-no-devref` with the memdev's cdev
//! added the older way, a bare `cdev_add()` with no `cdev_set_parent()`,
//! and the device added separately. Here the missing device reference is a
//! real use-after-free of the memdev.
//!
//! ```c
//! cdev_init(&cxlmd->cdev, &cxl_memdev_fops);
//! rc = cdev_add(&cxlmd->cdev, dev->devt, 1);      /* no parent */
//! rc = device_add(dev);
//! ...
//! static void cxl_memdev_unregister(void *_cxlmd)
//! {
//!         percpu_ref_kill(&cxlmd->ops_active);
//!         cdev_del(&cxlmd->cdev);
//!         device_del(&cxlmd->dev);
//!         wait_for_completion(&cxlmd->ops_dead);
//!         cxlmd->cxlm = NULL;
//!         put_device(&cxlmd->dev);                /* frees cxlmd */
//! }
//! ```
//!
//! # Verdict: use-after-removal of the memdev
//!
//! An open file still holds a reference on the cdev (`chrdev_open()` →
//! `cdev_get()`), but the cdev's kobject has no parent, so
//! `cdev_default_release()` has nothing to drop and `cdev_add()` took
//! nothing: the device's count is the probe's alone. Removal's
//! `put_device()` runs `cxl_memdev_release()`, which frees `cxlmd` — and
//! with it the embedded cdev and `ops_active` — while files are open. The
//! next ioctl on such a file calls `percpu_ref_tryget_live()` on freed
//! memory, and its `__fput()` calls `cdev_put()` on a kobject inside freed
//! memory. That is the bug the patch's message names ("missing a device
//! reference"), and the reason `cdev_device_add()` exists.

use super::percpu_ref_no_devref::probe_gate;
use crate::workload::{Probe, Workload};

pub(super) fn probe(wl: &Workload) -> Probe {
    probe_gate(wl, true)
}
