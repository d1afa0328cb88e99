//! RCU-protected pointers: `rcu_assign_pointer()` publishes with release
//! semantics, `srcu_dereference()` reads with dependency ordering (modelled
//! as acquire, which is what it guarantees for accesses through the pointer).

use super::memory::{cell_access, Action, CellValue, Object, Ordering, Plain};
use super::srcu::SrcuStruct;
use crate::trace::Target;
use crate::world::step;

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

/// `rcu_dereference(p)`: the RCU-protected load of a pointer, legal only
/// between `rcu_read_lock()` and `rcu_read_unlock()`.
///
/// The kernel orders only accesses that depend on the loaded pointer (an
/// address dependency, which every architecture but Alpha respects and
/// `READ_ONCE()` makes Alpha respect); the model makes it an acquire (a
/// C11 acquire load under loom), which also orders independent later
/// accesses: stronger than the kernel, never weaker.
#[track_caller]
pub fn rcu_dereference(p: &Plain<Option<Object>>) -> Option<Object> {
    CellValue::decode(cell_access(
        p.id,
        "rcu_dereference",
        Ordering::AcquireRelease,
        Action::Load,
    ))
}

/// `rcu_read_lock()`: enter an RCU read-side critical section. With no
/// `synchronize_rcu()` in the model it orders nothing (in a non-preemptible
/// kernel it compiles to `preempt_disable()`): a marker in the trace.
#[track_caller]
pub fn rcu_read_lock() {
    step(|cx| {
        cx.record_minor("rcu_read_lock", Target::None, None);
    });
}

/// `rcu_read_unlock()`: leave an RCU read-side critical section (see
/// [`rcu_read_lock`]).
#[track_caller]
pub fn rcu_read_unlock() {
    step(|cx| {
        cx.record_minor("rcu_read_unlock", Target::None, None);
    });
}
