//! `spinlock_t`: `spin_lock()` / `spin_unlock()`.
//!
//! Kernel semantics (include/linux/spinlock.h, and the lock rules of the
//! kernel memory model in tools/memory-model/linux-kernel.cat):
//!
//! * `spin_lock()` is an acquire and `spin_unlock()` a release: a task
//!   taking the lock sees everything the previous holder did before
//!   releasing it (`MP+polocks`, `MP+porevlocks`).
//! * What a critical section does is ordered, for every observer, after
//!   what the earlier critical sections of the same lock did, even for a
//!   task that never takes the lock (`ISA2+pooncelock+pooncelock+pombonce`):
//!   LKMM gets this from the lock's acquire ordering the later stores and
//!   from other-multicopy atomicity.
//! * An unlock followed, on the same CPU, by a lock (of the same lock or
//!   any other) orders every access before the unlock against every access
//!   after the lock, except a store before against a load after — the TSO
//!   ordering LKMM calls `po-unlock-lock-po`
//!   (`MP+unlocklockonceonce+fencermbonceonce`,
//!   `LB+unlocklockonceonce+poacquireonce`).
//!
//! Under loom the lock and unlock are an acquire and a release
//! read-modify-write of the lock's word, C11's model of a lock, and the
//! lock is followed by a C11 fence inside its step:
//!
//! * a release fence: the stores of the critical section then publish the
//!   lock's acquisition to whoever observes them (with an acquire, a
//!   `smp_rmb()` or a `smp_mb()`), which is the cumulativity of the second
//!   point that C11 has no other way to express. It is stronger than the
//!   kernel in one respect: stores made *before* `spin_lock()` are ordered
//!   against the stores of the critical section, which the kernel does not
//!   promise (an access may move into a critical section).
//! * after an earlier `spin_unlock()` by the same task, an `AcqRel` fence
//!   instead: it also orders loads before it against loads after, which
//!   completes the TSO ordering of the third point (and, stronger than the
//!   kernel, orders the accesses made between the unlock and the lock too).
//!
//! Under shuttle the lock works like the other locks of the model: the
//! holder is exclusive, a contended `spin_lock()` parks the task until the
//! unlock (a spinning CPU makes no progress either), and happens-before is
//! the release/acquire pair of clocks plus the fences' clock effects.

use super::barrier::{acquire_fence, release_fence};
use super::memory::Object;
use super::rwsem::misuse;
use crate::clock::VectorClock;
use crate::runtime::Ordering as MemOrder;
use crate::trace::Target;
use crate::world::{step, step_blocking, step_on, Prim, PrimitiveState, TaskNames};
use std::borrow::Cow;

/// A spinlock (`DEFINE_SPINLOCK(name)` / `spin_lock_init()`).
#[derive(Clone, Copy, Debug)]
pub struct Spinlock {
    id: Prim<SpinlockState>,
}

/// Who holds the lock, and the clock its last unlock published.
#[derive(Debug, Default)]
pub(crate) struct SpinlockState {
    holder: Option<usize>,
    release: VectorClock,
}

impl PrimitiveState for SpinlockState {
    fn describe_holders(&self, w: &TaskNames<'_>) -> String {
        match self.holder {
            Some(t) => format!("held by {}", w.name(t)),
            None => String::new(),
        }
    }
}

impl Spinlock {
    /// `DEFINE_SPINLOCK(name)` (or `spin_lock_init` on a field of `owner`).
    #[track_caller]
    pub fn new(name: impl Into<Cow<'static, str>>, owner: Option<Object>) -> Self {
        let name = name.into();
        step(|cx| Spinlock {
            id: cx.add_prim(name, owner.map(|o| o.id()), SpinlockState::default()),
        })
    }
}

/// `spin_lock(&l)`: an acquire, then the fence that makes the critical
/// section's stores carry it (and, after an earlier `spin_unlock()` by the
/// same task, the unlock+lock ordering): see the module doc.
#[track_caller]
pub fn spin_lock(l: &Spinlock) {
    step_blocking(l.id, "spin_lock", MemOrder::Acquire, |cx| {
        let me = cx.me;
        let s = cx.state(l.id);
        if s.holder.is_some() {
            return None;
        }
        s.holder = Some(me);
        let clock = s.release;
        cx.acquire(&clock);
        let e = cx.record("spin_lock", Target::Prim(l.id.into()), None);
        let owner = cx.w.prim(l.id).owner;
        cx.check_owner(owner, e);
        if std::mem::take(&mut cx.w.tasks[me].unlocked) {
            cx.loom_fence(MemOrder::AcqRel);
            acquire_fence(cx);
        } else {
            cx.loom_fence(MemOrder::Release);
        }
        release_fence(cx);
        Some(())
    })
}

/// `spin_unlock(&l)`: a release.
#[track_caller]
pub fn spin_unlock(l: &Spinlock) {
    step_on(l.id, MemOrder::Release, |cx| {
        let e = cx.record("spin_unlock", Target::Prim(l.id.into()), None);
        let owner = cx.w.prim(l.id).owner;
        if !cx.check_owner(owner, e) {
            return;
        }
        let me = cx.me;
        let s = cx.state(l.id);
        if s.holder != Some(me) {
            return misuse(cx, e, "spin_unlock() of a spinlock not held");
        }
        s.holder = None;
        let mut clock = s.release;
        cx.release(&mut clock);
        cx.state(l.id).release = clock;
        cx.w.tasks[me].unlocked = true;
        cx.wake_all(l.id);
    });
}

/// `spin_trylock(&l)`: take the lock if it is free, without spinning;
/// whether it did (include/asm-generic/qspinlock.h: `queued_spin_trylock()`,
/// an acquire cmpxchg). On success it is a `spin_lock()`, fences included;
/// under loom a failed one is still an acquire RMW of the lock's word
/// (stronger than the kernel's failed cmpxchg, which orders nothing).
#[track_caller]
pub fn spin_trylock(l: &Spinlock) -> bool {
    step_on(l.id, MemOrder::Acquire, |cx| {
        let me = cx.me;
        let s = cx.state(l.id);
        let free = s.holder.is_none();
        if free {
            s.holder = Some(me);
            let clock = s.release;
            cx.acquire(&clock);
        }
        let e = cx.record(
            "spin_trylock",
            Target::Prim(l.id.into()),
            Some(crate::trace::Value::Bool(free)),
        );
        let owner = cx.w.prim(l.id).owner;
        cx.check_owner(owner, e);
        if free {
            if std::mem::take(&mut cx.w.tasks[me].unlocked) {
                cx.loom_fence(MemOrder::AcqRel);
                acquire_fence(cx);
            } else {
                cx.loom_fence(MemOrder::Release);
            }
            release_fence(cx);
        }
        free
    })
}
