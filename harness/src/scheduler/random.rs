//! Uniformly random choice at every scheduling point (shuttle's
//! `RandomScheduler`, seeded with ChaCha so runs are reproducible anywhere).

use super::Scheduler;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

/// Picks uniformly among the enabled tasks at each step.
#[derive(Debug)]
pub struct RandomScheduler {
    rng: ChaCha8Rng,
}

impl Default for RandomScheduler {
    fn default() -> Self {
        RandomScheduler {
            rng: ChaCha8Rng::seed_from_u64(0),
        }
    }
}

impl Scheduler for RandomScheduler {
    fn begin(&mut self, seed: u64) {
        self.rng = ChaCha8Rng::seed_from_u64(seed);
    }

    fn choose(&mut self, enabled: &[usize], _current: Option<usize>) -> usize {
        // A 32-bit remainder: the same value as in `usize` (both operands
        // fit in 32 bits), and a much shorter division.
        enabled[(self.rng.next_u32() % enabled.len() as u32) as usize]
    }
}
