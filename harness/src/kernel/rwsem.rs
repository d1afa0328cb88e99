//! `struct rw_semaphore` with the kernel's writer preference: once a writer
//! is queued, new readers wait behind it. That is why a nested `down_read()`
//! in an ioctl deadlocks against a removal sitting in `down_write()`.

use super::memory::Object;
use crate::clock::VectorClock;
use crate::finding::{Detail, Finding, FindingKind};
use crate::runtime::Ordering as MemOrder;
use crate::trace::Target;
use crate::world::{
    keep_capacity, step, step_blocking, step_on, Op, Prim, PrimitiveState, TaskNames,
};
use std::borrow::Cow;
use std::collections::VecDeque;

/// A reader-writer semaphore (`DECLARE_RWSEM(name)` / `init_rwsem()`).
#[derive(Clone, Copy, Debug)]
pub struct RwSemaphore {
    id: Prim<RwSemState>,
}

/// The semaphore's state: holders, the queue of writers, and the clocks its
/// releases published.
#[derive(Debug, Default)]
pub(crate) struct RwSemState {
    readers: Vec<usize>,
    writer: Option<usize>,
    queued_writers: VecDeque<usize>,
    /// Published by `up_write`: every later holder acquires it.
    write_release: VectorClock,
    /// Published by `up_read`: acquired by the next writer only (readers do
    /// not order each other).
    read_release: VectorClock,
}

impl PrimitiveState for RwSemState {
    fn describe_holders(&self, w: &TaskNames<'_>) -> String {
        if let Some(t) = self.writer {
            return format!("held for write by {}", w.name(t));
        }
        let mut parts = Vec::new();
        if !self.readers.is_empty() {
            let names: Vec<&str> = self.readers.iter().map(|&t| w.name(t)).collect();
            parts.push(format!("held for read by {}", names.join(", ")));
        }
        if !self.queued_writers.is_empty() {
            let names: Vec<&str> = self.queued_writers.iter().map(|&t| w.name(t)).collect();
            parts.push(format!("writer queued: {}", names.join(", ")));
        }
        parts.join("; ")
    }

    // Readers and queued writers come and go in every execution: keep the
    // buffers.
    fn renew(&mut self, mut new: Self) {
        keep_capacity(&mut self.readers, &mut new.readers);
        self.queued_writers.clear();
        self.queued_writers.append(&mut new.queued_writers);
        std::mem::swap(&mut self.queued_writers, &mut new.queued_writers);
        *self = new;
    }
}

impl RwSemaphore {
    /// `DECLARE_RWSEM(name)`: a global semaphore.
    #[track_caller]
    pub fn new(name: impl Into<Cow<'static, str>>) -> Self {
        Self::new_in(name, None)
    }

    /// `init_rwsem(&obj->sem)`: a semaphore embedded in `owner`.
    #[track_caller]
    pub fn new_in(name: impl Into<Cow<'static, str>>, owner: Option<Object>) -> Self {
        let name = name.into();
        step(|cx| RwSemaphore {
            id: cx.add_prim(name, owner.map(|o| o.id()), RwSemState::default()),
        })
    }
}

/// Check the owner; record a use-after-removal and return false if freed.
fn owner_alive(cx: &mut Op<'_>, id: Prim<RwSemState>, e: usize) -> bool {
    let owner = cx.w.prim(id).owner;
    cx.check_owner(owner, e)
}

/// `down_read(&sem)`: waits while a writer holds or is queued. An acquire
/// (of the semaphore's count word, under loom).
#[track_caller]
pub fn down_read(sem: &RwSemaphore) {
    step_blocking(sem.id, "down_read", MemOrder::Acquire, |cx| {
        let me = cx.me;
        let s = cx.state(sem.id);
        if s.writer.is_some() || !s.queued_writers.is_empty() {
            return None;
        }
        s.readers.push(me);
        let clock = s.write_release;
        cx.acquire(&clock);
        let e = cx.record("down_read", Target::Prim(sem.id.into()), None);
        cx.hold(sem.id, e);
        owner_alive(cx, sem.id, e);
        Some(())
    })
}

/// `up_read(&sem)`: a release.
#[track_caller]
pub fn up_read(sem: &RwSemaphore) {
    step_on(sem.id, MemOrder::Release, |cx| {
        let e = cx.record("up_read", Target::Prim(sem.id.into()), None);
        if !owner_alive(cx, sem.id, e) {
            return;
        }
        let me = cx.me;
        let s = cx.state(sem.id);
        let Some(pos) = s.readers.iter().position(|&t| t == me) else {
            return misuse(cx, e, "up_read() of a semaphore not held for read");
        };
        s.readers.swap_remove(pos);
        cx.unhold(sem.id);
        let s = cx.state(sem.id);
        let mut clock = s.read_release;
        cx.release(&mut clock);
        cx.state(sem.id).read_release = clock;
        cx.wake_all(sem.id);
    });
}

/// `down_write(&sem)`: queues behind current holders; blocks new readers
/// from the moment it is queued. An acquire.
#[track_caller]
pub fn down_write(sem: &RwSemaphore) {
    step_blocking(sem.id, "down_write", MemOrder::Acquire, |cx| {
        let me = cx.me;
        let s = cx.state(sem.id);
        if !s.queued_writers.contains(&me) {
            s.queued_writers.push_back(me);
        }
        if s.writer.is_some() || !s.readers.is_empty() || s.queued_writers.front() != Some(&me) {
            return None;
        }
        s.queued_writers.pop_front();
        s.writer = Some(me);
        let mut clock = s.write_release;
        clock.join(&s.read_release);
        cx.acquire(&clock);
        let e = cx.record("down_write", Target::Prim(sem.id.into()), None);
        cx.hold(sem.id, e);
        owner_alive(cx, sem.id, e);
        Some(())
    })
}

/// `up_write(&sem)`: a release.
#[track_caller]
pub fn up_write(sem: &RwSemaphore) {
    step_on(sem.id, MemOrder::Release, |cx| {
        let e = cx.record("up_write", Target::Prim(sem.id.into()), None);
        if !owner_alive(cx, sem.id, e) {
            return;
        }
        let me = cx.me;
        let s = cx.state(sem.id);
        if s.writer != Some(me) {
            return misuse(cx, e, "up_write() of a semaphore not held for write");
        }
        s.writer = None;
        cx.unhold(sem.id);
        let s = cx.state(sem.id);
        let mut clock = s.write_release;
        cx.release(&mut clock);
        cx.state(sem.id).write_release = clock;
        cx.wake_all(sem.id);
    });
}

/// Report a locking-API misuse by the scenario as an invariant failure.
pub(crate) fn misuse(cx: &mut Op<'_>, e: usize, message: &str) {
    let at = cx.w.access(e);
    cx.w.report(Finding {
        kind: FindingKind::Invariant,
        detail: Detail::Invariant {
            message: message.to_string(),
            at,
        },
    });
}

/// `down_read_trylock(&sem)`: take the semaphore for read if no writer
/// holds it or waits for it, without sleeping; whether it did
/// (kernel/locking/rwsem.c: `__down_read_trylock()` fails on
/// `RWSEM_READ_FAILED_MASK`, which includes the waiters flag). An acquire
/// RMW under loom either way (stronger than a failed trylock).
#[track_caller]
pub fn down_read_trylock(sem: &RwSemaphore) -> bool {
    step_on(sem.id, MemOrder::Acquire, |cx| {
        let me = cx.me;
        let s = cx.state(sem.id);
        let free = s.writer.is_none() && s.queued_writers.is_empty();
        if free {
            s.readers.push(me);
            let clock = s.write_release;
            cx.acquire(&clock);
        }
        let e = cx.record(
            "down_read_trylock",
            Target::Prim(sem.id.into()),
            Some(crate::trace::Value::Bool(free)),
        );
        if free {
            cx.hold(sem.id, e);
        }
        owner_alive(cx, sem.id, e);
        free
    })
}

/// `down_write_trylock(&sem)`: take the semaphore for write if nobody
/// holds it or waits for it, without sleeping or queueing; whether it did
/// (kernel/locking/rwsem.c: `rwsem_write_trylock()`, an acquire cmpxchg
/// from `RWSEM_UNLOCKED_VALUE`: a queued waiter sets `RWSEM_FLAG_WAITERS`
/// in the count, so the cmpxchg fails until the waiter has taken the lock).
#[track_caller]
pub fn down_write_trylock(sem: &RwSemaphore) -> bool {
    step_on(sem.id, MemOrder::Acquire, |cx| {
        let me = cx.me;
        let s = cx.state(sem.id);
        let free = s.writer.is_none() && s.readers.is_empty() && s.queued_writers.is_empty();
        if free {
            s.writer = Some(me);
            let mut clock = s.write_release;
            clock.join(&s.read_release);
            cx.acquire(&clock);
        }
        let e = cx.record(
            "down_write_trylock",
            Target::Prim(sem.id.into()),
            Some(crate::trace::Value::Bool(free)),
        );
        if free {
            cx.hold(sem.id, e);
        }
        owner_alive(cx, sem.id, e);
        free
    })
}
