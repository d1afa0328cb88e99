//! `atomic_t`: relaxed atomic counters (`atomic_inc`, `atomic_dec`,
//! `atomic_read`, `atomic_set`), the building block of hand-rolled "count
//! the users" gates, and the fully ordered value-returning
//! `atomic_inc_return()`.
//!
//! Documentation/atomic_t.txt: the non-value-returning RMWs and
//! `atomic_read()`/`atomic_set()` are unordered (relaxed); a value-returning
//! RMW without a suffix is fully ordered, as if `smp_mb()` ran before and
//! after it.

use super::barrier::full_barrier;
use super::memory::{cell_access, Action, Object, Ordering, Plain};
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

/// `atomic_set(&v, i)`: a relaxed store (`WRITE_ONCE` of the counter).
#[track_caller]
pub fn atomic_set(v: &Atomic, i: i64) {
    cell_access(
        v.cell.id,
        "atomic_set",
        Ordering::Relaxed,
        Action::Store(i as u64),
    );
}

/// `atomic_inc_return(&v)`: the incremented value, fully ordered: a full
/// barrier, the relaxed increment, a full barrier (under loom, `SeqCst`
/// fences around a relaxed `fetch_add`; the fences are at least as strong
/// as the kernel's ordering).
#[track_caller]
pub fn atomic_inc_return(v: &Atomic) -> i64 {
    full_barrier("smp_mb");
    let old = cell_access(
        v.cell.id,
        "atomic_inc_return",
        Ordering::Relaxed,
        Action::Add(1),
    ) as i64;
    full_barrier("smp_mb");
    old + 1
}

/// `atomic_add_unless(&v, a, u)`: add `a` unless the counter is `u`;
/// whether it added. The kernel's generic version is this loop: read, then
/// `atomic_try_cmpxchg()` (fully ordered on success) until it succeeds or
/// sees `u`.
#[track_caller]
pub fn atomic_add_unless(v: &Atomic, a: i64, u: i64) -> bool {
    let mut c = atomic_read(v);
    loop {
        if c == u {
            return false;
        }
        let seen = super::cmpxchg::cmpxchg(&v.cell, c, c + a);
        if seen == c {
            return true;
        }
        c = seen;
    }
}

#[track_caller]
fn rmw(v: &Atomic, op: &'static str, delta: i64) {
    cell_access(v.cell.id, op, Ordering::Relaxed, Action::Add(delta as u64));
}
