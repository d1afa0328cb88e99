//! RCU: protected pointers (`rcu_assign_pointer()` publishes with release
//! semantics, `rcu_dereference()`/`srcu_dereference()` read with dependency
//! ordering, modelled as acquire), and plain RCU's read-side critical
//! sections, grace periods and callbacks.
//!
//! The grace-period guarantee (Documentation/RCU/whatisRCU.rst, and
//! `synchronize_rcu()` in kernel/rcu/tree.c): `synchronize_rcu()` returns
//! only after every read-side critical section that had begun when it was
//! called has ended; a critical section that begins after it was called
//! sees everything the updater did before calling it.
//!
//! The model keeps, for the one RCU domain of the world, each task's
//! nesting depth and a count of its outermost sections. `synchronize_rcu()`
//! is two steps: the first snapshots the tasks inside a section (which
//! section each is in), the second waits, parked on the domain, until
//! every one of them has left that section. It is the quiescent-state
//! scheme of Tree RCU reduced to its guarantee: no CPUs, no callbacks
//! batching, no expedited path.
//!
//! Ordering. Under shuttle, each outermost `rcu_read_unlock()` publishes the
//! task's clock, which the grace period acquires: at the snapshot for the
//! sections already over, at the end of the wait for the readers it waited
//! for (their latest unlock; should such a reader have begun another section
//! after the snapshot, that one is covered too, stronger than the kernel);
//! the snapshot step publishes the updater's clock, which every later
//! outermost `rcu_read_lock()` acquires. Under loom every RCU step is a
//! relaxed RMW of the domain's word, and the ordering is that of full
//! barriers at the places the kernel's grace-period machinery puts them
//! (context switches, IPIs and `smp_mb()`s in kernel/rcu/tree.c), as
//! `SeqCst` fences: after the reader's lock, before its unlock, before the
//! updater's snapshot and after its wait ends — the same store-buffering
//! pairs as SRCU's (see [`super::srcu`]).
//!
//! `call_rcu()` runs its callback in a task of its own (the model's
//! `rcuc`/softirq context), after a grace period; `rcu_barrier()` waits
//! for every callback queued so far, as module exit must.

use super::memory::{cell_access, Action, CellValue, Object, Ordering, Plain};
use super::rwsem::misuse;
use super::srcu::SrcuStruct;
use super::task::{spawn_task, Task};
use crate::clock::VectorClock;
use crate::runtime::Ordering as MemOrder;
use crate::trace::Target;
use crate::world::{
    keep_capacity, step_blocking, step_on, with_world, Prim, PrimitiveState, TaskNames,
};
use std::borrow::Cow;

/// `rcu_assign_pointer(p, v)`.
#[track_caller]
pub fn rcu_assign_pointer<T: CellValue>(p: &Plain<T>, v: T) {
    cell_access(
        p.id,
        "rcu_assign_pointer",
        Ordering::AcquireRelease,
        Action::Store(v.encode()),
    );
}

/// `srcu_dereference(p, &ss)`: legal only inside a read-side critical section
/// of `ss` (the model trusts the scenario on that, as sparse would check).
#[track_caller]
pub fn srcu_dereference(p: &Plain<Option<Object>>, _ss: &SrcuStruct) -> Option<Object> {
    CellValue::decode(cell_access(
        p.id,
        "srcu_dereference",
        Ordering::AcquireRelease,
        Action::Load,
    ))
}

/// `rcu_dereference(p)`: the RCU-protected load of a pointer, legal only
/// between `rcu_read_lock()` and `rcu_read_unlock()`.
///
/// The kernel orders only accesses that depend on the loaded pointer (an
/// address dependency, which every architecture but Alpha respects and
/// `READ_ONCE()` makes Alpha respect); the model makes it an acquire (a
/// C11 acquire load under loom), which also orders independent later
/// accesses: stronger than the kernel, never weaker.
#[track_caller]
pub fn rcu_dereference(p: &Plain<Option<Object>>) -> Option<Object> {
    CellValue::decode(cell_access(
        p.id,
        "rcu_dereference",
        Ordering::AcquireRelease,
        Action::Load,
    ))
}

/// The world's RCU reader state: per task, its nesting depth, the number
/// of outermost sections it entered, and the clock its last outermost
/// unlock published; the clock the last grace period's start published;
/// the callbacks queued by `call_rcu()` and not yet waited for.
#[derive(Debug, Default)]
pub(crate) struct RcuState {
    nesting: Vec<u32>,
    sections: Vec<u64>,
    unlock_release: Vec<VectorClock>,
    gp_release: VectorClock,
    callbacks: Vec<Task>,
}

impl RcuState {
    fn task(&mut self, t: usize) {
        if self.nesting.len() <= t {
            self.nesting.resize(t + 1, 0);
            self.sections.resize(t + 1, 0);
            self.unlock_release.resize(t + 1, VectorClock::new());
        }
    }

    /// The tasks inside a read-side critical section, for deadlock reports.
    fn describe_readers(&self, w: &TaskNames<'_>) -> String {
        let readers: Vec<&str> = (0..self.nesting.len())
            .filter(|&t| self.nesting[t] > 0)
            .map(|t| w.name(t))
            .collect();
        if readers.is_empty() {
            String::new()
        } else {
            format!("readers: {}", readers.join(", "))
        }
    }
}

impl PrimitiveState for RcuState {
    fn describe_holders(&self, tasks: &TaskNames<'_>) -> String {
        self.describe_readers(tasks)
    }

    // Every spawn makes the domain; its per-task tables grow again in
    // every execution unless their buffers are kept.
    fn renew(&mut self, mut new: Self) {
        keep_capacity(&mut self.nesting, &mut new.nesting);
        keep_capacity(&mut self.sections, &mut new.sections);
        keep_capacity(&mut self.unlock_release, &mut new.unlock_release);
        keep_capacity(&mut self.callbacks, &mut new.callbacks);
        *self = new;
    }
}

/// The world's RCU domain, created on first use, and at the latest before
/// the first task is spawned ([`super::task::spawn_task`] calls this): its
/// loom word must be created before any two tasks can reach it, or loom
/// sees the creation racing the first access. Looking it up is no
/// scheduling point (nor a loom branch point), so creating it does not
/// change any schedule.
pub(crate) fn domain() -> Prim<RcuState> {
    with_world(|w| match w.rcu_domain {
        Some(id) => Prim::new(id),
        None => {
            let p = w.add_prim(Cow::Borrowed("rcu_state"), None, RcuState::default());
            w.rcu_domain = Some(p.id());
            p
        }
    })
}

/// `rcu_read_lock()`: enter an RCU read-side critical section (nestable).
/// The outermost one is ordered after the start of every grace period that
/// began before it (a full barrier after it under loom).
#[track_caller]
pub fn rcu_read_lock() {
    let id = domain();
    step_on(id, MemOrder::Relaxed, |cx| {
        let me = cx.me;
        let s = cx.state(id);
        s.task(me);
        s.nesting[me] += 1;
        if s.nesting[me] == 1 {
            s.sections[me] += 1;
            let gp = s.gp_release;
            cx.acquire(&gp);
        }
        cx.loom_fence(MemOrder::SeqCst);
        let e = cx.record_minor("rcu_read_lock", Target::None, None);
        cx.hold(id, e);
    });
}

/// `rcu_read_unlock()`: leave an RCU read-side critical section; the
/// outermost one ends it, publishing everything the section did to the
/// grace periods waiting for it (a full barrier before it under loom).
#[track_caller]
pub fn rcu_read_unlock() {
    let id = domain();
    step_on(id, MemOrder::Relaxed, |cx| {
        cx.loom_fence(MemOrder::SeqCst);
        let e = cx.record_minor("rcu_read_unlock", Target::None, None);
        let me = cx.me;
        let s = cx.state(id);
        s.task(me);
        if s.nesting[me] == 0 {
            return misuse(
                cx,
                e,
                "rcu_read_unlock() outside an RCU read-side critical section",
            );
        }
        s.nesting[me] -= 1;
        cx.unhold(id);
        let s = cx.state(id);
        if s.nesting[me] == 0 {
            let mut clock = s.unlock_release[me];
            cx.release(&mut clock);
            cx.state(id).unlock_release[me] = clock;
            cx.wake_all(id);
        }
    });
}

/// `synchronize_rcu()`: wait for a grace period — until every read-side
/// critical section that had begun has ended. Called inside one, it can
/// never return (lockdep's "Illegal synchronize_rcu() in RCU read-side
/// critical section"): reported as a misuse.
#[track_caller]
pub fn synchronize_rcu() {
    let id = domain();
    let waited = step_on(id, MemOrder::Relaxed, |cx| {
        cx.loom_fence(MemOrder::SeqCst);
        let e = cx.record("synchronize_rcu", Target::Prim(id.into()), None);
        let me = cx.me;
        let mut gp = cx.state(id).gp_release;
        cx.release(&mut gp);
        let s = cx.state(id);
        s.task(me);
        s.gp_release = gp;
        if s.nesting[me] > 0 {
            misuse(
                cx,
                e,
                "synchronize_rcu() inside an RCU read-side critical section",
            );
            return Vec::new();
        }
        let s = cx.state(id);
        // Sections already over precede the grace period too.
        let mut ended = VectorClock::new();
        for t in (0..s.nesting.len()).filter(|&t| s.nesting[t] == 0) {
            ended.join(&s.unlock_release[t]);
        }
        cx.acquire(&ended);
        let s = cx.state(id);
        (0..s.nesting.len())
            .filter(|&t| s.nesting[t] > 0)
            .map(|t| (t, s.sections[t]))
            .collect::<Vec<_>>()
    });
    step_blocking(id, "synchronize_rcu", MemOrder::Relaxed, |cx| {
        let s = cx.state(id);
        if waited
            .iter()
            .any(|&(t, section)| s.nesting[t] > 0 && s.sections[t] == section)
        {
            return None;
        }
        let mut clock = VectorClock::new();
        for &(t, _) in &waited {
            clock.join(&s.unlock_release[t]);
        }
        cx.acquire(&clock);
        cx.loom_fence(MemOrder::SeqCst);
        cx.record_minor(
            "synchronize_rcu: grace period",
            Target::Prim(id.into()),
            None,
        );
        Some(())
    });
}

/// `call_rcu(head, func)`: run `func` after a grace period, in a task of
/// its own; the caller does not wait. Everything the caller did before
/// happens-before `func`.
#[track_caller]
pub fn call_rcu(func: impl FnOnce() + Send + 'static) {
    let id = domain();
    let task = spawn_task("rcu_callback", move || {
        synchronize_rcu();
        func();
    });
    with_world(|w| w.state_mut(id).callbacks.push(task));
}

/// `rcu_barrier()`: wait until every callback queued by `call_rcu()` so far
/// has run (kernel/rcu/tree.c), as a module's exit path does before the
/// code of its callbacks goes away. What they did happens-before the
/// return.
#[track_caller]
pub fn rcu_barrier() {
    let id = domain();
    loop {
        let next = with_world(|w| w.state_mut(id).callbacks.pop());
        match next {
            Some(task) => task.join(),
            None => break,
        }
    }
}
