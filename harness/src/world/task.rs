//! The task lifecycle: registering a task at spawn, binding a loom thread to
//! its task, finishing, joining.

use super::{current_task, with_world, TaskState, Wait, World, JOIN};
use crate::backend::backend;
use crate::clock::{VectorClock, MAX_TASKS};
use std::borrow::Cow;

/// Register a task spawned by the current task: it starts with the parent's
/// clock (spawn is a release by the parent, an acquire by the child).
pub(crate) fn spawned(child: usize, name: Cow<'static, str>, parent_clock: VectorClock) {
    with_world(|w| register_task(w, child, name, parent_clock));
}

/// Take a snapshot of the parent's clock for a spawn, ticking it.
pub(crate) fn clock_for_spawn() -> VectorClock {
    let me = current_task();
    with_world(|w| {
        let t = &mut w.tasks[me];
        let c = t.clock;
        t.clock.tick(me);
        w.live += 1;
        c
    })
}

/// Under loom: register a task the current task is about to spawn, and
/// return its index. (Under shuttle a task registers itself with the id the
/// scheduler gave it; loom's thread ids are not indices the world can use.)
pub(crate) fn reserve_loom_task(name: Cow<'static, str>, parent_clock: VectorClock) -> usize {
    with_world(|w| {
        let child = w.tasks.len();
        register_task(w, child, name, parent_clock);
        w.loom_threads.resize(child + 1, None);
        child
    })
}

/// Under loom: the first thing a spawned task does, binding its loom thread
/// to the index its parent reserved.
pub(crate) fn loom_task_started(child: usize) {
    let me = loom::thread::current();
    with_world(|w| w.loom_threads[child] = Some(me));
}

/// Mark the current task finished. Its final clock stays in the world for
/// whoever joins it. Under loom, a task ending while every other live task
/// is blocked leaves a deadlock behind, which the world reports.
pub(crate) fn task_finished() {
    let b = backend();
    let me = b.current_task();
    with_world(|w| {
        w.check_no_locks_held(me, || "exited".to_string());
        w.tasks[me].finished = true;
        w.set_wait(me, None);
        w.live -= 1;
        b.task_ended(w);
    });
    b.after_step();
}

/// Under loom: the current task is about to block in a join (`true`) or has
/// returned from it (`false`); see [`JOIN`].
pub(crate) fn joining(blocked: bool) {
    let me = current_task();
    with_world(|w| {
        let wait = blocked.then_some(Wait {
            prim: JOIN,
            op: "join",
        });
        w.set_wait(me, wait);
    });
}

/// Join task `child`: its whole history happens-before the current task's
/// next events.
pub(crate) fn joined(child: usize) {
    let me = current_task();
    with_world(|w| {
        let c = w.tasks[child].clock;
        w.tasks[me].clock.join(&c);
    });
}

pub(super) fn register_task(
    w: &mut World,
    id: usize,
    name: Cow<'static, str>,
    mut clock: VectorClock,
) {
    assert!(
        id < MAX_TASKS,
        "a scenario may have at most {MAX_TASKS} tasks"
    );
    while w.tasks.len() <= id {
        // A slot not yet registered: what a fresh task state holds, in a
        // spare one's vectors when there is one.
        let (held, callers) = match w.spare_stacks.pop() {
            Some((mut held, mut callers)) => {
                held.clear();
                callers.clear();
                (held, callers)
            }
            None => (Vec::new(), Vec::new()),
        };
        w.tasks.push(TaskState {
            name: Cow::Borrowed("?"),
            clock: VectorClock::new(),
            fence_release: VectorClock::new(),
            observed_relaxed: VectorClock::new(),
            unlocked: false,
            wait: None,
            finished: true,
            last_event: None,
            held,
            callers,
            pending: None,
        });
    }
    // What the task's relaxed stores publish before its first fence: the
    // history it was spawned with, not its own events (the spawn is the
    // parent's release, not a fence of the child's).
    let spawned_with = clock;
    clock.tick(id);
    let t = &mut w.tasks[id];
    t.name = name;
    t.clock = clock;
    t.fence_release = spawned_with;
    t.unlocked = false;
    t.finished = false;
    t.held.clear();
    t.callers.clear();
    t.pending = None;
    w.live += 1;
}

/// Record, as a bookkeeping event of the current task at `site`, a call
/// named `op` whose operations [`callback`] will attribute to it. Takes no
/// step (no scheduling point, no loom branch), so schedules are unchanged.
pub(crate) fn record_call(site: &'static std::panic::Location<'static>, op: &'static str) -> usize {
    let me = current_task();
    with_world(|w| {
        let site = crate::trace::Site {
            location: site,
            source: None,
        };
        let mut cx = super::Op { w, me, site };
        cx.record_minor(op, crate::trace::Target::None, None)
    })
}

/// Run `f`, a callback the operation at event `caller` invokes (a release,
/// a devm action), on the current task: every event `f` records names
/// `caller` as the operation that ran it, so a report can show a free in a
/// release callback together with the put that ran it.
pub(crate) fn callback<R>(caller: usize, f: impl FnOnce() -> R) -> R {
    let me = current_task();
    with_world(|w| w.tasks[me].callers.push(caller));
    let r = f();
    with_world(|w| {
        w.tasks[me].callers.pop();
    });
    r
}
