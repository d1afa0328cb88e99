//! `xchg()` and `cmpxchg()`, with their `_relaxed`, `_acquire` and
//! `_release` variants, on any scalar (`Plain<T>`), as in C.
//!
//! Documentation/atomic_t.txt: the unsuffixed forms are fully ordered (as
//! if `smp_mb()` ran before and after), `_acquire` orders the load half
//! before everything after, `_release` everything before the store half,
//! `_relaxed` nothing; a *failed* `cmpxchg()` of any form orders nothing.
//!
//! Under shuttle each is one indivisible step, with the clock effects of
//! those orderings. Under loom each is one C11 RMW (`swap`,
//! `compare_exchange` with a relaxed failure ordering) of the matching
//! ordering; a fully ordered one is a `SeqCst` RMW followed, on success,
//! by a `SeqCst` fence, with a leading `SeqCst` fence for `xchg()` too.
//! A successful fully ordered `cmpxchg()` gets no leading fence under loom
//! (C11 has no fence conditional on the outcome of the operation it
//! precedes, and an unconditional one would order failures too): a store
//! before it is ordered before its store and everything after, but not
//! before its own load — weaker than the kernel there, and only there.

use super::memory::{cell_access, Action, CellValue, Ordering, Plain, RmwOrder};

#[track_caller]
fn exchange<T: CellValue>(
    p: &Plain<T>,
    op: &'static str,
    new: T,
    expect: Option<T>,
    order: RmwOrder,
) -> T {
    T::decode(cell_access(
        p.id,
        op,
        Ordering::Relaxed,
        Action::Exchange {
            new: new.encode(),
            expect: expect.map(CellValue::encode),
            order,
        },
    ))
}

/// `xchg(p, new)`: store `new`, return the old value; fully ordered.
#[track_caller]
pub fn xchg<T: CellValue>(p: &Plain<T>, new: T) -> T {
    exchange(p, "xchg", new, None, RmwOrder::Full)
}

/// `xchg_relaxed(p, new)`: unordered.
#[track_caller]
pub fn xchg_relaxed<T: CellValue>(p: &Plain<T>, new: T) -> T {
    exchange(p, "xchg_relaxed", new, None, RmwOrder::Relaxed)
}

/// `xchg_acquire(p, new)`: the load half is an acquire.
#[track_caller]
pub fn xchg_acquire<T: CellValue>(p: &Plain<T>, new: T) -> T {
    exchange(p, "xchg_acquire", new, None, RmwOrder::Acquire)
}

/// `xchg_release(p, new)`: the store half is a release.
#[track_caller]
pub fn xchg_release<T: CellValue>(p: &Plain<T>, new: T) -> T {
    exchange(p, "xchg_release", new, None, RmwOrder::Release)
}

/// `cmpxchg(p, old, new)`: if `*p == old`, store `new`; return the value
/// read. Fully ordered on success, unordered on failure.
#[track_caller]
pub fn cmpxchg<T: CellValue>(p: &Plain<T>, old: T, new: T) -> T {
    exchange(p, "cmpxchg", new, Some(old), RmwOrder::Full)
}

/// `cmpxchg_relaxed(p, old, new)`: unordered.
#[track_caller]
pub fn cmpxchg_relaxed<T: CellValue>(p: &Plain<T>, old: T, new: T) -> T {
    exchange(p, "cmpxchg_relaxed", new, Some(old), RmwOrder::Relaxed)
}

/// `cmpxchg_acquire(p, old, new)`: on success the load half is an acquire.
#[track_caller]
pub fn cmpxchg_acquire<T: CellValue>(p: &Plain<T>, old: T, new: T) -> T {
    exchange(p, "cmpxchg_acquire", new, Some(old), RmwOrder::Acquire)
}

/// `cmpxchg_release(p, old, new)`: on success the store half is a release.
#[track_caller]
pub fn cmpxchg_release<T: CellValue>(p: &Plain<T>, old: T, new: T) -> T {
    exchange(p, "cmpxchg_release", new, Some(old), RmwOrder::Release)
}
