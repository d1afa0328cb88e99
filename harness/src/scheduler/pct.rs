//! Probabilistic Concurrency Testing (Burckhardt et al., ASPLOS 2010):
//! random distinct task priorities, always run the highest-priority enabled
//! task, and lower the running task's priority at `depth - 1` random change
//! points. A bug of depth `d` is found with probability at least
//! `1 / (n * k^(d-1))` per execution.
//!
//! The trap is the fixed depth: a bug that needs three preemptions is
//! invisible at depth 2 however long it runs. [`PctDepth::Ladder`] (the
//! default) draws each execution's depth from 1 to [`PctDepth::LADDER_MAX`],
//! so no bug within the ladder is out of reach.

use super::Scheduler;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

/// How deep each PCT execution goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PctDepth {
    /// Always this depth (number of priority change points plus one).
    Fixed(u32),
    /// Each execution draws its depth from `1..=LADDER_MAX`.
    Ladder,
}

impl PctDepth {
    /// The deepest rung of the ladder.
    pub const LADDER_MAX: u32 = 6;
}

/// The PCT scheduler.
#[derive(Debug)]
pub struct PctScheduler {
    depth: PctDepth,
    /// Expected number of scheduling decisions per execution (`k`), measured
    /// by the engine's calibration run.
    horizon: u64,
    rng: ChaCha8Rng,
    priorities: Vec<u64>,
    change_points: Vec<u64>,
    steps: u64,
}

impl PctScheduler {
    /// A PCT scheduler with the given depth policy and horizon `k`.
    pub fn new(depth: PctDepth, horizon: u64) -> Self {
        PctScheduler {
            depth,
            horizon: horizon.max(1),
            rng: ChaCha8Rng::seed_from_u64(0),
            priorities: Vec::new(),
            change_points: Vec::new(),
            steps: 0,
        }
    }

    fn priority(&mut self, task: usize) -> u64 {
        while self.priorities.len() <= task {
            // Initial priorities sit above every change-point priority, and
            // are distinct with overwhelming probability (ties go to the
            // lower task id, deterministically).
            let p = (1 << 32) + (self.rng.next_u64() >> 8);
            self.priorities.push(p);
        }
        self.priorities[task]
    }
}

impl Scheduler for PctScheduler {
    fn begin(&mut self, seed: u64) {
        self.rng = ChaCha8Rng::seed_from_u64(seed);
        let depth = match self.depth {
            PctDepth::Fixed(d) => d.max(1),
            PctDepth::Ladder => 1 + self.rng.next_u32() % PctDepth::LADDER_MAX,
        };
        self.priorities.clear();
        self.steps = 0;
        self.change_points.clear();
        for _ in 1..depth {
            self.change_points
                .push(1 + self.rng.next_u64() % self.horizon);
        }
    }

    fn choose(&mut self, enabled: &[usize], current: Option<usize>) -> usize {
        self.steps += 1;
        // Change point i lowers the running task below every initial
        // priority, the later points lower still (priority d - i).
        if let Some(i) = self.change_points.iter().position(|&c| c == self.steps) {
            if let Some(cur) = current {
                self.priority(cur);
                self.priorities[cur] = (self.change_points.len() - i) as u64;
            }
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
        best
    }
}
