//! `atomic_t`: relaxed atomic counters (`atomic_inc`, `atomic_dec`,
//! `atomic_read`, `atomic_set`), the building block of hand-rolled "count
//! the users" gates, and the fully ordered value-returning
//! `atomic_inc_return()`.
//!
//! Documentation/atomic_t.txt: the non-value-returning RMWs and
//! `atomic_read()`/`atomic_set()` are unordered (relaxed); a value-returning
//! RMW without a suffix is fully ordered, as if `smp_mb()` ran before and
//! after it; `_acquire` orders its load before everything after,
//! `_release` everything before its store, `_relaxed` nothing.
//!
//! The value-returning family (`atomic_add_return()`, `atomic_sub_return()`,
//! `atomic_dec_return()`, `atomic_dec_and_test()` and their suffixed forms)
//! is one indivisible step each. Under shuttle it has the clock effects of
//! its ordering (a fully ordered one: a full fence's, then an acquire and a
//! release of the counter, then a full fence's). Under loom it is one C11
//! RMW of the matching ordering, a fully ordered one a `SeqCst` RMW between
//! two `SeqCst` fences.

use super::barrier::full_barrier;
use super::memory::{cell_access, Action, FetchOp, Object, Ordering, Plain, RmwOrder};
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

#[track_caller]
fn add_return(v: &Atomic, op: &'static str, i: i64, order: RmwOrder) -> i64 {
    let old = cell_access(
        v.cell.id,
        op,
        Ordering::Relaxed,
        Action::Fetch {
            op: FetchOp::Add(i as u64),
            order,
        },
    ) as i64;
    old.wrapping_add(i)
}

/// `atomic_add_return(i, &v)`: the new value; fully ordered.
#[track_caller]
pub fn atomic_add_return(i: i64, v: &Atomic) -> i64 {
    add_return(v, "atomic_add_return", i, RmwOrder::Full)
}

/// `atomic_add_return_relaxed(i, &v)`: the new value; unordered.
#[track_caller]
pub fn atomic_add_return_relaxed(i: i64, v: &Atomic) -> i64 {
    add_return(v, "atomic_add_return_relaxed", i, RmwOrder::Relaxed)
}

/// `atomic_add_return_acquire(i, &v)`: the new value; the load half is an
/// acquire.
#[track_caller]
pub fn atomic_add_return_acquire(i: i64, v: &Atomic) -> i64 {
    add_return(v, "atomic_add_return_acquire", i, RmwOrder::Acquire)
}

/// `atomic_add_return_release(i, &v)`: the new value; the store half is a
/// release.
#[track_caller]
pub fn atomic_add_return_release(i: i64, v: &Atomic) -> i64 {
    add_return(v, "atomic_add_return_release", i, RmwOrder::Release)
}

/// `atomic_sub_return(i, &v)`: the new value; fully ordered.
#[track_caller]
pub fn atomic_sub_return(i: i64, v: &Atomic) -> i64 {
    add_return(v, "atomic_sub_return", i.wrapping_neg(), RmwOrder::Full)
}

/// `atomic_sub_return_relaxed(i, &v)`: the new value; unordered.
#[track_caller]
pub fn atomic_sub_return_relaxed(i: i64, v: &Atomic) -> i64 {
    add_return(
        v,
        "atomic_sub_return_relaxed",
        i.wrapping_neg(),
        RmwOrder::Relaxed,
    )
}

/// `atomic_sub_return_acquire(i, &v)`: the new value; the load half is an
/// acquire.
#[track_caller]
pub fn atomic_sub_return_acquire(i: i64, v: &Atomic) -> i64 {
    add_return(
        v,
        "atomic_sub_return_acquire",
        i.wrapping_neg(),
        RmwOrder::Acquire,
    )
}

/// `atomic_sub_return_release(i, &v)`: the new value; the store half is a
/// release (the "drop my reference, publishing my work" idiom).
#[track_caller]
pub fn atomic_sub_return_release(i: i64, v: &Atomic) -> i64 {
    add_return(
        v,
        "atomic_sub_return_release",
        i.wrapping_neg(),
        RmwOrder::Release,
    )
}

/// `atomic_dec_return(&v)`: the decremented value; fully ordered.
#[track_caller]
pub fn atomic_dec_return(v: &Atomic) -> i64 {
    add_return(v, "atomic_dec_return", -1, RmwOrder::Full)
}

/// `atomic_dec_return_relaxed(&v)`: the decremented value; unordered.
#[track_caller]
pub fn atomic_dec_return_relaxed(v: &Atomic) -> i64 {
    add_return(v, "atomic_dec_return_relaxed", -1, RmwOrder::Relaxed)
}

/// `atomic_dec_return_acquire(&v)`: the decremented value; acquire.
#[track_caller]
pub fn atomic_dec_return_acquire(v: &Atomic) -> i64 {
    add_return(v, "atomic_dec_return_acquire", -1, RmwOrder::Acquire)
}

/// `atomic_dec_return_release(&v)`: the decremented value; release.
#[track_caller]
pub fn atomic_dec_return_release(v: &Atomic) -> i64 {
    add_return(v, "atomic_dec_return_release", -1, RmwOrder::Release)
}

/// `atomic_dec_and_test(&v)`: decrement; whether the result is zero. Fully
/// ordered (include/linux/atomic/atomic-instrumented.h: it is
/// `atomic_dec_return() == 0`), so the task that sees zero is ordered after
/// everything every earlier decrementer did — the "last one out frees"
/// idiom.
#[track_caller]
pub fn atomic_dec_and_test(v: &Atomic) -> bool {
    add_return(v, "atomic_dec_and_test", -1, RmwOrder::Full) == 0
}
