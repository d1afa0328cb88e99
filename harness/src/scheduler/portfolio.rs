//! A portfolio: each execution runs one member explorer, picked from a hash
//! of the execution seed, so a portfolio execution still replays from its
//! seed alone and every member gets its share however the seeds are sharded
//! across workers (a low seed bit would give one worker of two a single
//! member).
//!
//! The members cover each other's blind spots:
//!
//! * the slow-task walk finds deep races (a task stalled across whole
//!   operations of the others, any number of times) without a depth;
//! * POS finds stalls of several tasks at once with a polynomial chance;
//! * ladder PCT finds bugs of few, well-placed preemptions;
//! * the uniform random walk finds the shallow, many-switch races in a
//!   handful of executions.
//!
//! Each costs the others at most its share of the budget.

use super::{PctDepth, PctScheduler, PosScheduler, RandomScheduler, Scheduler, SlowTaskScheduler};

/// The member explorers and their weights out of [`WEIGHT_TOTAL`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Member {
    Slow,
    Pos,
    Pct,
    Random,
}

/// Shares of the executions, in sixteenths. Measured over seeds 1..10 of
/// every zoo scheme's default workload and 20 seeds of
/// `srcu-single-drain`'s hard workload, the slow-task walk is never far
/// behind the best member and far ahead on the deep races, so it takes most
/// of the budget; the others keep theirs for bugs outside the zoo.
const MEMBERS: [(Member, u64); 4] = [
    (Member::Slow, 10),
    (Member::Pct, 3),
    (Member::Pos, 2),
    (Member::Random, 1),
];
const WEIGHT_TOTAL: u64 = 16;

/// splitmix64's finaliser: every bit of the seed moves the member choice.
fn mix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The portfolio scheduler.
#[derive(Debug)]
pub struct PortfolioScheduler {
    slow: SlowTaskScheduler,
    pos: PosScheduler,
    pct: PctScheduler,
    random: RandomScheduler,
    member: Member,
}

impl PortfolioScheduler {
    /// A portfolio whose horizon-aware members (PCT, slow-task walk) use
    /// horizon `k`.
    pub fn new(horizon: u64) -> Self {
        PortfolioScheduler {
            slow: SlowTaskScheduler::new(horizon),
            pos: PosScheduler::default(),
            pct: PctScheduler::new(PctDepth::Ladder, horizon),
            random: RandomScheduler::default(),
            member: Member::Random,
        }
    }

    fn scheduler(&mut self) -> &mut dyn Scheduler {
        match self.member {
            Member::Slow => &mut self.slow,
            Member::Pos => &mut self.pos,
            Member::Pct => &mut self.pct,
            Member::Random => &mut self.random,
        }
    }
}

impl Scheduler for PortfolioScheduler {
    fn begin(&mut self, seed: u64) {
        let mut slot = mix(seed) % WEIGHT_TOTAL;
        self.member = Member::Random;
        for (m, w) in MEMBERS {
            if slot < w {
                self.member = m;
                break;
            }
            slot -= w;
        }
        self.scheduler().begin(seed);
    }

    fn choose(&mut self, enabled: &[usize], current: Option<usize>) -> usize {
        self.scheduler().choose(enabled, current)
    }
}
