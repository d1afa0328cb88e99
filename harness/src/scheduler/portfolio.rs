//! A portfolio: each execution runs one member explorer, picked from a hash
//! of the execution seed, so a portfolio execution still replays from its
//! seed alone.
//!
//! Not from the seed's low bit: execution seeds are `base + i·φ` with φ
//! odd, so a worker or shard that takes every second index (`--workers 2`,
//! `--shard K/2`) would see seeds of a single parity and run one member
//! only.
//!
//! The members cover each other's blind spots:
//!
//! * the slow-task walk finds deep races (a task stalled across whole
//!   operations of the others, any number of times) without a depth;
//! * conflict-aware POS finds stalls of several tasks at once with a
//!   polynomial chance, and re-samples the order of every pair of
//!   conflicting steps: the lock-order and check-then-clear races of the
//!   zoo in tens of executions;
//! * ladder PCT finds bugs of few, well-placed preemptions;
//! * the uniform random walk finds the shallow, many-switch races in a
//!   handful of executions.
//!
//! Each costs the others at most its share of the budget.

use super::{
    ConflictPosScheduler, PctDepth, PctScheduler, Pending, RandomScheduler, Scheduler,
    SlowTaskScheduler,
};

/// Which member of the portfolio runs an execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Member {
    /// The slow-task walk.
    Slow,
    /// Conflict-aware partial-order sampling.
    Cpos,
    /// PCT with the depth ladder.
    Pct,
    /// The uniform random walk.
    Random,
}

/// Shares of the executions, in sixteenths. Measured over seeds 0..19 of
/// every zoo scheme's default workload and seeds 1..20 of
/// `srcu-single-drain`'s hard workload: the slow-task walk is far ahead on
/// the deep races, so it keeps most of the budget; conflict-aware POS is
/// far ahead on the lock-order and check-then-clear races (P90 37 and 181
/// executions where the slow-task walk needs over a thousand), so it takes
/// the basic POS share and more; PCT and the random walk keep one each for
/// bugs outside the zoo.
const MEMBERS: [(Member, u64); 4] = [
    (Member::Slow, 10),
    (Member::Cpos, 3),
    (Member::Pct, 2),
    (Member::Random, 1),
];
const WEIGHT_TOTAL: u64 = 16;

/// The member that runs the execution with seed `seed`, by its share of a
/// SplitMix64 finalisation of the seed, which depends on every bit of it.
pub fn member(seed: u64) -> Member {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    let mut slot = z % WEIGHT_TOTAL;
    for (m, w) in MEMBERS {
        if slot < w {
            return m;
        }
        slot -= w;
    }
    Member::Random
}

/// Every member with its share of the executions, in sixteenths, in the
/// order [`member`] draws them: for reports that say what a portfolio run
/// is made of.
pub fn shares() -> &'static [(Member, u64)] {
    &MEMBERS
}

/// The portfolio scheduler.
#[derive(Debug)]
pub struct PortfolioScheduler {
    slow: SlowTaskScheduler,
    cpos: ConflictPosScheduler,
    pct: PctScheduler,
    random: RandomScheduler,
    current: Member,
}

impl PortfolioScheduler {
    /// A portfolio whose horizon-aware members (PCT, slow-task walk) use
    /// horizon `k`.
    pub fn new(horizon: u64) -> Self {
        PortfolioScheduler {
            slow: SlowTaskScheduler::new(horizon),
            cpos: ConflictPosScheduler::default(),
            pct: PctScheduler::new(PctDepth::Ladder, horizon),
            random: RandomScheduler::default(),
            current: Member::Random,
        }
    }

    fn scheduler(&mut self) -> &mut dyn Scheduler {
        match self.current {
            Member::Slow => &mut self.slow,
            Member::Cpos => &mut self.cpos,
            Member::Pct => &mut self.pct,
            Member::Random => &mut self.random,
        }
    }
}

impl Scheduler for PortfolioScheduler {
    fn begin(&mut self, seed: u64) {
        self.current = member(seed);
        self.scheduler().begin(seed);
    }

    fn choose(&mut self, enabled: &[usize], current: Option<usize>) -> usize {
        self.scheduler().choose(enabled, current)
    }

    fn wants_pending(&self) -> bool {
        self.current == Member::Cpos
    }

    fn pending(&mut self, pending: &[Option<Pending>]) {
        self.scheduler().pending(pending);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{execution_seed, shard_index};

    /// How many of the `n` first executions of a shard each member runs, in
    /// the order of [`MEMBERS`].
    fn members(shard: (u64, u64), n: u64) -> [u64; 4] {
        let mut counts = [0; 4];
        for i in 0..n {
            let m = member(execution_seed(0, shard_index(shard, i)));
            if let Some(k) = MEMBERS.iter().position(|(x, _)| *x == m) {
                counts[k] += 1;
            }
        }
        counts
    }

    #[test]
    fn every_worker_of_two_on_half_a_shard_runs_every_member_at_its_share() {
        // `--shard 1/2 --workers 2`: shard (0, 2), split into worker
        // shards (0, 4) and (2, 4), as `unplug fuzz` splits them.
        let n = 16_000;
        for worker in [(0, 4), (2, 4), (1, 2), (0, 2), (3, 8)] {
            let counts = members(worker, n);
            for (k, (m, w)) in MEMBERS.iter().enumerate() {
                let expected = n * w / WEIGHT_TOTAL;
                assert!(
                    counts[k].abs_diff(expected) * 5 <= expected,
                    "shard {worker:?}: {m:?} ran {} of {n} executions, expected about {expected}",
                    counts[k]
                );
            }
        }
    }
}
