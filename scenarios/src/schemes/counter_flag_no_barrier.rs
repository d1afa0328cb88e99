//! `counter-flag-no-barrier`: a hand-rolled "wait for the last user" gate.
//! The ioctl increments a user count, then tests a liveness flag; removal
//! clears the flag, then polls the count down to zero before freeing. All
//! accesses are marked but relaxed, and there is no `smp_mb()` between each
//! side's store and load.
//!
//! Under sequential consistency that is enough. Under the kernel (or C11)
//! memory model it is the store-buffering pattern: both loads may read the
//! old values — the ioctl sees the flag still set, removal sees the count
//! still zero — and the driver data is freed under a running ioctl. Only
//! the weak-memory (loom) backend can see it.
//!
//! The gate is otherwise written as a kernel developer would: the ioctl's
//! accesses to the driver data are ordered before its decrement by
//! `smp_mb__before_atomic()` (a bare `atomic_dec()` orders nothing, so
//! without it the read of `cxlm` would race with the free even under
//! sequential consistency), and removal's free after the poll by `smp_mb()`.
//! Store buffering is the only bug, so the SC explorers find nothing
//! and loom finds the use-after-removal.
//!
//! ```c
//! atomic_inc(&cxlmd->users);
//! if (READ_ONCE(cxlmd->alive))
//!         rc = cxl_send_cmd(cxlmd->cxlm, arg);
//! smp_mb__before_atomic();
//! atomic_dec(&cxlmd->users);
//!
//! WRITE_ONCE(cxlmd->alive, false);
//! while (atomic_read(&cxlmd->users))
//!         cpu_relax();
//! smp_mb();
//! /* devm frees cxlm */
//! ```

use super::memdev::{mem_name, Memdev};
use crate::memdev_file_ops;
use crate::workload::{Driver, Probe, Workload};
use harness::kernel::{
    atomic_dec, atomic_inc, atomic_read, cdev_device_del, cpu_relax, smp_mb, smp_mb__before_atomic,
    Atomic, File, Plain, ENXIO, READ_ONCE, WRITE_ONCE,
};

/// The counter/flag gate, with or without the two full barriers that
/// forbid store buffering.
pub(super) struct CounterFlag {
    md: Memdev,
    users: Atomic,
    alive: Plain<bool>,
    store_buffering_barriers: bool,
}

impl Driver for CounterFlag {
    memdev_file_ops!(md);

    fn ioctl(&self, _file: &File, _cmd: u32, _arg: u64) -> i64 {
        atomic_inc(&self.users);
        if self.store_buffering_barriers {
            // Orders the increment before the flag load (pairs with the
            // barrier after removal's flag store).
            smp_mb();
        }
        let rc = if READ_ONCE(&self.alive) {
            Memdev::send_cmd(self.md.cxlm)
        } else {
            -ENXIO
        };
        // Orders the ioctl's accesses to the driver data before the
        // decrement that removal's poll reads (atomic_dec() alone is
        // unordered): without it, the read of cxlm races with the free.
        smp_mb__before_atomic();
        atomic_dec(&self.users);
        rc
    }

    fn remove(&self) {
        let md = &self.md;
        md.unbind(|| {
            cdev_device_del(&md.cdev, &md.dev);
            WRITE_ONCE(&self.alive, false);
            if self.store_buffering_barriers {
                // Orders the flag store before the count load.
                smp_mb();
            }
            while atomic_read(&self.users) != 0 {
                cpu_relax();
            }
            // Orders the ioctls' data accesses, seen through the poll,
            // before the free that follows.
            smp_mb();
        });
    }
}

/// Probe every device with the gate, with or without the store-buffering
/// barriers.
pub(super) fn probe_gate(wl: &Workload, store_buffering_barriers: bool) -> Probe {
    Memdev::probe_each(wl, move |i, md| CounterFlag {
        users: Atomic::new(mem_name(i, ".cxlmd->users"), Some(md.cxlmd), 0),
        alive: Plain::new(mem_name(i, ".cxlmd->alive"), Some(md.cxlmd), true),
        md,
        store_buffering_barriers,
    })
}

pub(super) fn probe(wl: &Workload) -> Probe {
    probe_gate(wl, false)
}
