//! A portfolio: each execution runs one member explorer, picked from a hash
//! of the execution seed at shares that move with the execution's index in
//! its run (see [`Escalation`]). The member replays the execution from its
//! seed alone: reports name it in their replay command
//! ([`Scheduler::replay_explorer`]).
//!
//! From a hash, not from the seed's low bit: execution seeds are
//! `base + i·φ` with φ odd, so a worker or shard that takes every second
//! index (`--workers 2`, `--shard K/2`) would see seeds of a single parity
//! and run one member only.
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
use crate::engine::Explorer;

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

impl Member {
    /// Every member, in the order of a [`Shares`] array.
    pub const ALL: [Member; 4] = [Member::Slow, Member::Cpos, Member::Pct, Member::Random];

    /// The explorer that runs this member alone: the same scheduler, so an
    /// execution the member ran replays from its seed under it.
    pub fn explorer(self) -> Explorer {
        match self {
            Member::Slow => Explorer::Slow,
            Member::Cpos => Explorer::Cpos,
            Member::Pct => Explorer::Pct { depth: None },
            Member::Random => Explorer::Random,
        }
    }
}

/// Shares of the executions in sixteenths, in the order of [`Member::ALL`]:
/// slow-task walk, conflict-aware POS, PCT, random walk.
pub type Shares = [u64; 4];

/// How the shares move during a run: the portfolio escalates from the
/// members that find shallow bugs to the one that finds deep bugs.
///
/// Why: a member's chance to find a given bug is about constant from one
/// execution to the next, so at fixed shares the executions to the first
/// finding are geometric: their spread over seeds is wide (the worst of 20
/// seeds averages about five times their median, simulated and measured),
/// and the first executions go to the deep member at the same rate as the
/// thousandth. But a bug the shallow members find (the lock-order and
/// check-then-clear races, in tens of executions under conflict-aware POS)
/// is found early or not at all, while the deep races need the slow-task
/// walk and hundreds of executions. So the run starts with the shallow
/// members and moves the budget to the slow-task walk as executions pass
/// without a finding, like PCT's depth ladder over a run: a bug the
/// shallow phase missed is likelier to be deep. The chance per execution of
/// a deep race then grows over the first thousand executions, which bounds
/// the worst seed to a few times the median for bugs at that scale (see the
/// README's "The hard workload's tail"), and at the settled shares a long
/// campaign gives the slow-task walk more than a fixed mix would.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Escalation {
    /// The first executions: the slow-task walk keeps a quarter, for bugs it
    /// finds in a handful of executions (`check-outside-lock` and
    /// `nested-down-read` wait about twice as long without it).
    pub probe: Shares,
    /// Executions `0..probe_end` run at `probe`.
    pub probe_end: u64,
    /// Then the shallow members lead.
    pub shallow: Shares,
    /// Executions `probe_end..shallow_end` run at `shallow`.
    pub shallow_end: u64,
    /// Where the shares settle, the slow-task walk leading; PCT and the
    /// random walk keep one each for bugs outside the zoo.
    pub settled: Shares,
    /// Executions `shallow_end..shallow_end + ramp` move linearly from
    /// `shallow` to `settled`; from there on, `settled`.
    pub ramp: u64,
}

/// The portfolio's escalation. Measured over seeds 0..19 of every zoo
/// scheme's default workload and ten sets of 20 seeds of
/// `srcu-single-drain`'s hard workload (README, "The hard workload's
/// tail").
pub const ESCALATION: Escalation = Escalation {
    probe: [4, 6, 3, 3],
    probe_end: 32,
    shallow: [1, 8, 4, 3],
    shallow_end: 384,
    settled: [13, 1, 1, 1],
    ramp: 768,
};

impl Escalation {
    /// Every member's weight at execution `index`, out of `16 * ramp`: the
    /// shares interpolated in integers, so the member is exact.
    fn weights(&self, index: u64) -> [u64; 4] {
        if index < self.probe_end {
            return self.probe.map(|s| s * self.ramp);
        }
        let t = index.saturating_sub(self.shallow_end).min(self.ramp);
        let mut w = [0; 4];
        for (k, w) in w.iter_mut().enumerate() {
            *w = self.shallow[k] * (self.ramp - t) + self.settled[k] * t;
        }
        w
    }
}

/// The member that runs execution `index` of a run, whose seed is `seed`:
/// by its share at `index` of a SplitMix64 finalisation of the seed, which
/// depends on every bit of it.
pub fn member(seed: u64, index: u64) -> Member {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    let weights = ESCALATION.weights(index);
    let mut slot = z % (16 * ESCALATION.ramp);
    for (m, w) in Member::ALL.into_iter().zip(weights) {
        if slot < w {
            return m;
        }
        slot -= w;
    }
    Member::Random
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
    /// As the first execution of a run.
    fn begin(&mut self, seed: u64) {
        self.begin_at(seed, 0);
    }

    fn begin_at(&mut self, seed: u64, index: u64) {
        self.current = member(seed, index);
        self.scheduler().begin(seed);
    }

    fn replay_explorer(&self) -> Option<Explorer> {
        Some(self.current.explorer())
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

    /// How many of executions `from..from + n` of a shard each member
    /// runs, in the order of [`Member::ALL`].
    fn members(shard: (u64, u64), from: u64, n: u64) -> [u64; 4] {
        let mut counts = [0; 4];
        for i in from..from + n {
            let index = shard_index(shard, i);
            let m = member(execution_seed(0, index), index);
            if let Some(k) = Member::ALL.iter().position(|x| *x == m) {
                counts[k] += 1;
            }
        }
        counts
    }

    #[test]
    fn every_worker_of_two_on_half_a_shard_runs_every_member_at_its_settled_share() {
        // `--shard 1/2 --workers 2`: shard (0, 2), split into worker
        // shards (0, 4) and (2, 4), as `unplug fuzz` splits them; counted
        // past the ramp, where the shares no longer move.
        let n = 16_000;
        let settled_from = ESCALATION.shallow_end + ESCALATION.ramp;
        for worker in [(0, 4), (2, 4), (1, 2), (0, 2), (3, 8)] {
            let counts = members(worker, settled_from, n);
            for (k, m) in Member::ALL.iter().enumerate() {
                let expected = n * ESCALATION.settled[k] / 16;
                assert!(
                    counts[k].abs_diff(expected) * 5 <= expected,
                    "shard {worker:?}: {m:?} ran {} of {n} executions, expected about {expected}",
                    counts[k]
                );
            }
        }
    }

    #[test]
    fn the_shares_escalate_from_the_shallow_members_to_the_slow_task_walk() {
        let e = ESCALATION;
        // Weights are out of `16 * ramp`: the slow-task walk's share, in
        // sixteenths, is its weight over `ramp`.
        let slow = |index| e.weights(index)[0];
        assert_eq!(slow(0), 4 * e.ramp);
        assert_eq!(slow(e.probe_end), e.ramp);
        assert_eq!(slow(e.shallow_end), e.ramp);
        assert_eq!(slow(e.shallow_end + e.ramp / 2), 7 * e.ramp);
        assert_eq!(slow(e.shallow_end + e.ramp), 13 * e.ramp);
        assert_eq!(slow(u64::MAX), 13 * e.ramp);
        for index in [0, 31, 32, 500, 1_000, 5_000] {
            let total: u64 = e.weights(index).iter().sum();
            assert_eq!(total, 16 * e.ramp, "index {index}");
        }
        // The shallow phase runs the shallow members at their shares.
        let counts = members((0, 1), e.probe_end, e.shallow_end - e.probe_end);
        let n = e.shallow_end - e.probe_end;
        let cpos = n * e.shallow[1] / 16;
        assert!(counts[1].abs_diff(cpos) * 4 <= cpos, "{counts:?}");
        assert!(counts[0] * 8 < n, "{counts:?}");
    }
}
