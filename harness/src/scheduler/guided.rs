//! Feedback-guided schedule fuzzing inside the engine: what `cargo fuzz`
//! does with the byte-schedule targets in `fuzz/`, without a libFuzzer
//! process and at the engine's speed.
//!
//! * **Inputs** are schedules: one task id per decision, as the engine
//!   records them ([`crate::engine::ExecutionRecord::schedule`]). At a
//!   decision the input's task runs if it is enabled; past the end of the
//!   input, or when its task is not enabled, the choice is uniformly random.
//!   Task ids rather than the fuzz targets' byte encoding (an index among
//!   the enabled tasks) because the mutation that matters most, stalling
//!   one task, is an edit of one task's choices: an index means another
//!   task as soon as the enabled set changes.
//! * **Coverage** is the interleaving features of [`crate::feedback`]:
//!   an execution that shows a feature no earlier execution of the run
//!   showed adds its schedule to the corpus.
//! * **Mutations**, one to three stacked: a *stall* (one task of the parent
//!   is not run for a window of decisions whose length is drawn
//!   log-uniformly up to twice the calibrated horizon: the deep races need a
//!   task stalled across whole operations of the others), a *splice* (the
//!   parent's first decisions, then another entry's), a *flip* (a few
//!   decisions given to a random task of the parent), a *cut* (the parent's
//!   first decisions, then a random walk).
//! * Every random draw of an execution comes from its seed, and the corpus
//!   from the executions before it in the run, so a run is deterministic
//!   from its base seed (with one worker; workers each fuzz their own
//!   shard with their own corpus). An execution does not replay from its
//!   seed alone: it replays from its recorded schedule.

use super::{Outcome, Scheduler};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use std::collections::HashSet;

/// The most schedules the corpus keeps; a new one then replaces a random
/// older one.
const CORPUS_MAX: usize = 1024;

/// One execution in sixteen runs a fresh random walk, so the corpus never
/// stops receiving schedules that owe nothing to it.
const FRESH_ONE_IN: u64 = 16;

/// A stall: `task` is not run at decisions `from..to` while another task is
/// enabled.
#[derive(Clone, Copy, Debug)]
struct Stall {
    task: u8,
    from: usize,
    to: usize,
}

/// The guided schedule fuzzer.
#[derive(Debug)]
pub struct GuidedScheduler {
    horizon: u64,
    rng: ChaCha8Rng,
    corpus: Vec<Vec<u8>>,
    seen: HashSet<u64>,
    input: Vec<u8>,
    stall: Option<Stall>,
    position: usize,
}

impl GuidedScheduler {
    /// A fuzzer over executions of about `horizon` decisions.
    pub fn new(horizon: u64) -> Self {
        GuidedScheduler {
            horizon: horizon.max(1),
            rng: ChaCha8Rng::seed_from_u64(0),
            corpus: Vec::new(),
            seen: HashSet::new(),
            input: Vec::new(),
            stall: None,
            position: 0,
        }
    }

    /// Take in a finished execution, whichever scheduler ran it: its
    /// schedule joins the corpus if it showed a feature new to the run.
    /// Returns whether it did.
    pub fn observe(&mut self, outcome: &Outcome<'_>) -> bool {
        let mut new = false;
        for &f in outcome.features {
            new |= self.seen.insert(f);
        }
        if new {
            if self.corpus.len() < CORPUS_MAX {
                self.corpus.push(outcome.schedule.to_vec());
            } else {
                let at = self.below(CORPUS_MAX);
                self.corpus[at] = outcome.schedule.to_vec();
            }
        }
        new
    }

    /// How many schedules the corpus holds.
    pub fn corpus_len(&self) -> usize {
        self.corpus.len()
    }

    fn below(&mut self, n: usize) -> usize {
        (self.rng.next_u64() % n.max(1) as u64) as usize
    }

    /// A length drawn log-uniformly from `1..=max`.
    fn log_uniform(&mut self, max: u64) -> usize {
        let bits = 64 - max.max(1).leading_zeros() as u64;
        let b = self.rng.next_u64() % (bits + 1);
        let span = (1u64 << b).min(max.max(1));
        1 + (self.rng.next_u64() % span) as usize
    }

    fn mutate(&mut self) {
        let parent = self.below(self.corpus.len());
        self.input.clear();
        self.input.extend_from_slice(&self.corpus[parent]);
        self.stall = None;
        let rounds = 1 + self.below(3);
        for _ in 0..rounds {
            let len = self.input.len();
            match self.below(8) {
                // Stalls are what the deep races need: half the mutations.
                0..=3 if len > 0 => {
                    let pick = self.below(len);
                    let task = self.input[pick];
                    let from = self.below(len);
                    let to = from + self.log_uniform(2 * self.horizon);
                    self.stall = Some(Stall { task, from, to });
                }
                4 | 5 if self.corpus.len() > 1 => {
                    let other = self.below(self.corpus.len());
                    let at = self.below(len.min(self.corpus[other].len()) + 1);
                    self.input.truncate(at);
                    let tail = &self.corpus[other][at.min(self.corpus[other].len())..];
                    self.input.extend_from_slice(tail);
                }
                6 if len > 0 => {
                    for _ in 0..1 + self.below(4) {
                        let at = self.below(len);
                        let pick = self.below(len);
                        self.input[at] = self.input[pick];
                    }
                }
                _ => {
                    let at = self.below(len + 1);
                    self.input.truncate(at);
                }
            }
        }
    }

    fn random(&mut self, enabled: &[usize], avoid: Option<usize>) -> usize {
        match avoid.and_then(|v| enabled.iter().position(|&t| t == v)) {
            Some(skip) => {
                let i = self.below(enabled.len() - 1);
                enabled[if i >= skip { i + 1 } else { i }]
            }
            None => enabled[self.below(enabled.len())],
        }
    }
}

impl Scheduler for GuidedScheduler {
    fn begin(&mut self, seed: u64) {
        self.rng = ChaCha8Rng::seed_from_u64(seed);
        self.position = 0;
        if self.corpus.is_empty() || self.rng.next_u64().is_multiple_of(FRESH_ONE_IN) {
            self.input.clear();
            self.stall = None;
        } else {
            self.mutate();
        }
    }

    fn choose(&mut self, enabled: &[usize], _current: Option<usize>) -> usize {
        let at = self.position;
        self.position += 1;
        let avoid = self
            .stall
            .filter(|s| (s.from..s.to).contains(&at))
            .map(|s| s.task as usize);
        match self.input.get(at) {
            Some(&t) if enabled.contains(&(t as usize)) && avoid != Some(t as usize) => t as usize,
            _ => self.random(enabled, avoid),
        }
    }

    fn wants_feedback(&self) -> bool {
        true
    }

    fn finish(&mut self, outcome: &Outcome<'_>) {
        self.observe(outcome);
    }
}
