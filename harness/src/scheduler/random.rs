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
        enabled[(self.rng.next_u32() as usize) % enabled.len()]
    }
}
