//! Work items: `INIT_WORK()`, `schedule_work()`, `flush_work()`,
//! `cancel_work_sync()` (kernel/workqueue.c).
//!
//! * `schedule_work()` claims the item's PENDING bit (`queue_work_on()`:
//!   `test_and_set_bit(WORK_STRUCT_PENDING_BIT, …)`); if it was already
//!   pending it does nothing and returns false. Otherwise a worker will run
//!   the function later: in the model a task of its own ("kworker"), which
//!   the scheduler runs at any later point. Queueing publishes the
//!   caller's history to the run (the pool lock).
//! * The worker clears PENDING and runs the function (`process_one_work()`);
//!   the item may be queued again while it runs, giving a second run.
//! * `flush_work()` waits until the last queued run has finished; whether
//!   it waited.
//! * `cancel_work_sync()` takes a pending item off the queue (its run never
//!   happens) and waits for a running one to finish; whether it was
//!   pending.
//!
//! The worker reads the work item (`work->func`) before running it, and
//! `schedule_work()` writes it: either on a freed object is a
//! use-after-free (the owner check of the item's primitive).
//!
//! Ordering: under shuttle the queueing is a release the run acquires, the
//! end of a run a release that `flush_work()`/`cancel_work_sync()` acquire;
//! under loom the same steps are release/acquire RMWs of the item's word.
//! Run tasks are joined by `flush_work()`/`cancel_work_sync()`; a scenario
//! that queues work flushes or cancels it before it ends, as a driver's
//! remove path and module exit must.
#![allow(non_snake_case)]

use super::memory::Object;
use super::task::{spawn_task, Task};
use crate::clock::VectorClock;
use crate::runtime::Ordering as MemOrder;
use crate::trace::{Target, Value};
use crate::world::{step, step_blocking, step_on, with_world, Prim, PrimitiveState, TaskNames};
use std::borrow::Cow;
use std::sync::Arc;

/// A `struct work_struct` with its function.
#[derive(Clone)]
pub struct WorkStruct {
    id: Prim<WorkState>,
    func: Arc<dyn Fn() + Send + Sync>,
}

/// The item's PENDING bit, the task running it, the queueing generation
/// (for cancellation), the clocks, and the run tasks not yet joined.
#[derive(Debug, Default)]
pub(crate) struct WorkState {
    pending: bool,
    running: Option<usize>,
    /// Bumped by every successful queueing; a run whose generation is not
    /// the current one while the item is not pending was cancelled.
    generation: u64,
    queue_release: VectorClock,
    done_release: VectorClock,
    runs: Vec<Task>,
}

impl PrimitiveState for WorkState {
    fn describe_holders(&self, w: &TaskNames<'_>) -> String {
        match self.running {
            Some(t) => format!("running in {}", w.name(t)),
            None if self.pending => "pending".to_string(),
            None => String::new(),
        }
    }
}

/// `INIT_WORK(&obj->work, func)`: a work item embedded in `owner`.
#[track_caller]
pub fn INIT_WORK(
    name: impl Into<Cow<'static, str>>,
    owner: Option<Object>,
    func: impl Fn() + Send + Sync + 'static,
) -> WorkStruct {
    let name = name.into();
    step(|cx| WorkStruct {
        id: cx.add_prim(name, owner.map(|o| o.id()), WorkState::default()),
        func: Arc::new(func),
    })
}

/// `schedule_work(work)`: queue the item on the system workqueue unless it
/// is already pending; whether it queued it.
#[track_caller]
pub fn schedule_work(work: &WorkStruct) -> bool {
    let queued = step_on(work.id, MemOrder::Release, |cx| {
        let pending = cx.state(work.id).pending;
        let e = cx.record(
            "schedule_work",
            Target::Prim(work.id.into()),
            Some(Value::Bool(!pending)),
        );
        let owner = cx.w.prim(work.id).owner;
        if !cx.check_owner(owner, e) || pending {
            return None;
        }
        let mut clock = cx.state(work.id).queue_release;
        cx.release(&mut clock);
        let s = cx.state(work.id);
        s.queue_release = clock;
        s.pending = true;
        s.generation += 1;
        Some(s.generation)
    });
    let Some(generation) = queued else {
        return false;
    };
    let item = work.clone();
    let run = spawn_task("kworker", move || process_one_work(&item, generation));
    with_world(|w| w.state_mut(work.id).runs.push(run));
    true
}

/// The worker: dequeue the item (unless it was cancelled), clear PENDING,
/// run the function, mark the run finished.
fn process_one_work(work: &WorkStruct, generation: u64) {
    let run = step_on(work.id, MemOrder::Acquire, |cx| {
        let me = cx.me;
        let s = cx.state(work.id);
        if !s.pending || s.generation != generation {
            cx.record_minor(
                "process_one_work: cancelled",
                Target::Prim(work.id.into()),
                None,
            );
            return false;
        }
        s.pending = false;
        s.running = Some(me);
        let clock = s.queue_release;
        cx.acquire(&clock);
        let e = cx.record("process_one_work", Target::Prim(work.id.into()), None);
        let owner = cx.w.prim(work.id).owner;
        cx.check_owner(owner, e)
    });
    if !run {
        return;
    }
    (work.func)();
    step_on(work.id, MemOrder::Release, |cx| {
        cx.record_minor("process_one_work: done", Target::Prim(work.id.into()), None);
        let mut clock = cx.state(work.id).done_release;
        cx.release(&mut clock);
        let s = cx.state(work.id);
        s.done_release = clock;
        s.running = None;
        cx.wake_all(work.id);
    });
}

/// Wait until the item is neither pending nor running, acquire what its
/// runs published, then join the finished run tasks.
#[track_caller]
fn wait_idle(work: &WorkStruct, op: &'static str) {
    step_blocking(work.id, op, MemOrder::Acquire, |cx| {
        let s = cx.state(work.id);
        if s.pending || s.running.is_some() {
            return None;
        }
        let clock = s.done_release;
        cx.acquire(&clock);
        cx.record_minor(op, Target::Prim(work.id.into()), None);
        Some(())
    });
    let runs = with_world(|w| std::mem::take(&mut w.state_mut(work.id).runs));
    for run in runs {
        run.join();
    }
}

/// `flush_work(work)`: wait for the last queued run of the item to finish;
/// whether there was one to wait for.
#[track_caller]
pub fn flush_work(work: &WorkStruct) -> bool {
    let busy = step_on(work.id, MemOrder::Acquire, |cx| {
        let s = cx.state(work.id);
        let busy = s.pending || s.running.is_some();
        let e = cx.record(
            "flush_work",
            Target::Prim(work.id.into()),
            Some(Value::Bool(busy)),
        );
        let owner = cx.w.prim(work.id).owner;
        cx.check_owner(owner, e);
        busy
    });
    wait_idle(work, "flush_work: idle");
    busy
}

/// `cancel_work_sync(work)`: take the item off the queue if it is pending
/// (that run never happens) and wait for a running instance to finish;
/// whether it was pending.
#[track_caller]
pub fn cancel_work_sync(work: &WorkStruct) -> bool {
    let was_pending = step_on(work.id, MemOrder::AcqRel, |cx| {
        let s = cx.state(work.id);
        let pending = std::mem::take(&mut s.pending);
        let e = cx.record(
            "cancel_work_sync",
            Target::Prim(work.id.into()),
            Some(Value::Bool(pending)),
        );
        let owner = cx.w.prim(work.id).owner;
        cx.check_owner(owner, e);
        pending
    });
    wait_idle(work, "cancel_work_sync: idle");
    was_pending
}
