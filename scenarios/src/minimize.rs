//! Schedule minimisation: shrink a failing schedule to the fewest
//! preemptions (then the fewest recorded choices) that still give the same
//! finding, so that its race diagram shows only the switches that matter.
//!
//! Every candidate is a list of task choices replayed with
//! `Drive::Choices`; a candidate is kept when its execution has a finding
//! with the entry's signature and it is strictly smaller by
//! `(preemptions, choices)`, which also bounds the search. Passes, repeated
//! until none improves:
//!
//! 1. **truncate**: the shortest prefix that still fails (after the recorded
//!    choices run out, replay runs tasks to completion without preempting);
//! 2. **re-point**: replace one choice by another task, keeping the rest of
//!    the schedule or dropping it (removes the preemption a switch away from
//!    the running task costs);
//! 3. **extend**: repeat the running task's choice once more before a switch
//!    (the switch happens one step later, which can make another vanish);
//! 4. **delete** (delta debugging): drop chunks of choices, halving the chunk
//!    size down to one;
//! 5. only when all of these are stuck: **re-point pairs** of choices, which
//!    moves a switch instead of removing it.
//!
//! A candidate may name a task that is not enabled at its position; replay
//! then falls back to running tasks to completion at that decision. What is
//! kept is not the candidate but what the execution actually chose, cut to
//! the candidate's length, so the result always replays without divergence.

use crate::replay::{reproduces, scheme_of, CorpusEntry, ReplayError};
use harness::engine::{run_single, Drive, ExecConfig, ScenarioFn};
use harness::finding::strip_line_numbers;

/// The most executions one minimisation may spend.
pub const MAX_RUNS: usize = 20_000;

/// A schedule that reproduces the finding, as the execution really ran it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Candidate {
    choices: Vec<u8>,
    preemptions: u32,
}

impl Candidate {
    /// The order minimisation descends: preemptions first, then length.
    fn key(&self) -> (u32, usize) {
        (self.preemptions, self.choices.len())
    }
}

struct Search<'a> {
    scenario: ScenarioFn,
    signature: &'a str,
    runs: usize,
}

impl Search<'_> {
    /// Replay `choices`; the schedule actually taken if it gives the finding.
    fn attempt(&mut self, choices: &[u8]) -> Result<Option<Candidate>, ReplayError> {
        self.runs += 1;
        let run = run_single(
            &self.scenario,
            &Drive::Choices(choices.to_vec()),
            ExecConfig::default(),
        )?;
        let record = run.record;
        if !record
            .findings
            .iter()
            .any(|f| f.signature() == self.signature)
        {
            return Ok(None);
        }
        // Decisions past the candidate's length were run-to-completion
        // choices, which replay makes by itself once the choices run out.
        let taken = &record.schedule[..choices.len().min(record.schedule.len())];
        Ok(Some(Candidate {
            choices: taken.to_vec(),
            preemptions: record.preemptions,
        }))
    }

    /// Try `choices`; adopt it as `best` if it fails and is smaller.
    fn improve(&mut self, best: &mut Candidate, choices: &[u8]) -> Result<bool, ReplayError> {
        if self.runs >= MAX_RUNS {
            return Ok(false);
        }
        match self.attempt(choices)? {
            Some(c) if c.key() < best.key() => {
                *best = c;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn truncate(&mut self, best: &mut Candidate) -> Result<bool, ReplayError> {
        for n in 0..best.choices.len() {
            let prefix = best.choices[..n].to_vec();
            if self.improve(best, &prefix)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Replace choice `i` by another task, keeping the rest of the schedule
    /// or, failing that, dropping it (run to completion after the switch).
    fn repoint(&mut self, best: &mut Candidate) -> Result<bool, ReplayError> {
        let mut improved = false;
        let mut tasks: Vec<u8> = best.choices.clone();
        tasks.sort_unstable();
        tasks.dedup();
        let mut i = 0;
        while i < best.choices.len() {
            for &t in &tasks {
                if best.choices.get(i).is_none_or(|&c| c == t) {
                    continue;
                }
                let mut candidate = best.choices.clone();
                candidate[i] = t;
                if self.improve(best, &candidate)? {
                    improved = true;
                    break;
                }
                candidate.truncate(i + 1);
                if self.improve(best, &candidate)? {
                    improved = true;
                    break;
                }
            }
            i += 1;
        }
        Ok(improved)
    }

    /// Re-point two choices at once: moving a switch (one choice loses it,
    /// a later one gains it) is a pair of edits neither of which helps
    /// alone. Quadratic, so only tried when the single edits are stuck.
    fn repoint_pairs(&mut self, best: &mut Candidate) -> Result<bool, ReplayError> {
        let mut tasks: Vec<u8> = best.choices.clone();
        tasks.sort_unstable();
        tasks.dedup();
        let n = best.choices.len();
        for i in 0..n {
            for j in i + 1..n {
                for &a in &tasks {
                    for &b in &tasks {
                        if a == best.choices[i] || b == best.choices[j] || self.runs >= MAX_RUNS {
                            continue;
                        }
                        let mut candidate = best.choices.clone();
                        candidate[i] = a;
                        candidate[j] = b;
                        if self.improve(best, &candidate)? {
                            // The schedule changed under the loops: start over.
                            return Ok(true);
                        }
                    }
                }
            }
        }
        Ok(false)
    }

    /// Repeat the choice before `i` at `i`: the running task runs one more
    /// step before the switch, which often lets a later switch vanish.
    fn extend(&mut self, best: &mut Candidate) -> Result<bool, ReplayError> {
        let mut improved = false;
        let mut i = 1;
        while i < best.choices.len() {
            if best.choices[i] != best.choices[i - 1] {
                let mut candidate = best.choices.clone();
                candidate.insert(i, best.choices[i - 1]);
                improved |= self.improve(best, &candidate)?;
            }
            i += 1;
        }
        Ok(improved)
    }

    fn delete(&mut self, best: &mut Candidate) -> Result<bool, ReplayError> {
        let mut improved = false;
        let mut chunk = (best.choices.len() / 2).max(1);
        loop {
            let mut start = 0;
            while start < best.choices.len() {
                let end = (start + chunk).min(best.choices.len());
                let candidate: Vec<u8> = best.choices[..start]
                    .iter()
                    .chain(&best.choices[end..])
                    .copied()
                    .collect();
                if self.improve(best, &candidate)? {
                    improved = true;
                } else {
                    start += chunk;
                }
            }
            if chunk == 1 {
                return Ok(improved);
            }
            chunk /= 2;
        }
    }
}

/// Shrink `entry`'s schedule to the fewest preemptions, then choices, that
/// still give the same finding signature. The result has explorer
/// `minimized`, no seed (no explorer seed produces it), and `preemptions`
/// and `choices` recomputed from its own replay. Fails with
/// [`ReplayError::DoesNotReproduce`] if the entry does not reproduce to
/// begin with.
pub fn minimize(entry: &CorpusEntry) -> Result<CorpusEntry, ReplayError> {
    let scheme = scheme_of(entry)?;
    let mut search = Search {
        scenario: scheme.scenario(entry.workload.clone()),
        signature: &entry.signature,
        runs: 0,
    };
    let not_reproduced = || ReplayError::DoesNotReproduce(entry.signature.clone());
    let mut best = search.attempt(&entry.choices)?.ok_or_else(not_reproduced)?;
    loop {
        let mut improved = search.truncate(&mut best)?;
        improved |= search.repoint(&mut best)?;
        improved |= search.extend(&mut best)?;
        improved |= search.delete(&mut best)?;
        if !improved {
            improved = search.repoint_pairs(&mut best)?;
        }
        if !improved || search.runs >= MAX_RUNS {
            break;
        }
    }
    // The kept schedule replays as recorded, by construction; check it, so a
    // result that would not survive `cargo test` is never returned.
    let check = run_single(
        &search.scenario,
        &Drive::Choices(best.choices.clone()),
        ExecConfig::default(),
    )?;
    if !reproduces(entry, &check) {
        return Err(not_reproduced());
    }
    // The kind and signature come from the replay, not from the file: an
    // entry whose `finding` field was edited to contradict its signature is
    // saved as what it really finds, with today's line numbers.
    let expected = strip_line_numbers(&entry.signature);
    let found = check
        .record
        .findings
        .iter()
        .find(|f| f.stable_signature() == expected)
        .ok_or_else(not_reproduced)?;
    Ok(CorpusEntry {
        explorer: "minimized".into(),
        seed: None,
        finding: found.kind,
        signature: found.signature(),
        preemptions: check.record.preemptions,
        choices: best.choices,
        ..entry.clone()
    })
}
