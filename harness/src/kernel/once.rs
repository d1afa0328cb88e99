//! Marked accesses and barriers: `READ_ONCE`, `WRITE_ONCE`,
//! `smp_load_acquire`, `smp_store_release` and `smp_mb`.
//!
//! On the sequentially consistent explorers a marked access is atomic and
//! never races with another marked access. Happens-before follows C11's rules
//! for relaxed accesses and fences: a relaxed store publishes the clock of its
//! task's last full fence, and a relaxed load's observation only becomes
//! ordering at the loading task's next full fence. So `WRITE_ONCE` alone
//! orders nothing, exactly as in the kernel memory model.
#![allow(non_snake_case)]

use super::memory::{cell_access, Action, CellValue, Ordering, Plain};
use crate::world::step;

/// `READ_ONCE(x)`: a marked, relaxed load.
#[track_caller]
pub fn READ_ONCE<T: CellValue>(x: &Plain<T>) -> T {
    T::decode(cell_access(
        x.id,
        "READ_ONCE",
        Ordering::Relaxed,
        Action::Load,
    ))
}

/// `WRITE_ONCE(x, v)`: a marked, relaxed store.
#[track_caller]
pub fn WRITE_ONCE<T: CellValue>(x: &Plain<T>, v: T) {
    cell_access(
        x.id,
        "WRITE_ONCE",
        Ordering::Relaxed,
        Action::Store(v.encode()),
    );
}

/// `smp_load_acquire(x)`: everything before the store it reads from (if that
/// was a release) happens-before what follows.
#[track_caller]
pub fn smp_load_acquire<T: CellValue>(x: &Plain<T>) -> T {
    T::decode(cell_access(
        x.id,
        "smp_load_acquire",
        Ordering::AcquireRelease,
        Action::Load,
    ))
}

/// `smp_store_release(x, v)`: everything before happens-before whoever
/// acquires this value.
#[track_caller]
pub fn smp_store_release<T: CellValue>(x: &Plain<T>, v: T) {
    cell_access(
        x.id,
        "smp_store_release",
        Ordering::AcquireRelease,
        Action::Store(v.encode()),
    );
}

/// `smp_mb()`: a full barrier. Acquires what the task's relaxed loads
/// observed since its last fence, and makes its history so far what its
/// later relaxed stores publish. Under loom: a `SeqCst` fence.
#[track_caller]
pub fn smp_mb() {
    step(|cx| super::barrier::full_fence(cx, "smp_mb"));
}
