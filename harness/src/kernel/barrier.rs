//! The lighter barriers of `Documentation/memory-barriers.txt`:
//! `smp_rmb()`, `smp_wmb()`, and the full barriers that go with atomic
//! operations and spinlocks (`smp_mb__before_atomic()`,
//! `smp_mb__after_atomic()`, `smp_mb__after_spinlock()`). `smp_mb()` itself
//! is in [`super::once`].
//!
//! Each is one step. Under shuttle (sequential consistency) a barrier
//! changes no value any load returns; it only moves the task's
//! happens-before clocks, by C11's fence rules (the same rules `smp_mb()`
//! follows there). Under loom each is a C11 fence, placed inside the step.
//! Where the C11 fence is stronger than the kernel's barrier, the doc
//! comment says so: the model may then miss an outcome the kernel allows,
//! never report one it forbids.
#![allow(non_snake_case)]

use crate::runtime::Ordering as MemOrder;
use crate::trace::Target;
use crate::world::{step, Op};

/// `smp_rmb()`: orders the task's earlier loads before its later loads.
///
/// Modelled as a C11 acquire fence: a relaxed load before it that read a
/// value published by a release (or by a store after a release fence)
/// synchronises with that release. An acquire fence also orders earlier
/// loads before later *stores*, which `smp_rmb()` does not promise
/// (LKMM's `rmb` relation is read-to-read only): stronger than the kernel.
#[track_caller]
pub fn smp_rmb() {
    step(|cx| {
        cx.record_minor("smp_rmb", Target::None, None);
        cx.loom_fence(MemOrder::Acquire);
        acquire_fence(cx);
    });
}

/// `smp_wmb()`: orders the task's earlier stores before its later stores.
///
/// Modelled as a C11 release fence: a later relaxed store publishes
/// everything before the fence to whoever acquires it. A release fence
/// also orders earlier *loads* before later stores, which `smp_wmb()` does
/// not promise (LKMM's `wmb` relation is write-to-write only): stronger
/// than the kernel.
#[track_caller]
pub fn smp_wmb() {
    step(|cx| {
        cx.record_minor("smp_wmb", Target::None, None);
        cx.loom_fence(MemOrder::Release);
        release_fence(cx);
    });
}

/// `smp_mb__before_atomic()`: a full barrier before a non-value-returning
/// atomic (`atomic_inc()` and friends). In the kernel it is a full barrier
/// only in combination with the atomic that follows it; modelled as a
/// full barrier by itself (`smp_mb()`), which is at least as strong.
#[track_caller]
pub fn smp_mb__before_atomic() {
    full_barrier("smp_mb__before_atomic");
}

/// `smp_mb__after_atomic()`: a full barrier after a non-value-returning
/// atomic; modelled as `smp_mb()` (see [`smp_mb__before_atomic`]).
#[track_caller]
pub fn smp_mb__after_atomic() {
    full_barrier("smp_mb__after_atomic");
}

/// `smp_mb__after_spinlock()`: makes the `spin_lock()` it follows a full
/// barrier; modelled as `smp_mb()` placed right after the lock.
#[track_caller]
pub fn smp_mb__after_spinlock() {
    full_barrier("smp_mb__after_spinlock");
}

#[track_caller]
pub(crate) fn full_barrier(op: &'static str) {
    step(|cx| full_fence(cx, op));
}

/// A full barrier inside a step, recorded as `op`: what `smp_mb()` does
/// (an acquire fence then a release fence; under loom a `SeqCst` fence).
pub(crate) fn full_fence(cx: &mut Op<'_>, op: &'static str) {
    cx.record_minor(op, Target::None, None);
    cx.loom_fence(MemOrder::SeqCst);
    acquire_fence(cx);
    release_fence(cx);
}

/// The happens-before effect of an acquire fence: what the task's relaxed
/// loads observed since becomes ordered before its later events.
pub(crate) fn acquire_fence(cx: &mut Op<'_>) {
    let t = &mut cx.w.tasks[cx.me];
    let observed = t.observed_relaxed;
    t.clock.join(&observed);
}

/// The happens-before effect of a release fence: the task's later relaxed
/// stores publish its history so far.
pub(crate) fn release_fence(cx: &mut Op<'_>) {
    let me = cx.me;
    let t = &mut cx.w.tasks[me];
    t.fence_release = t.clock;
    t.clock.tick(me);
}
