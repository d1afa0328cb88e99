//! Wait queues: `wait_event()` / `wake_up()` (include/linux/wait.h,
//! kernel/sched/wait.c).
//!
//! `wait_event(wq, condition)` checks the condition, and while it is false
//! loops: `prepare_to_wait_event()` (queue the task on `wq` under the
//! queue's spinlock and `set_current_state()`, a full barrier), re-check
//! the condition, `schedule()` until woken. `wake_up(wq)` takes the
//! queue's spinlock and wakes (and dequeues) every waiter, with the full
//! barrier of `try_to_wake_up()` when it wakes someone. The condition is
//! re-checked after every wake-up, so a spurious or early wake-up is
//! harmless, and the lock plus the barriers mean a condition set before
//! `wake_up()` cannot be missed: either the waiter's re-check sees it, or
//! the waiter was queued in time to be woken.
//!
//! Model: the queue's lock is a release/acquire pair of clocks (an
//! acquire/release RMW of the queue's word under loom); the full barriers
//! are `SeqCst` fences under loom and a full fence's clock effects under
//! shuttle. A waiting task is parked on the queue until a `wake_up()`
//! dequeues it. The lockless `waitqueue_active()` shortcut, whose missing
//! barrier is the classic lost wake-up, is not modelled.

use super::barrier::{acquire_fence, release_fence};
use super::memory::Object;
use crate::clock::VectorClock;
use crate::runtime::Ordering as MemOrder;
use crate::trace::Target;
use crate::world::{
    keep_capacity, step, step_blocking, step_on, Op, Prim, PrimitiveState, TaskNames,
};
use std::borrow::Cow;

/// A wait queue (`DECLARE_WAIT_QUEUE_HEAD(name)` /
/// `init_waitqueue_head()`).
#[derive(Clone, Copy, Debug)]
pub struct WaitQueueHead {
    id: Prim<WaitQueueState>,
}

/// The queued waiters and the clock the queue's lock last published.
#[derive(Debug, Default)]
pub(crate) struct WaitQueueState {
    waiters: Vec<usize>,
    release: VectorClock,
}

impl PrimitiveState for WaitQueueState {
    fn describe_holders(&self, _tasks: &TaskNames<'_>) -> String {
        "not woken".to_string()
    }

    fn renew(&mut self, mut new: Self) {
        keep_capacity(&mut self.waiters, &mut new.waiters);
        *self = new;
    }
}

impl WaitQueueHead {
    /// `init_waitqueue_head(&obj->wq)` on a queue embedded in `owner`.
    #[track_caller]
    pub fn new(name: impl Into<Cow<'static, str>>, owner: Option<Object>) -> Self {
        let name = name.into();
        step(|cx| WaitQueueHead {
            id: cx.add_prim(name, owner.map(|o| o.id()), WaitQueueState::default()),
        })
    }
}

/// Take and release the queue's spinlock around `f`: acquire what the last
/// holder published, publish the task's history.
fn locked(cx: &mut Op<'_>, id: Prim<WaitQueueState>, f: impl FnOnce(&mut Op<'_>)) {
    let clock = cx.state(id).release;
    cx.acquire(&clock);
    f(cx);
    let mut clock = cx.state(id).release;
    cx.release(&mut clock);
    cx.state(id).release = clock;
}

fn full_fence(cx: &mut Op<'_>) {
    cx.loom_fence(MemOrder::SeqCst);
    acquire_fence(cx);
    release_fence(cx);
}

/// `wait_event(wq, condition)`: sleep until `condition()` is true, checked
/// before sleeping and after each wake-up. Uninterruptible, like the
/// kernel's: a condition nobody makes true is a hang.
#[track_caller]
pub fn wait_event(wq: &WaitQueueHead, mut condition: impl FnMut() -> bool) {
    if condition() {
        return;
    }
    loop {
        // prepare_to_wait_event(): queue under the lock, then
        // set_current_state(TASK_UNINTERRUPTIBLE), a full barrier.
        step_on(wq.id, MemOrder::AcqRel, |cx| {
            let e = cx.record("prepare_to_wait_event", Target::Prim(wq.id.into()), None);
            let owner = cx.w.prim(wq.id).owner;
            cx.check_owner(owner, e);
            let me = cx.me;
            locked(cx, wq.id, |cx| {
                let s = cx.state(wq.id);
                if !s.waiters.contains(&me) {
                    s.waiters.push(me);
                }
            });
            full_fence(cx);
        });
        if condition() {
            // finish_wait(): dequeue under the lock.
            step_on(wq.id, MemOrder::AcqRel, |cx| {
                cx.record_minor("finish_wait", Target::Prim(wq.id.into()), None);
                let me = cx.me;
                locked(cx, wq.id, |cx| cx.state(wq.id).waiters.retain(|&t| t != me));
            });
            return;
        }
        // schedule(): parked until a wake_up() dequeues the task.
        step_blocking(wq.id, "wait_event", MemOrder::Acquire, |cx| {
            let me = cx.me;
            let s = cx.state(wq.id);
            if s.waiters.contains(&me) {
                return None;
            }
            let clock = s.release;
            cx.acquire(&clock);
            cx.record_minor("wait_event: woken", Target::Prim(wq.id.into()), None);
            Some(())
        });
    }
}

/// `wake_up(wq)`: wake every task waiting on `wq` (the model does not
/// distinguish exclusive waiters); they re-check their condition. Takes
/// the queue's lock (release/acquire), and is a full barrier when it wakes
/// someone.
#[track_caller]
pub fn wake_up(wq: &WaitQueueHead) {
    step_on(wq.id, MemOrder::AcqRel, |cx| {
        let e = cx.record("wake_up", Target::Prim(wq.id.into()), None);
        let owner = cx.w.prim(wq.id).owner;
        if !cx.check_owner(owner, e) {
            return;
        }
        let mut woke = false;
        locked(cx, wq.id, |cx| {
            let s = cx.state(wq.id);
            woke = !s.waiters.is_empty();
            s.waiters.clear();
        });
        if woke {
            full_fence(cx);
            let mut clock = cx.state(wq.id).release;
            cx.release(&mut clock);
            cx.state(wq.id).release = clock;
            cx.wake_all(wq.id);
        }
    });
}
