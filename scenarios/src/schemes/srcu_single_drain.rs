//! `srcu-single-drain`: `srcu-pointer`'s driver, correct as written, on a
//! broken SRCU whose `synchronize_srcu()` only drains the previously active
//! index. Two memdevs share the domain and both are removed.
//!
//! The bug is deep: an ioctl on the second device loads the index, stalls
//! across the first device's entire grace period, increments the count of
//! what is now the inactive index, and dereferences the still-published
//! pointer. The second removal's grace period flips and drains the other
//! index, returns at once, and the driver data is freed under the reader.
//! The real algorithm's first drain (of the inactive index) waits for it.

use super::srcu_pointer::{probe_with, SrcuPointer};
use crate::workload::{Probe, Workload};
use harness::kernel::SrcuStruct;

pub(super) fn probe(wl: &Workload) -> Probe {
    probe_with(
        wl,
        SrcuStruct::new_single_drain("cxl_memdev_srcu"),
        |d: SrcuPointer| d,
    )
}
