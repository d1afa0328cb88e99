//! `atomic_t`: relaxed atomic counters (`atomic_inc`, `atomic_dec`,
//! `atomic_read`), the building block of hand-rolled "count the users" gates.

use super::memory::{cell_access, Action, Object, Ordering, Plain};
use super::once::full_barrier;
use crate::world::step;
use std::borrow::Cow;

/// An `atomic_t`: a counter cell whose every access is marked and relaxed
/// (the non-value-returning atomics imply no barrier in the kernel).
#[derive(Clone, Copy)]
pub struct Atomic {
    cell: Plain<i64>,
}

impl Atomic {
    /// `atomic_set(&v, init)` on a new counter embedded in `owner`.
    #[track_caller]
    pub fn new(name: impl Into<Cow<'static, str>>, owner: Option<Object>, init: i64) -> Self {
        Atomic {
            cell: Plain::new(name, owner, init),
        }
    }
}

/// `atomic_inc(&v)`: one indivisible relaxed read-modify-write.
#[track_caller]
pub fn atomic_inc(v: &Atomic) {
    rmw(v, "atomic_inc", 1);
}

/// `atomic_dec(&v)`: one indivisible relaxed read-modify-write.
#[track_caller]
pub fn atomic_dec(v: &Atomic) {
    rmw(v, "atomic_dec", -1);
}

/// `atomic_read(&v)`: a relaxed load.
#[track_caller]
pub fn atomic_read(v: &Atomic) -> i64 {
    cell_access(v.cell.id, "atomic_read", Ordering::Relaxed, Action::Load) as i64
}

/// `smp_mb__before_atomic()`: makes the value-less atomic read-modify-write
/// that follows (`atomic_dec()`, `atomic_inc()`, …) fully ordered against
/// everything before it (Documentation/atomic_t.txt). The model trusts the
/// scenario to follow it with such an atomic, as the kernel requires, and
/// gives it the effect of `smp_mb()` (on x86 it is a compiler barrier only
/// because the locked instruction after it is itself a full barrier).
#[track_caller]
#[allow(non_snake_case)] // the kernel's name
pub fn smp_mb__before_atomic() {
    step(|cx| full_barrier(cx, "smp_mb__before_atomic"));
}

#[track_caller]
fn rmw(v: &Atomic, op: &'static str, delta: i64) {
    cell_access(v.cell.id, op, Ordering::Relaxed, Action::Add(delta as u64));
}
