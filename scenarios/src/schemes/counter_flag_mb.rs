//! `counter-flag-mb`: `counter-flag-no-barrier` with `smp_mb()` between each
//! side's store and load. The two barriers forbid store buffering: if
//! removal's count load misses the increment, the ioctl's flag load must see
//! the cleared flag. As in `counter-flag-no-barrier`, the ioctl's accesses
//! to the driver data are ordered before its decrement by
//! `smp_mb__before_atomic()` (a bare `atomic_dec()` orders nothing), and
//! removal's free after the poll that read the decrement by the last
//! `smp_mb()`: the free happens after every ioctl that saw the flag set.
//! Clean under every memory model.
//!
//! ```c
//! atomic_inc(&cxlmd->users);
//! smp_mb();
//! if (READ_ONCE(cxlmd->alive))
//!         rc = cxl_send_cmd(cxlmd->cxlm, arg);
//! smp_mb__before_atomic();
//! atomic_dec(&cxlmd->users);
//!
//! WRITE_ONCE(cxlmd->alive, false);
//! smp_mb();
//! while (atomic_read(&cxlmd->users))
//!         cpu_relax();
//! smp_mb();
//! /* devm frees cxlm */
//! ```

use super::counter_flag_no_barrier::probe_gate;
use crate::workload::{Probe, Workload};

pub(super) fn probe(wl: &Workload) -> Probe {
    probe_gate(wl, true)
}
