//! `struct completion`: "wait for the last user" handshakes.

use super::memory::Object;
use crate::clock::VectorClock;
use crate::runtime::Ordering as MemOrder;
use crate::trace::Target;
use crate::world::{step, step_blocking, step_on, Op, Prim, PrimitiveState, TaskNames};
use std::borrow::Cow;

/// A completion (`DECLARE_COMPLETION(name)` / `init_completion()`).
#[derive(Clone, Copy, Debug)]
pub struct Completion {
    id: Prim<CompletionState>,
}

/// Pending `complete()` count (`u32::MAX` after `complete_all()`), and the
/// clock the completers published.
#[derive(Debug, Default)]
pub(crate) struct CompletionState {
    done: u32,
    /// Scaffolding of the workload, not driver code: its events are
    /// bookkeeping, hidden from race diagrams.
    quiet: bool,
    release: VectorClock,
}

impl Completion {
    /// `init_completion(&c)` on a completion embedded in `owner`, if any.
    #[track_caller]
    pub fn new(name: impl Into<Cow<'static, str>>, owner: Option<Object>) -> Self {
        Self::create(name.into(), owner, false)
    }

    /// A completion that belongs to the test workload rather than to the
    /// driver (e.g. "every user has opened"): it orders tasks like any
    /// other, but its events are bookkeeping in reports.
    #[track_caller]
    pub fn new_scaffolding(name: impl Into<Cow<'static, str>>) -> Self {
        Self::create(name.into(), None, true)
    }

    #[track_caller]
    fn create(name: Cow<'static, str>, owner: Option<Object>, quiet: bool) -> Self {
        step(|cx| Completion {
            id: cx.add_prim(
                name,
                owner.map(|o| o.id()),
                CompletionState {
                    quiet,
                    ..CompletionState::default()
                },
            ),
        })
    }
}

impl PrimitiveState for CompletionState {
    fn describe_holders(&self, _tasks: &TaskNames<'_>) -> String {
        "not completed".to_string()
    }

    fn quiet_wait(&self) -> bool {
        self.quiet
    }
}

/// Record an event, as bookkeeping if the completion is scaffolding.
fn record(cx: &mut Op<'_>, c: &Completion, op: &'static str) -> usize {
    if cx.state(c.id).quiet {
        cx.record_minor(op, Target::Prim(c.id.into()), None)
    } else {
        cx.record(op, Target::Prim(c.id.into()), None)
    }
}

fn signal(c: &Completion, op: &'static str, all: bool, cx: &mut Op<'_>) {
    let e = record(cx, c, op);
    let owner = cx.w.prim(c.id).owner;
    if !cx.check_owner(owner, e) {
        return;
    }
    let mut clock = cx.state(c.id).release;
    cx.release(&mut clock);
    let s = cx.state(c.id);
    s.release = clock;
    s.done = if all {
        u32::MAX
    } else {
        s.done.saturating_add(1)
    };
    cx.wake_all(c.id);
}

/// `complete(&c)`: lets one waiter through. A release.
#[track_caller]
pub fn complete(c: &Completion) {
    step_on(c.id, MemOrder::Release, |cx| {
        signal(c, "complete", false, cx)
    });
}

/// `complete_all(&c)`: lets every present and future waiter through. A
/// release.
#[track_caller]
pub fn complete_all(c: &Completion) {
    step_on(c.id, MemOrder::Release, |cx| {
        signal(c, "complete_all", true, cx)
    });
}

/// `wait_for_completion(&c)`: an acquire of the completers' releases.
#[track_caller]
pub fn wait_for_completion(c: &Completion) {
    step_blocking(c.id, "wait_for_completion", MemOrder::Acquire, |cx| {
        let s = cx.state(c.id);
        if s.done == 0 {
            return None;
        }
        if s.done != u32::MAX {
            s.done -= 1;
        }
        let clock = s.release;
        cx.acquire(&clock);
        let e = record(cx, c, "wait_for_completion");
        let owner = cx.w.prim(c.id).owner;
        cx.check_owner(owner, e);
        Some(())
    })
}
