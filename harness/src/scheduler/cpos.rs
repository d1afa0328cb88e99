//! Partial-order sampling with conflict-aware re-draws (Yuan, Yang and Gu,
//! "Partial Order Aware Concurrency Sampling", CAV 2018).
//!
//! Every pending step holds a random priority and the enabled task whose
//! pending step has the highest priority runs. After a step runs, the task
//! that ran draws a fresh priority for its next step, and so does every task
//! whose pending step *conflicts* with the step just run (the same
//! primitive, cell or object, at least one of the two a write: see
//! [`Pending::conflicts`]). Steps that commute with everything that ran keep
//! their priorities, so the order of independent steps is not re-sampled
//! over and over; the re-draw after a conflict is what gives every order of
//! two racing steps its fair share, which the paper shows brings the
//! probability of each partial order close to uniform.
//!
//! What a pending step acts on comes from the step protocol: each model
//! operation declares its target at its scheduling point (see
//! `world::step_access` and the loom operation of `step_on`, `step_with`,
//! `step_blocking`). A step that declares nothing (creating a primitive, a
//! fence, a task's first step) conflicts with nothing, and an access to a
//! model object counts as a read (the free is the write it conflicts with):
//! two plain accesses to one object are data races the happens-before
//! detector reports whatever their order.

use super::{Pending, Scheduler};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

/// The conflict-aware POS scheduler.
#[derive(Debug)]
pub struct ConflictPosScheduler {
    rng: ChaCha8Rng,
    priorities: Vec<u64>,
    /// The pending steps of the decision being taken, by position in its
    /// `enabled`.
    pending: Vec<Option<Pending>>,
    /// The task chosen at the previous decision and the step it was about to
    /// run: it has run since.
    last: Option<(usize, Option<Pending>)>,
}

impl Default for ConflictPosScheduler {
    fn default() -> Self {
        ConflictPosScheduler {
            rng: ChaCha8Rng::seed_from_u64(0),
            priorities: Vec::new(),
            pending: Vec::new(),
            last: None,
        }
    }
}

impl ConflictPosScheduler {
    fn priority(&mut self, task: usize) -> u64 {
        while self.priorities.len() <= task {
            let p = self.rng.next_u64();
            self.priorities.push(p);
        }
        self.priorities[task]
    }

    fn redraw(&mut self, task: usize) {
        self.priority(task);
        self.priorities[task] = self.rng.next_u64();
    }
}

impl Scheduler for ConflictPosScheduler {
    fn begin(&mut self, seed: u64) {
        self.rng = ChaCha8Rng::seed_from_u64(seed);
        self.priorities.clear();
        self.pending.clear();
        self.last = None;
    }

    fn wants_pending(&self) -> bool {
        true
    }

    fn pending(&mut self, pending: &[Option<Pending>]) {
        self.pending.clear();
        self.pending.extend_from_slice(pending);
    }

    fn choose(&mut self, enabled: &[usize], _current: Option<usize>) -> usize {
        if let Some((ran, step)) = self.last {
            self.redraw(ran);
            if let Some(step) = step {
                for (i, &t) in enabled.iter().enumerate() {
                    let conflicts = self
                        .pending
                        .get(i)
                        .copied()
                        .flatten()
                        .is_some_and(|p| p.conflicts(&step));
                    if t != ran && conflicts {
                        self.redraw(t);
                    }
                }
            }
        }
        let mut best = 0;
        let mut best_priority = self.priority(enabled[0]);
        for (i, &t) in enabled.iter().enumerate().skip(1) {
            let p = self.priority(t);
            if p > best_priority {
                best = i;
                best_priority = p;
            }
        }
        self.last = Some((enabled[best], self.pending.get(best).copied().flatten()));
        enabled[best]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{PrimId, Target};

    /// After task 0's write to a cell runs, the task whose pending step
    /// reads that cell draws a new priority; the task whose step names
    /// nothing keeps its own.
    #[test]
    fn only_the_pending_steps_that_conflict_are_redrawn() {
        let write = Pending {
            target: Target::Prim(PrimId(0)),
            write: true,
        };
        let read = Pending {
            write: false,
            ..write
        };
        let mut checked = 0;
        for seed in 0..50 {
            let mut s = ConflictPosScheduler::default();
            s.begin(seed);
            s.pending(&[Some(write), Some(read), None]);
            if s.choose(&[0, 1, 2], None) != 0 {
                continue;
            }
            let (p1, p2) = (s.priorities[1], s.priorities[2]);
            s.pending(&[Some(read), None]);
            s.choose(&[1, 2], None);
            assert_ne!(s.priorities[1], p1, "seed {seed}: the read is re-drawn");
            assert_eq!(s.priorities[2], p2, "seed {seed}: the other step is not");
            checked += 1;
        }
        assert!(
            checked > 5,
            "task 0 ran first in only {checked} of 50 seeds"
        );
    }
}
