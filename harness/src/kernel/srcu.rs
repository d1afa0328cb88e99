//! Sleepable RCU as the real algorithm, not as a lock.
//!
//! A domain has a grace-period counter whose low bit is the current index,
//! and a reader count per index. `srcu_read_lock()` is two steps — load the
//! index, then increment that index's count — and returns the index, which
//! `srcu_read_unlock()` decrements. `synchronize_srcu()`:
//!
//! 1. waits for the readers of the *inactive* index to drain,
//! 2. flips the index,
//! 3. waits for the readers of the previously active index to drain.
//!
//! Step 1 is the double drain. A reader may load the index, stall across a
//! whole grace period, and only then increment the count of what has become
//! the inactive index; that reader is invisible to the next grace period's
//! step 3, and only step 1 waits for it. [`SrcuStruct::new_single_drain`]
//! builds the broken variant that skips step 1, with one device's removal
//! racing another's ioctl in a shared domain as the way to hit it.
//!
//! Updaters are serialised by the domain's grace-period mutex, as in the
//! kernel (`srcu_gp_mutex`).
//!
//! Ordering. Under shuttle the clocks below model what the algorithm's
//! barriers guarantee. Under loom the counters stay the world's (every SRCU
//! step is a relaxed read-modify-write of the domain's loom word, so loom
//! interleaves them), and the ordering comes from the kernel's own full
//! barriers, as loom `SeqCst` fences at the kernel's places:
//!
//! * B: after the reader's increment (`srcu_read_lock`),
//! * C: before the reader's decrement (`srcu_read_unlock`),
//! * A: before the updater reads a count (each drain attempt),
//! * D: after a drain saw the count at zero, and around the index flip.
//!
//! A and B are the store-buffering pair: if the updater's count read
//! missed a reader's increment, the reader's later loads see everything the
//! updater did before A. C and D hand a finished critical section over to
//! the updater.

use crate::clock::VectorClock;
use crate::runtime::Ordering as MemOrder;
use crate::trace::{Target, Value};
use crate::world::{step, step_blocking, step_on, Prim, PrimitiveState, TaskNames};
use std::borrow::Cow;

/// An SRCU domain (`DEFINE_STATIC_SRCU(name)`).
#[derive(Clone, Copy, Debug)]
pub struct SrcuStruct {
    id: Prim<SrcuState>,
}

/// The domain: grace-period counter, per-index reader counts, and the clocks
/// that order readers and updaters.
#[derive(Debug, Default)]
pub(crate) struct SrcuState {
    completed: u64,
    readers: [i64; 2],
    single_drain: bool,
    gp_holder: Option<usize>,
    /// Published by each `srcu_read_unlock` on that index; acquired when an
    /// updater sees the index drained.
    unlock_release: [VectorClock; 2],
    /// Published by the index flip; acquired by readers that load the new
    /// index (their critical section starts after the grace period did).
    flip_release: VectorClock,
    /// Published by an updater's check of the reader count of each index,
    /// acquired by a reader's increment of that same index. This is the
    /// store-buffering pair of full barriers at the heart of SRCU: `smp_mb()`
    /// after the reader's increment (`srcu_read_lock()`), `smp_mb()` before
    /// the updater's count check (`srcu_readers_active_idx_check()` in
    /// kernel/rcu/srcutree.c). If the check of `count[i]` did not see an
    /// increment of `count[i]`, that reader must see everything the updater
    /// did before the check. The pairing is per location: a check of one
    /// index says nothing about a reader incrementing the other, so one
    /// clock per index.
    check_release: [VectorClock; 2],
}

impl PrimitiveState for SrcuState {
    fn describe_holders(&self, _tasks: &TaskNames<'_>) -> String {
        format!(
            "index {}, readers [{}, {}]",
            self.completed & 1,
            self.readers[0],
            self.readers[1]
        )
    }
}

impl SrcuStruct {
    /// `DEFINE_STATIC_SRCU(name)` with the correct, double-drain grace period.
    #[track_caller]
    pub fn new(name: impl Into<Cow<'static, str>>) -> Self {
        Self::create(name.into(), false)
    }

    /// A deliberately broken domain whose `synchronize_srcu()` drains only the
    /// previously active index (no wait for the inactive one before the flip).
    #[track_caller]
    pub fn new_single_drain(name: impl Into<Cow<'static, str>>) -> Self {
        Self::create(name.into(), true)
    }

    #[track_caller]
    fn create(name: Cow<'static, str>, single_drain: bool) -> Self {
        step(|cx| SrcuStruct {
            id: cx.add_prim(
                name,
                None,
                SrcuState {
                    single_drain,
                    ..SrcuState::default()
                },
            ),
        })
    }
}

/// `srcu_read_lock(&ss)`: enter a read-side critical section; returns the
/// index to pass to [`srcu_read_unlock`].
#[track_caller]
pub fn srcu_read_lock(ss: &SrcuStruct) -> usize {
    // Step 1: idx = READ_ONCE(ss->completed) & 1.
    let idx = step_on(ss.id, MemOrder::Relaxed, |cx| {
        let s = cx.state(ss.id);
        let idx = (s.completed & 1) as usize;
        let flip = s.flip_release;
        cx.acquire(&flip);
        cx.record(
            "srcu_read_lock: idx",
            Target::Prim(ss.id.into()),
            Some(Value::Int(idx as i64)),
        );
        idx
    });
    // Step 2: this_cpu_inc(ss->lock_count[idx]); smp_mb().
    step_on(ss.id, MemOrder::Relaxed, |cx| {
        let s = cx.state(ss.id);
        s.readers[idx] += 1;
        let checks = s.check_release[idx];
        cx.acquire(&checks);
        cx.loom_fence(MemOrder::SeqCst); // B
        cx.record(
            "srcu_read_lock",
            Target::Prim(ss.id.into()),
            Some(Value::Int(idx as i64)),
        );
    });
    idx
}

/// `srcu_read_unlock(&ss, idx)`: leave the critical section entered on `idx`.
#[track_caller]
pub fn srcu_read_unlock(ss: &SrcuStruct, idx: usize) {
    step_on(ss.id, MemOrder::Relaxed, |cx| {
        cx.loom_fence(MemOrder::SeqCst); // C
        let mut clock = cx.state(ss.id).unlock_release[idx & 1];
        cx.release(&mut clock);
        let s = cx.state(ss.id);
        s.unlock_release[idx & 1] = clock;
        s.readers[idx & 1] -= 1;
        cx.record(
            "srcu_read_unlock",
            Target::Prim(ss.id.into()),
            Some(Value::Int(idx as i64)),
        );
        cx.wake_all(ss.id);
    });
}

/// Wait until the readers of `idx` have drained, then acquire their unlocks.
#[track_caller]
fn drain(ss: &SrcuStruct, idx: usize, op: &'static str, end_grace_period: bool) {
    step_blocking(ss.id, op, MemOrder::Relaxed, |cx| {
        cx.loom_fence(MemOrder::SeqCst); // A
        let mut checks = cx.state(ss.id).check_release[idx];
        cx.release(&mut checks);
        let s = cx.state(ss.id);
        s.check_release[idx] = checks;
        if s.readers[idx] != 0 {
            return None;
        }
        let clock = s.unlock_release[idx];
        if end_grace_period {
            s.gp_holder = None;
        }
        cx.acquire(&clock);
        cx.loom_fence(MemOrder::SeqCst); // D
        cx.record(op, Target::Prim(ss.id.into()), Some(Value::Int(idx as i64)));
        if end_grace_period {
            cx.wake_all(ss.id);
        }
        Some(())
    })
}

/// `synchronize_srcu(&ss)`: returns after every read-side critical section
/// that began before it has ended.
#[track_caller]
pub fn synchronize_srcu(ss: &SrcuStruct) {
    // Take the grace-period mutex and read the active index in one step: the
    // index only changes under that mutex, so nothing can interleave there.
    let (active, single) = step_blocking(ss.id, "synchronize_srcu", MemOrder::Relaxed, |cx| {
        let me = cx.me;
        let s = cx.state(ss.id);
        if s.gp_holder.is_some() {
            return None;
        }
        s.gp_holder = Some(me);
        let r = ((s.completed & 1) as usize, s.single_drain);
        cx.record("synchronize_srcu", Target::Prim(ss.id.into()), None);
        Some(r)
    });
    if !single {
        drain(ss, active ^ 1, "synchronize_srcu: drained", false);
    }
    step_on(ss.id, MemOrder::Relaxed, |cx| {
        let mut clock = cx.state(ss.id).flip_release;
        cx.loom_fence(MemOrder::SeqCst); // D (flip)
        cx.release(&mut clock);
        let s = cx.state(ss.id);
        s.flip_release = clock;
        s.completed += 1;
        let idx = (s.completed & 1) as i64;
        cx.record(
            "synchronize_srcu: flip",
            Target::Prim(ss.id.into()),
            Some(Value::Int(idx)),
        );
    });
    // The grace period ends, and the mutex is released, in the step that
    // sees the old index drained.
    drain(ss, active, "synchronize_srcu: drained", true);
}
