//! Schedulers: the policies that pick which task runs at each scheduling
//! point. Each is a pure function of the seed (or bytes, or recorded
//! choices) it is given at the start of an execution, so every execution can
//! be replayed from its seed alone.
//!
//! The engine only asks a scheduler when there is a real choice (two or more
//! enabled tasks); blocked tasks are never offered.

mod bytes;
mod pct;
mod portfolio;
mod pos;
mod random;
mod replay;
mod slow;

pub use bytes::BytesScheduler;
pub use pct::{PctDepth, PctScheduler};
pub use portfolio::{member as portfolio_member, Member as PortfolioMember, PortfolioScheduler};
pub use pos::PosScheduler;
pub use random::RandomScheduler;
pub use replay::ReplayScheduler;
pub use slow::SlowTaskScheduler;

/// A scheduling policy.
pub trait Scheduler {
    /// Start a new execution whose choices derive from `seed`.
    fn begin(&mut self, seed: u64);

    /// Pick the next task from `enabled` (ascending task ids, at least two).
    /// `current` is the task that ran last, if it is still enabled.
    fn choose(&mut self, enabled: &[usize], current: Option<usize>) -> usize;
}

/// What a scheduler does when its script (bytes, recorded choices) runs out:
/// keep running the current task, else the lowest-numbered one. Deterministic
/// and preemption-free, so a short script means a short interleaving.
pub(crate) fn run_to_completion(enabled: &[usize], current: Option<usize>) -> usize {
    current.unwrap_or(enabled[0])
}
