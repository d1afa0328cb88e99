//! Vector clocks: the happens-before relation the data-race detector checks.
//!
//! Every task carries a clock; every synchronising primitive carries the clock
//! its last release published. An acquire joins the primitive's clock into the
//! task's; a release joins the task's clock into the primitive's. Two accesses
//! are ordered iff the earlier one's epoch (task, that task's counter at the
//! access) is covered by the later task's clock.

/// The most tasks one execution may have (the main task included).
///
/// Fixed so that a clock is a plain array: copying and joining stay a handful
/// of vector instructions on the per-step path.
pub const MAX_TASKS: usize = 16;

/// A vector clock over at most [`MAX_TASKS`] tasks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VectorClock([u32; MAX_TASKS]);

/// One task's logical time at one access: enough to decide later whether that
/// access happens-before another.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Epoch {
    /// The task that made the access.
    pub task: usize,
    /// That task's own component at the access.
    pub time: u32,
}

impl VectorClock {
    /// The clock of nothing observed yet.
    pub const fn new() -> Self {
        VectorClock([0; MAX_TASKS])
    }

    /// This clock's component for `task`.
    pub fn get(&self, task: usize) -> u32 {
        self.0[task]
    }

    /// Advance `task`'s own component (a new event of that task).
    pub fn tick(&mut self, task: usize) {
        debug_assert!(self.0[task] < i32::MAX as u32, "see `join`");
        self.0[task] += 1;
    }

    /// Pointwise maximum: afterwards `self` has observed everything `other` had.
    pub fn join(&mut self, other: &VectorClock) {
        for (mine, theirs) in self.0.iter_mut().zip(other.0.iter()) {
            // Compared as signed: a component counts one task's events in
            // one execution, which the step budget (at most 10^7 decisions,
            // a few ticks each) keeps far below 2^31, where signed and
            // unsigned order agree. Baseline x86-64 (SSE2) has a signed
            // 32-bit vector compare but no unsigned one, which would cost
            // two extra instructions per four components at every acquire
            // and release.
            *mine = (*mine as i32).max(*theirs as i32) as u32;
        }
    }

    /// The epoch of `task`'s current event under this clock.
    pub fn epoch(&self, task: usize) -> Epoch {
        Epoch {
            task,
            time: self.0[task],
        }
    }

    /// Whether the access at `epoch` happens-before (or is) the present of
    /// the task owning this clock.
    pub fn covers(&self, epoch: Epoch) -> bool {
        epoch.time <= self.0[epoch.task]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_and_covers_follow_the_happens_before_order() {
        let mut a = VectorClock::new();
        let mut b = VectorClock::new();
        a.tick(0);
        let write = a.epoch(0);
        b.tick(1);
        assert!(!b.covers(write), "unsynchronised tasks must not be ordered");
        b.join(&a);
        assert!(
            b.covers(write),
            "after an acquire of a's release, a's write is ordered"
        );
        a.tick(0);
        assert!(!b.covers(a.epoch(0)), "a's later events stay unordered");
    }
}
