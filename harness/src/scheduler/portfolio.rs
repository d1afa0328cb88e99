//! A portfolio: alternate random and depth-ladder PCT executions.
//!
//! Random walks find shallow bugs in a handful of executions but need an
//! exponential number for a task stalled across many steps of another; PCT
//! finds those stalls with few change points but wastes time on bugs that
//! need many context switches. Alternating costs each at most a factor of
//! two and leaves no bug of the zoo to the other's blind spot. The choice is
//! made from the execution seed (its low bit), so a portfolio execution is
//! still replayed from its seed alone.

use super::{PctDepth, PctScheduler, RandomScheduler, Scheduler};

/// Random on even seeds, PCT (depth ladder) on odd ones.
#[derive(Debug)]
pub struct PortfolioScheduler {
    random: RandomScheduler,
    pct: PctScheduler,
    use_pct: bool,
}

impl PortfolioScheduler {
    /// A portfolio whose PCT half uses horizon `k`.
    pub fn new(horizon: u64) -> Self {
        PortfolioScheduler {
            random: RandomScheduler::default(),
            pct: PctScheduler::new(PctDepth::Ladder, horizon),
            use_pct: false,
        }
    }
}

impl Scheduler for PortfolioScheduler {
    fn begin(&mut self, seed: u64) {
        self.use_pct = seed & 1 == 1;
        if self.use_pct {
            self.pct.begin(seed);
        } else {
            self.random.begin(seed);
        }
    }

    fn choose(&mut self, enabled: &[usize], current: Option<usize>) -> usize {
        if self.use_pct {
            self.pct.choose(enabled, current)
        } else {
            self.random.choose(enabled, current)
        }
    }
}
