//! An adaptive portfolio: the members of the default portfolio plus
//! conflict-aware POS and the guided fuzzer share the budget, one member per
//! execution, and a member whose recent executions showed new interleaving
//! features gets more of it.
//!
//! * Every member's executions feed the guided fuzzer's corpus (an execution
//!   with a new feature adds its schedule, whoever ran it), so the fuzzer
//!   mutates the schedules the walks found: a slow-task walk that came close
//!   to a deep race is a parent whose stall the fuzzer can stretch.
//! * Each member's share is its base share times one plus the number of
//!   its last [`WINDOW`] executions that showed a new feature, so a member
//!   that stops finding anything falls back to its base share, never below.
//! * The member and everything it draws come from the execution seed and
//!   the run so far, so a run is deterministic from its base seed; an
//!   execution replays from its recorded schedule, not its seed.

use super::{
    ConflictPosScheduler, GuidedScheduler, Outcome, PctDepth, PctScheduler, Pending,
    RandomScheduler, Scheduler, SlowTaskScheduler,
};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

/// How many of a member's last executions its bonus counts.
pub const WINDOW: usize = 16;

/// Base shares, in the order of [`AdaptiveScheduler::member`]: slow-task
/// walk, PCT, conflict-aware POS, random walk, guided fuzzer. The slow-task
/// walk keeps the default portfolio's lead; the guided fuzzer starts small
/// and earns more while it finds new interleavings.
const BASE: [u64; 5] = [8, 3, 2, 1, 2];

/// The adaptive portfolio.
#[derive(Debug)]
pub struct AdaptiveScheduler {
    slow: SlowTaskScheduler,
    pct: PctScheduler,
    cpos: ConflictPosScheduler,
    random: RandomScheduler,
    guided: GuidedScheduler,
    /// Per member: whether each of its last executions showed a new feature.
    recent: [Vec<bool>; 5],
    current: usize,
}

impl AdaptiveScheduler {
    /// A portfolio whose horizon-aware members use horizon `k`.
    pub fn new(horizon: u64) -> Self {
        AdaptiveScheduler {
            slow: SlowTaskScheduler::new(horizon),
            pct: PctScheduler::new(PctDepth::Ladder, horizon),
            cpos: ConflictPosScheduler::default(),
            random: RandomScheduler::default(),
            guided: GuidedScheduler::new(horizon),
            recent: Default::default(),
            current: 0,
        }
    }

    fn member(&mut self) -> &mut dyn Scheduler {
        match self.current {
            0 => &mut self.slow,
            1 => &mut self.pct,
            2 => &mut self.cpos,
            3 => &mut self.random,
            _ => &mut self.guided,
        }
    }

    fn weight(&self, m: usize) -> u64 {
        BASE[m] * (1 + self.recent[m].iter().filter(|&&n| n).count() as u64)
    }
}

impl Scheduler for AdaptiveScheduler {
    fn begin(&mut self, seed: u64) {
        // A stream of its own, so the member's draws from the same seed do
        // not repeat the pick.
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xADA9_7170_5EED_0001);
        let total: u64 = (0..BASE.len()).map(|m| self.weight(m)).sum();
        let mut draw = rng.next_u64() % total;
        self.current = BASE.len() - 1;
        for m in 0..BASE.len() {
            let w = self.weight(m);
            if draw < w {
                self.current = m;
                break;
            }
            draw -= w;
        }
        self.member().begin(seed);
    }

    fn choose(&mut self, enabled: &[usize], current: Option<usize>) -> usize {
        self.member().choose(enabled, current)
    }

    fn wants_pending(&self) -> bool {
        self.current == 2
    }

    fn pending(&mut self, pending: &[Option<Pending>]) {
        self.member().pending(pending);
    }

    fn wants_feedback(&self) -> bool {
        true
    }

    fn finish(&mut self, outcome: &Outcome<'_>) {
        let new = self.guided.observe(outcome);
        let recent = &mut self.recent[self.current];
        if recent.len() == WINDOW {
            recent.remove(0);
        }
        recent.push(new);
    }
}
