//! The selectively uniform random walk (SURW: Zhao et al., "Selectively
//! Uniform Concurrency Testing", ASPLOS 2025).
//!
//! A uniform choice at every step does not sample interleavings uniformly:
//! a task with few steps left is as likely to run next as one with many, so
//! short tasks (the removal, next to users issuing many ioctls) run early
//! far more often than their share of the interleavings. The uniform random
//! walk weights each task by the number of steps it has left, which makes
//! every interleaving of a program without blocking equally likely (the
//! weights are the multinomial coefficients of the remaining interleavings).
//! The *selective* walk applies this to the events of interest only, here
//! the steps on shared state, and lets the others run freely.
//!
//! What is implemented here:
//!
//! * an event of interest is a step that declares a target at its
//!   scheduling point (a primitive, a cell or an object: see
//!   [`Pending`]); steps that declare none (creating a primitive, a fence, a
//!   task's first step) are the others;
//! * at a decision where some enabled task's next step is not of interest,
//!   one of those tasks runs, picked uniformly: the free steps are taken
//!   eagerly, so every choice among steps of interest is a weighted one;
//! * otherwise each enabled task is picked with probability proportional to
//!   its estimated remaining steps of interest: an estimate of its total
//!   (the mean over a few calibration executions of a uniform walk, taken
//!   by the engine before the run, see `engine::calibrate_surw`) minus the
//!   steps of interest it already took in this execution, at least one;
//! * the estimates are fixed for the run, so an execution still replays from
//!   its seed alone (the paper refines its estimates from earlier
//!   executions of the same campaign; here that would tie each execution to
//!   every one before it).
//!
//! Blocking breaks the uniformity argument (a blocked task's weight is lost
//! while it waits), as the paper notes; the walk is still complete: every
//! enabled task keeps a positive weight.

use super::{Pending, Scheduler};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

/// The SURW scheduler.
#[derive(Debug)]
pub struct SurwScheduler {
    /// Estimated steps of interest per task, by task id.
    estimate: Vec<u64>,
    /// Steps of interest taken so far in this execution, by task id.
    taken: Vec<u64>,
    rng: ChaCha8Rng,
    pending: Vec<Option<Pending>>,
    /// The task picked at the last decision, if its step was of interest.
    last: Option<usize>,
}

impl SurwScheduler {
    /// A walk with `estimate[t]` steps of interest expected of task `t`.
    pub fn new(estimate: Vec<u64>) -> Self {
        SurwScheduler {
            estimate,
            taken: Vec::new(),
            rng: ChaCha8Rng::seed_from_u64(0),
            pending: Vec::new(),
            last: None,
        }
    }

    fn remaining(&self, task: usize) -> u64 {
        let total = self.estimate.get(task).copied().unwrap_or(1);
        let taken = self.taken.get(task).copied().unwrap_or(0);
        total.saturating_sub(taken).max(1)
    }
}

impl Scheduler for SurwScheduler {
    fn begin(&mut self, seed: u64) {
        self.rng = ChaCha8Rng::seed_from_u64(seed);
        self.taken.clear();
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
        if let Some(t) = self.last.take() {
            if self.taken.len() <= t {
                self.taken.resize(t + 1, 0);
            }
            self.taken[t] += 1;
        }
        let free = |i: usize| self.pending.get(i).copied().flatten().is_none();
        let free_count = (0..enabled.len()).filter(|&i| free(i)).count();
        if free_count > 0 {
            let k = self.rng.next_u64() as usize % free_count;
            let i = (0..enabled.len()).filter(|&i| free(i)).nth(k).unwrap_or(0);
            return enabled[i];
        }
        let total: u64 = enabled.iter().map(|&t| self.remaining(t)).sum();
        let mut draw = self.rng.next_u64() % total.max(1);
        let mut pick = enabled[enabled.len() - 1];
        for &t in enabled {
            let w = self.remaining(t);
            if draw < w {
                pick = t;
                break;
            }
            draw -= w;
        }
        self.last = Some(pick);
        pick
    }
}
