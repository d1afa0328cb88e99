//! The locks each task holds, as lockdep keeps them (`current->held_locks`):
//! every acquisition of a lock, rwsem, SRCU or RCU read-side section pushes
//! one, its release pops it. Deadlock reports name from here who holds what
//! a blocked task waits on and where it took it; a lock still held when a
//! file operation returns to user space (`lockdep_sys_exit()`) or when a
//! task exits (`debug_check_no_locks_held()` in `do_exit()`) is a finding.

use super::{current_task, with_world, Op, World};
use crate::finding::{Detail, Finding, FindingKind, Holder};
use crate::trace::{short_site, PrimId, Site};

/// A lock a task holds, as lockdep's `struct held_lock` records it: which
/// lock, and the event that took it (its operation and site).
#[derive(Clone, Copy, Debug)]
pub(crate) struct HeldLock {
    pub prim: PrimId,
    pub event: usize,
    /// The task's last step before the first return (to user space, or
    /// out of the task) that found the lock still held: where the path that
    /// leaked it ended. A leaked lock is reported once, at that return.
    pub returned: Option<Option<usize>>,
}

impl World {
    /// Every task holding `prim`, with where it took it and, for a task
    /// that returned still holding it, its last step before that return.
    pub(crate) fn holders(&self, prim: PrimId) -> Vec<Holder> {
        let mut out = Vec::new();
        for t in &self.tasks {
            for h in t.held.iter().filter(|h| h.prim == prim) {
                // The return that leaked it if one was seen, else (for a
                // task that finished) its last step.
                let returned = match h.returned {
                    Some(last) => last,
                    None if t.finished => t.last_event,
                    None => None,
                };
                out.push(Holder {
                    lock: self.prim(prim).name.to_string(),
                    acquired: self.access(h.event),
                    exited: returned.map(|e| self.access(e)),
                });
            }
        }
        out
    }

    /// Report the locks task `t` holds, not reported before, as held at a
    /// return (`context`). Records no event and takes no step, so schedules
    /// are unchanged by it. `context` is only rendered for a report: every
    /// return to user space passes here, and nearly all hold nothing.
    pub(crate) fn check_no_locks_held(&mut self, t: usize, context: impl FnOnce() -> String) {
        let Some(task) = self.tasks.get_mut(t) else {
            return;
        };
        // Nearly every return holds nothing: no list to make.
        if task.held.is_empty() {
            return;
        }
        let last_event = task.last_event;
        let fresh: Vec<usize> = task
            .held
            .iter_mut()
            .filter(|h| h.returned.is_none())
            .map(|h| {
                h.returned = Some(last_event);
                h.event
            })
            .collect();
        if fresh.is_empty() {
            return;
        }
        let detail = Detail::LockHeldAtExit {
            task: self.task_name(t).to_string(),
            context: context(),
            held: fresh.into_iter().map(|e| self.access(e)).collect(),
            last: last_event.map(|e| self.access(e)),
        };
        self.report(Finding {
            kind: FindingKind::LockHeldAtExit,
            detail,
        });
    }
}

impl Op<'_> {
    /// The current task now holds `prim`, taken at event `event` (lockdep's
    /// `lock_acquire()`): named in deadlock reports and checked at exit.
    /// A lock primitive calls it in the step that takes the lock, with the
    /// event that step recorded.
    pub fn hold(&mut self, prim: impl Into<PrimId>, event: usize) {
        self.w.tasks[self.me].held.push(HeldLock {
            prim: prim.into(),
            event,
            returned: None,
        });
    }

    /// The current task released `prim` (lockdep's `lock_release()`): its
    /// most recent acquisition of it is dropped.
    pub fn unhold(&mut self, prim: impl Into<PrimId>) {
        let prim = prim.into();
        let held = &mut self.w.tasks[self.me].held;
        if let Some(i) = held.iter().rposition(|h| h.prim == prim) {
            held.remove(i);
        }
    }
}

/// The current task returns to user space from `syscall`, called at `site`:
/// every lock it still holds is reported (see
/// [`World::check_no_locks_held`]).
pub(crate) fn sys_exit(syscall: &str, site: Site) {
    let me = current_task();
    with_world(|w| {
        if w.stop {
            return;
        }
        w.check_no_locks_held(me, || {
            format!(
                "returned to user space from {syscall} at {}",
                short_site(site)
            )
        });
    });
}
