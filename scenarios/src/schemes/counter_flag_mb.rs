//! `counter-flag-mb`: `counter-flag-no-barrier` with `smp_mb()` between each
//! side's store and load. The two barriers forbid store buffering: if
//! removal's count load misses the increment, the ioctl's flag load must see
//! the cleared flag. Clean under every memory model.
//!
//! ```c
//! atomic_inc(&cxlmd->users);
//! smp_mb();
//! if (READ_ONCE(cxlmd->alive))
//!         rc = cxl_send_cmd(cxlmd->cxlm, arg);
//! atomic_dec(&cxlmd->users);
//!
//! WRITE_ONCE(cxlmd->alive, false);
//! smp_mb();
//! while (atomic_read(&cxlmd->users))
//!         cpu_relax();
//! ```

use super::counter_flag_no_barrier::probe_gate;
use crate::workload::{Driver, Workload};
use std::sync::Arc;

pub(super) fn probe(wl: &Workload) -> Vec<Arc<dyn Driver>> {
    probe_gate(wl, true)
}
