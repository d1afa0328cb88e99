//! Schedulers: the policies that pick which task runs at each scheduling
//! point. Each is a pure function of the seed (or bytes, or recorded
//! choices) it is given at the start of an execution, so every execution can
//! be replayed from its seed alone.
//!
//! The engine only asks a scheduler when there is a real choice (two or more
//! enabled tasks); blocked tasks are never offered.

mod adaptive;
mod bytes;
mod cpos;
mod guided;
mod pct;
mod portfolio;
mod pos;
mod random;
mod replay;
mod slow;
mod surw;

pub use adaptive::AdaptiveScheduler;
pub use bytes::BytesScheduler;
pub use cpos::ConflictPosScheduler;
pub use guided::GuidedScheduler;
pub use pct::{PctDepth, PctScheduler};
pub use portfolio::{
    member as portfolio_member, Escalation, Member as PortfolioMember, PortfolioScheduler,
    Shares as PortfolioShares, ESCALATION as PORTFOLIO_ESCALATION,
};
pub use pos::PosScheduler;
pub use random::RandomScheduler;
pub use replay::ReplayScheduler;
pub use slow::SlowTaskScheduler;
pub use surw::{SurwProfile, SurwScheduler};

use crate::trace::Target;

/// What a runnable task does at its next step, as far as the step declared
/// it at its scheduling point: the primitive, cell or object it acts on and
/// whether it may change it. Steps that name nothing (creating a primitive,
/// a fence, a task's first step) have no pending operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pending {
    /// What the step acts on.
    pub target: Target,
    /// Whether the step may write it (a store, a read-modify-write, a lock
    /// operation, a free).
    pub write: bool,
}

impl Pending {
    /// Whether the two steps do not commute: the same target, at least one
    /// of them a write.
    pub fn conflicts(&self, other: &Pending) -> bool {
        self.target == other.target && (self.write || other.write)
    }
}

/// What a scheduler that learns across executions is told when one ends.
#[derive(Debug)]
pub struct Outcome<'a> {
    /// The execution's interleaving features (see [`crate::feedback`]).
    pub features: &'a [u64],
    /// Whether it recorded a fatal finding.
    pub fatal: bool,
    /// The task chosen at each of its decisions (see
    /// [`crate::engine::ExecutionRecord::schedule`]).
    pub schedule: &'a [u8],
}

/// A scheduling policy.
pub trait Scheduler {
    /// Start a new execution whose choices derive from `seed`.
    fn begin(&mut self, seed: u64);

    /// Start execution `index` of the run (see
    /// [`crate::engine::execution_seed`]), whose choices derive from `seed`.
    /// What the engine calls; a scheduler whose choices also depend on how
    /// far the run has gone (the portfolio, which escalates from its shallow
    /// members to its deep one) overrides it.
    fn begin_at(&mut self, seed: u64, _index: u64) {
        self.begin(seed);
    }

    /// Pick the next task from `enabled` (ascending task ids, at least two).
    /// `current` is the task that ran last, if it is still enabled.
    fn choose(&mut self, enabled: &[usize], current: Option<usize>) -> usize;

    /// The explorer that replays the current execution from its seed alone,
    /// when that is not the explorer running it: a portfolio names the
    /// member it picked, whose choice depends on the execution's index too.
    /// `None`: this scheduler's own explorer.
    fn replay_explorer(&self) -> Option<crate::engine::Explorer> {
        None
    }

    /// Whether [`Scheduler::pending`] should be called before each
    /// decision (collecting the pending operations costs a little on every
    /// decision, so only the schedulers that read them ask).
    fn wants_pending(&self) -> bool {
        false
    }

    /// The pending operation of each task of the next decision's `enabled`
    /// (same order), given just before [`Scheduler::choose`].
    fn pending(&mut self, _pending: &[Option<Pending>]) {}

    /// `task` runs its next step (whose pending operation is `pending`)
    /// without a decision, being the only enabled task. Called only when
    /// [`Scheduler::wants_pending`] holds, for the schedulers that count
    /// the steps each task has taken.
    fn alone(&mut self, _task: usize, _pending: Option<Pending>) {}

    /// Whether [`Scheduler::finish`] should be called after each execution
    /// (computing the features costs a pass over the trace).
    fn wants_feedback(&self) -> bool {
        false
    }

    /// The execution started by the last [`Scheduler::begin`] ended. A
    /// scheduler that learns from this is no longer a function of the
    /// execution seed alone: its executions replay from their recorded
    /// schedules, not from their seeds.
    fn finish(&mut self, _outcome: &Outcome<'_>) {}
}

/// What a scheduler does when its script (bytes, recorded choices) runs out:
/// keep running the current task, else the lowest-numbered one. Deterministic
/// and preemption-free, so a short script means a short interleaving.
pub(crate) fn run_to_completion(enabled: &[usize], current: Option<usize>) -> usize {
    current.unwrap_or(enabled[0])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{ObjectId, PrimId};

    fn on(target: Target, write: bool) -> Pending {
        Pending { target, write }
    }

    #[test]
    fn steps_conflict_on_one_target_with_a_write() {
        let cell = Target::Prim(PrimId(3));
        let obj = Target::Object(ObjectId(3));
        assert!(on(cell, true).conflicts(&on(cell, false)));
        assert!(on(cell, false).conflicts(&on(cell, true)));
        assert!(
            !on(cell, false).conflicts(&on(cell, false)),
            "two reads commute"
        );
        assert!(
            !on(cell, true).conflicts(&on(obj, true)),
            "a cell is not an object"
        );
        assert!(
            on(obj, false).conflicts(&on(obj, true)),
            "an access and the free"
        );
    }
}
