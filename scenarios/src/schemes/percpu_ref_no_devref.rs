//! `percpu-ref-no-devref`: the original CXL design that the patch "cxl/mem:
//! Fix synchronization mechanism for device removal vs ioctl operations"
//! replaced. The ioctl finds the memdev through the file's inode and is
//! gated by `percpu_ref_tryget_live(&cxlmd->ops_active)`; the driver has no
//! `open()`, so the file takes no device reference of its own. Removal
//! kills the percpu_ref, deletes the cdev and device, waits for the ioctls
//! in flight, clears `cxlmd->cxlm` and drops the probe's device reference.
//!
//! ```c
//! static long cxl_memdev_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
//! {
//!         struct cxl_memdev *cxlmd;
//!         struct inode *inode;
//!         int rc = -ENOTTY;
//!
//!         inode = file_inode(file);
//!         cxlmd = container_of(inode->i_cdev, typeof(*cxlmd), cdev);
//!
//!         if (!percpu_ref_tryget_live(&cxlmd->ops_active))
//!                 return -ENXIO;
//!         rc = __cxl_memdev_ioctl(cxlmd, cmd, arg);
//!         percpu_ref_put(&cxlmd->ops_active);
//!         return rc;
//! }
//!
//! static void cxl_memdev_unregister(void *_cxlmd)
//! {
//!         percpu_ref_kill(&cxlmd->ops_active);
//!         cdev_device_del(&cxlmd->cdev, &cxlmd->dev);
//!         wait_for_completion(&cxlmd->ops_dead);
//!         cxlmd->cxlm = NULL;
//!         put_device(&cxlmd->dev);
//! }
//! ```
//!
//! # Verdict: clean
//!
//! The patch's message calls this design "missing a device reference before
//! accessing the percpu_ref", and an earlier model of this zoo reported a
//! use-after-removal of the memdev: a late ioctl reading `ops_active` after
//! the final `put_device()` freed `cxlmd`. That was an artifact of a model
//! in which an open file pinned nothing. In the kernel it does:
//!
//! * the memdev was added with `cdev_device_add()`, which calls
//!   `cdev_set_parent(&cxlmd->cdev, &cxlmd->dev.kobj)`; `cdev_add()` then
//!   takes `kobject_get()` on that parent (fs/char_dev.c);
//! * `chrdev_open()` takes a reference on the cdev's kobject
//!   (`cdev_get()` → `kobject_get_unless_zero()`), and the open file holds
//!   it until `__fput()` (fs/file_table.c) calls `cdev_put()` after the
//!   driver's `release`;
//! * only when that last reference goes does `cdev_default_release()` run
//!   `kobject_put(parent)`, so `put_device()` in removal cannot be the last
//!   put of `cxlmd->dev` while any file is open: `cxl_memdev_release()`
//!   (`kfree(cxlmd)`) runs after the last `__fput()`.
//!
//! With the memdev pinned, `percpu_ref_tryget_live()` after
//! `percpu_ref_kill()` fails, every ioctl that got past it is waited for
//! through `ops_dead`, and the driver data is freed only after that: the
//! model finds nothing, under sequential consistency and under C11. The
//! missing device reference is a real use-after-free only for a cdev added
//! with a bare `cdev_add()` and no parent: see `percpu-ref-bare-cdev`.

use super::memdev::{mem_name, Memdev};
use crate::workload::{probe_fn, Driver, Probe, Workload};
use harness::kernel::{
    cdev_del, cdev_device_del, complete, device_del, percpu_ref_kill, percpu_ref_put,
    percpu_ref_tryget_live, wait_for_completion, Completion, DevT, File, PercpuRef, ENXIO,
};
use std::sync::Arc;

/// The percpu_ref-gated memdev, added either way.
pub(super) struct PercpuRefGate {
    md: Memdev,
    ops_active: PercpuRef,
    ops_dead: Completion,
    /// Added with a bare `cdev_add()` (no parent) instead of
    /// `cdev_device_add()`.
    bare_cdev: bool,
}

impl Driver for PercpuRefGate {
    fn devt(&self) -> &DevT {
        &self.md.devt
    }

    // No open() and no release(): the file takes no device reference of
    // its own; `cxlmd` is `container_of(file_inode(file)->i_cdev, …)`.

    fn ioctl(&self, _file: &File, _cmd: u32, _arg: u64) -> i64 {
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
            if self.bare_cdev {
                cdev_del(&md.cdev);
                device_del(&md.dev);
            } else {
                cdev_device_del(&md.cdev, &md.dev);
            }
            wait_for_completion(&self.ops_dead);
            md.cxlm_ptr.write(None);
        });
    }
}

/// Probe every device of `wl` with the percpu_ref gate.
pub(super) fn probe_gate(wl: &Workload, bare_cdev: bool) -> Probe {
    let remove_work = wl.remove_work;
    probe_fn(move |i, devt| {
        let md = if bare_cdev {
            Memdev::probe_bare_cdev(i, devt, remove_work)
        } else {
            Memdev::probe(i, devt, remove_work)
        };
        let ops_dead = Completion::new(mem_name(i, ".cxlmd->ops_dead"), Some(md.cxlmd));
        // cxlmdev_ops_active_release(): complete(&cxlmd->ops_dead).
        let ops_active = PercpuRef::new(
            mem_name(i, ".cxlmd->ops_active"),
            Some(md.cxlmd),
            move || complete(&ops_dead),
        );
        Arc::new(PercpuRefGate {
            md,
            ops_active,
            ops_dead,
            bare_cdev,
        })
    })
}

pub(super) fn probe(wl: &Workload) -> Probe {
    probe_gate(wl, false)
}
