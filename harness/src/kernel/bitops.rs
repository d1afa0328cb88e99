//! Atomic bit operations on an `unsigned long` (a `Plain<i64>` here, its bits those of the word):
//! include/asm-generic/bitops/atomic.h, include/asm-generic/bitops/lock.h,
//! with the ordering rules of Documentation/atomic_bitops.txt:
//!
//! * `test_bit()` is a relaxed load (`READ_ONCE()` of the word);
//! * `set_bit()` and `clear_bit()` are unordered RMWs
//!   (`arch_atomic_long_or()` / `arch_atomic_long_andnot()`);
//! * `test_and_set_bit()` and `test_and_clear_bit()` are fully ordered
//!   (`arch_atomic_long_fetch_or()` / `_fetch_andnot()`) when they change
//!   the bit;
//! * `test_and_set_bit_lock()` is an acquire (`_fetch_or_acquire()`),
//!   `clear_bit_unlock()` a release (`_andnot_release()`): a bit lock.
//!
//! Each is one step: an RMW with those orderings (see [`super::atomic`] for
//! what they are under shuttle and loom). The generic `test_and_set_bit()`
//! returns early, with a relaxed load and no ordering, when the bit is
//! already set; the model always performs the fully ordered RMW, which is
//! stronger than the kernel on that path only. Bit numbers are 0..64; a
//! larger one is a bug in the scenario (it panics).

use super::memory::{cell_access, Action, FetchOp, Ordering, Plain, RmwOrder};

#[track_caller]
fn mask(nr: u32) -> u64 {
    assert!(nr < 64, "bit number {nr} out of the 64-bit word");
    1u64 << nr
}

#[track_caller]
fn fetch(addr: &Plain<i64>, op: &'static str, f: FetchOp, order: RmwOrder) -> u64 {
    cell_access(
        addr.id,
        op,
        Ordering::Relaxed,
        Action::Fetch { op: f, order },
    )
}

/// `test_bit(nr, addr)`: whether bit `nr` is set; a relaxed load.
#[track_caller]
pub fn test_bit(nr: u32, addr: &Plain<i64>) -> bool {
    let m = mask(nr);
    cell_access(addr.id, "test_bit", Ordering::Relaxed, Action::Load) & m != 0
}

/// `set_bit(nr, addr)`: set bit `nr` indivisibly; unordered.
#[track_caller]
pub fn set_bit(nr: u32, addr: &Plain<i64>) {
    fetch(addr, "set_bit", FetchOp::Or(mask(nr)), RmwOrder::Relaxed);
}

/// `clear_bit(nr, addr)`: clear bit `nr` indivisibly; unordered (a
/// `smp_mb__before_atomic()` is needed before it to publish anything).
#[track_caller]
pub fn clear_bit(nr: u32, addr: &Plain<i64>) {
    fetch(
        addr,
        "clear_bit",
        FetchOp::AndNot(mask(nr)),
        RmwOrder::Relaxed,
    );
}

/// `test_and_set_bit(nr, addr)`: set bit `nr`, returning whether it was
/// already set; fully ordered.
#[track_caller]
pub fn test_and_set_bit(nr: u32, addr: &Plain<i64>) -> bool {
    let m = mask(nr);
    fetch(addr, "test_and_set_bit", FetchOp::Or(m), RmwOrder::Full) & m != 0
}

/// `test_and_clear_bit(nr, addr)`: clear bit `nr`, returning whether it was
/// set; fully ordered.
#[track_caller]
pub fn test_and_clear_bit(nr: u32, addr: &Plain<i64>) -> bool {
    let m = mask(nr);
    fetch(
        addr,
        "test_and_clear_bit",
        FetchOp::AndNot(m),
        RmwOrder::Full,
    ) & m
        != 0
}

/// `test_and_set_bit_lock(nr, addr)`: take a bit lock; whether it was
/// already held (then the caller did not get it). An acquire.
#[track_caller]
pub fn test_and_set_bit_lock(nr: u32, addr: &Plain<i64>) -> bool {
    let m = mask(nr);
    fetch(
        addr,
        "test_and_set_bit_lock",
        FetchOp::Or(m),
        RmwOrder::Acquire,
    ) & m
        != 0
}

/// `clear_bit_unlock(nr, addr)`: release a bit lock. A release.
#[track_caller]
pub fn clear_bit_unlock(nr: u32, addr: &Plain<i64>) {
    fetch(
        addr,
        "clear_bit_unlock",
        FetchOp::AndNot(mask(nr)),
        RmwOrder::Release,
    );
}
