//! `struct mutex`: sleeping mutual exclusion, no recursion.

use super::memory::Object;
use super::rwsem::misuse;
use crate::clock::VectorClock;
use crate::runtime::Ordering as MemOrder;
use crate::trace::Target;
use crate::world::{step, step_blocking, step_on, Op, Prim, PrimitiveState, TaskNames};
use std::borrow::Cow;

/// A mutex (`DEFINE_MUTEX(name)` / `mutex_init()`).
#[derive(Clone, Copy, Debug)]
pub struct Mutex {
    id: Prim<MutexState>,
}

/// Who holds the mutex, and the clock its last unlock published.
#[derive(Debug, Default)]
pub(crate) struct MutexState {
    holder: Option<usize>,
    release: VectorClock,
}

impl PrimitiveState for MutexState {
    fn describe_holders(&self, w: &TaskNames<'_>) -> String {
        match self.holder {
            Some(t) => format!("held by {}", w.name(t)),
            None => String::new(),
        }
    }
}

impl Mutex {
    /// `DEFINE_MUTEX(name)` (or `mutex_init` on a field of `owner`).
    #[track_caller]
    pub fn new(name: impl Into<Cow<'static, str>>, owner: Option<Object>) -> Self {
        let name = name.into();
        step(|cx| Self::create(cx, name, owner))
    }

    /// `mutex_init()` as part of another operation's step (e.g. the
    /// `dev->mutex` that `device_initialize()` sets up).
    pub(crate) fn create(cx: &mut Op<'_>, name: Cow<'static, str>, owner: Option<Object>) -> Self {
        Mutex {
            id: cx.add_prim(name, owner.map(|o| o.id()), MutexState::default()),
        }
    }
}

/// `mutex_lock(&m)`: an acquire.
#[track_caller]
pub fn mutex_lock(m: &Mutex) {
    step_blocking(m.id, "mutex_lock", MemOrder::Acquire, |cx| {
        let me = cx.me;
        let s = cx.state(m.id);
        if s.holder.is_some() {
            return None;
        }
        s.holder = Some(me);
        let clock = s.release;
        cx.acquire(&clock);
        let e = cx.record("mutex_lock", Target::Prim(m.id.into()), None);
        let owner = cx.w.prim(m.id).owner;
        cx.check_owner(owner, e);
        Some(())
    })
}

/// `mutex_unlock(&m)`: a release.
#[track_caller]
pub fn mutex_unlock(m: &Mutex) {
    step_on(m.id, MemOrder::Release, |cx| {
        let e = cx.record("mutex_unlock", Target::Prim(m.id.into()), None);
        let owner = cx.w.prim(m.id).owner;
        if !cx.check_owner(owner, e) {
            return;
        }
        let me = cx.me;
        let s = cx.state(m.id);
        if s.holder != Some(me) {
            return misuse(cx, e, "mutex_unlock() of a mutex not held");
        }
        s.holder = None;
        let mut clock = s.release;
        cx.release(&mut clock);
        cx.state(m.id).release = clock;
        cx.wake_all(m.id);
    });
}

/// `mutex_trylock(&m)`: take the mutex if it is free, without sleeping;
/// whether it did (kernel/locking/mutex.c: `__mutex_trylock()`, an acquire
/// cmpxchg of the owner word on success). Under loom the step is an
/// acquire RMW of the mutex's word either way (a failed trylock acquiring
/// is stronger than the kernel's, which orders nothing).
#[track_caller]
pub fn mutex_trylock(m: &Mutex) -> bool {
    step_on(m.id, MemOrder::Acquire, |cx| {
        let me = cx.me;
        let s = cx.state(m.id);
        let free = s.holder.is_none();
        if free {
            s.holder = Some(me);
            let clock = s.release;
            cx.acquire(&clock);
        }
        let e = cx.record(
            "mutex_trylock",
            Target::Prim(m.id.into()),
            Some(crate::trace::Value::Bool(free)),
        );
        let owner = cx.w.prim(m.id).owner;
        cx.check_owner(owner, e);
        free
    })
}
