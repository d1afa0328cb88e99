//! A portfolio: random and depth-ladder PCT executions, mixed.
//!
//! Random walks find shallow bugs in a handful of executions but need an
//! exponential number for a task stalled across many steps of another; PCT
//! finds those stalls with few change points but wastes time on bugs that
//! need many context switches. Mixing costs each at most a factor of two and
//! leaves no bug of the zoo to the other's blind spot.
//!
//! The member is picked from a hash of the execution seed, so a portfolio
//! execution is still replayed from its seed alone. Not from the seed's low
//! bit: execution seeds are `base + i·φ` with φ odd, so a worker or shard
//! that takes every second index (`--workers 2`, `--shard K/2`) would see
//! seeds of a single parity and run one member only.

use super::{PctDepth, PctScheduler, RandomScheduler, Scheduler};

/// Which member of the portfolio runs an execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Member {
    /// The uniform random walk.
    Random,
    /// PCT with the depth ladder.
    Pct,
}

/// The member that runs the execution with seed `seed`: the top bit of a
/// SplitMix64 finalisation of the seed, which depends on every bit of it.
pub fn member(seed: u64) -> Member {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    if z >> 63 == 1 {
        Member::Pct
    } else {
        Member::Random
    }
}

/// Random or PCT (depth ladder), by [`member`] of each execution seed.
#[derive(Debug)]
pub struct PortfolioScheduler {
    random: RandomScheduler,
    pct: PctScheduler,
    current: Member,
}

impl PortfolioScheduler {
    /// A portfolio whose PCT member uses horizon `k`.
    pub fn new(horizon: u64) -> Self {
        PortfolioScheduler {
            random: RandomScheduler::default(),
            pct: PctScheduler::new(PctDepth::Ladder, horizon),
            current: Member::Random,
        }
    }
}

impl Scheduler for PortfolioScheduler {
    fn begin(&mut self, seed: u64) {
        self.current = member(seed);
        match self.current {
            Member::Pct => self.pct.begin(seed),
            Member::Random => self.random.begin(seed),
        }
    }

    fn choose(&mut self, enabled: &[usize], current: Option<usize>) -> usize {
        match self.current {
            Member::Pct => self.pct.choose(enabled, current),
            Member::Random => self.random.choose(enabled, current),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{execution_seed, shard_index};

    /// The members the `n` first executions of a shard run.
    fn members(shard: (u64, u64), n: u64) -> (u64, u64) {
        (0..n)
            .map(|i| member(execution_seed(0, shard_index(shard, i))))
            .fold((0, 0), |(r, p), m| match m {
                Member::Random => (r + 1, p),
                Member::Pct => (r, p + 1),
            })
    }

    #[test]
    fn every_worker_of_two_on_half_a_shard_runs_both_members() {
        // `--shard 1/2 --workers 2`: shard (0, 2), split into worker
        // shards (0, 4) and (2, 4), as `unplug fuzz` splits them.
        for worker in [(0, 4), (2, 4), (1, 2), (0, 2), (3, 8)] {
            let (random, pct) = members(worker, 1000);
            assert!(
                (400..=600).contains(&random) && (400..=600).contains(&pct),
                "shard {worker:?}: {random} random and {pct} PCT executions of 1000"
            );
        }
    }
}
