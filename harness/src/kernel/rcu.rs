//! RCU-protected pointers: `rcu_assign_pointer()` publishes with release
//! semantics, `srcu_dereference()` reads with dependency ordering (modelled
//! as acquire, which is what it guarantees for accesses through the pointer).

use super::memory::{cell_access, Action, CellValue, Object, Ordering, Plain};
use super::srcu::SrcuStruct;

/// `rcu_assign_pointer(p, v)`.
#[track_caller]
pub fn rcu_assign_pointer(p: &Plain<Option<Object>>, v: Option<Object>) {
    cell_access(
        p.id,
        "rcu_assign_pointer",
        Ordering::AcquireRelease,
        Action::Store(v.encode()),
    );
}

/// `srcu_dereference(p, &ss)`: legal only inside a read-side critical section
/// of `ss` (the model trusts the scenario on that, as sparse would check).
#[track_caller]
pub fn srcu_dereference(p: &Plain<Option<Object>>, _ss: &SrcuStruct) -> Option<Object> {
    CellValue::decode(cell_access(
        p.id,
        "srcu_dereference",
        Ordering::AcquireRelease,
        Action::Load,
    ))
}
