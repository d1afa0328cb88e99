//! Partial-order sampling (Yuan, Yang and Gu, CAV 2018), in its basic form:
//! every task holds a random priority, the highest-priority enabled task
//! runs, and the task that just ran draws a fresh priority.
//!
//! The full algorithm also re-draws the priority of every task whose pending
//! event conflicts with the one just executed; the engine offers no pending
//! events, so here only the executing task re-draws (its own next event is
//! the one certain to be ordered after the last). What makes the strategy
//! worth having is the stall distribution it yields without being told a
//! depth: a task left with priority `p` waits about `1 / p^(n-1)` steps for
//! `n` competing tasks, so long stalls of one task across whole operations of
//! the others (what a deep bug needs) come with polynomial, not exponential,
//! probability, while most steps remain a random walk.

use super::Scheduler;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

/// The POS scheduler.
#[derive(Debug)]
pub struct PosScheduler {
    rng: ChaCha8Rng,
    priorities: Vec<u64>,
    /// The task chosen at the previous decision: it has run since, so its
    /// priority is re-drawn.
    last: Option<usize>,
}

impl Default for PosScheduler {
    fn default() -> Self {
        PosScheduler {
            rng: ChaCha8Rng::seed_from_u64(0),
            priorities: Vec::new(),
            last: None,
        }
    }
}

impl PosScheduler {
    fn priority(&mut self, task: usize) -> u64 {
        while self.priorities.len() <= task {
            let p = self.rng.next_u64();
            self.priorities.push(p);
        }
        self.priorities[task]
    }
}

impl Scheduler for PosScheduler {
    fn begin(&mut self, seed: u64) {
        self.rng = ChaCha8Rng::seed_from_u64(seed);
        self.priorities.clear();
        self.last = None;
    }

    fn choose(&mut self, enabled: &[usize], _current: Option<usize>) -> usize {
        if let Some(t) = self.last {
            self.priority(t);
            self.priorities[t] = self.rng.next_u64();
        }
        let mut best = enabled[0];
        let mut best_priority = self.priority(best);
        for &t in &enabled[1..] {
            let p = self.priority(t);
            if p > best_priority {
                best = t;
                best_priority = p;
            }
        }
        self.last = Some(best);
        best
    }
}
