//! A random walk with one slow task: at a random decision one of the enabled
//! tasks becomes the *victim*, and from then on, whenever another task is
//! enabled, the victim runs only with a small probability `ε`; the others
//! are picked uniformly.
//!
//! Why: the deep races of the zoo are a reader (or updater) stalled between
//! two of its own steps while another task runs a whole operation, sometimes
//! twice in a row in one critical section (load the SRCU index, stall across
//! one device's grace period, take the read lock, stall across the other
//! device's removal, dereference). A uniform walk gives each such stall a
//! probability exponential in its length; PCT needs the number of stalls as
//! its depth. Slowing one task by a factor drawn per execution stretches
//! *every* gap of that task at once, whatever their number, and `ε` drawn
//! log-uniformly from `[1/(4k), 1/2]` (`k` the calibrated number of
//! decisions) covers gap lengths from a single step to the whole execution,
//! so no depth needs to be chosen. Everything is drawn from the execution
//! seed, so an execution replays from its seed alone.

use super::Scheduler;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

/// The slow-task walk.
#[derive(Debug)]
pub struct SlowTaskScheduler {
    horizon: u64,
    rng: ChaCha8Rng,
    steps: u64,
    /// The decision at which the victim is picked.
    pick_at: u64,
    victim: Option<usize>,
    /// `ε` as a threshold on a 32-bit draw.
    threshold: u32,
}

impl SlowTaskScheduler {
    /// A slow-task walk over executions of about `horizon` decisions.
    pub fn new(horizon: u64) -> Self {
        SlowTaskScheduler {
            horizon: horizon.max(1),
            rng: ChaCha8Rng::seed_from_u64(0),
            steps: 0,
            pick_at: 1,
            victim: None,
            threshold: 0,
        }
    }
}

impl SlowTaskScheduler {
    /// The current execution's draws, for measuring which combinations find
    /// what: the decision at which the victim is picked, `log2(1/ε)` in
    /// sixteenths, and the victim once picked.
    pub fn plan(&self) -> (u64, u64, Option<usize>) {
        let bits = (-(f64::from(self.threshold) / f64::from(u32::MAX)).log2() * 16.0).round();
        (self.pick_at, bits as u64, self.victim)
    }
}

impl Scheduler for SlowTaskScheduler {
    fn begin(&mut self, seed: u64) {
        self.rng = ChaCha8Rng::seed_from_u64(seed);
        self.steps = 0;
        self.victim = None;
        // The victim is picked in the first half of the execution, so that
        // the slowed stretch has room to overlap the others' operations.
        self.pick_at = 1 + self.rng.next_u64() % self.horizon.div_ceil(2);
        // log2(1/ε) uniform in [1, log2(4k)], in sixteenths.
        let max_bits = (64 - (4 * self.horizon).leading_zeros()).max(2) as u64;
        let sixteenths = 16 + self.rng.next_u64() % (16 * (max_bits - 1) + 1);
        let eps = (-(sixteenths as f64) / 16.0).exp2();
        self.threshold = (eps * f64::from(u32::MAX)) as u32;
    }

    fn choose(&mut self, enabled: &[usize], current: Option<usize>) -> usize {
        self.steps += 1;
        if self.victim.is_none() && self.steps >= self.pick_at {
            // The task that just ran is the one caught mid-operation; at the
            // first decision there is none, so draw among the enabled.
            let v =
                current.unwrap_or_else(|| enabled[self.rng.next_u32() as usize % enabled.len()]);
            self.victim = Some(v);
        }
        let draw = self.rng.next_u32();
        match self.victim {
            Some(v) if enabled.contains(&v) => {
                if draw < self.threshold {
                    return v;
                }
                // Uniform among the others (at least one: `enabled` has two
                // or more tasks).
                let others = enabled.len() - 1;
                let i = self.rng.next_u32() as usize % others;
                let pos = enabled.iter().position(|&t| t == v).unwrap_or(0);
                enabled[if i >= pos { i + 1 } else { i }]
            }
            _ => enabled[draw as usize % enabled.len()],
        }
    }
}
