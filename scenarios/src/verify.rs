//! Bounded-exhaustive verdicts: a scheme of the zoo under `loom::model`
//! with a preemption bound, under the C11 memory model.
//!
//! The scheme's code is the same code the SC explorers run; only the
//! runtime underneath differs (see [`harness::runtime`]). A clean outcome
//! with `complete` set is a proof that no execution within the bound finds
//! anything; a finding comes with the trace of the execution that found it.

use crate::schemes::Scheme;
use crate::workload::Workload;
use harness::engine::ExecutionRecord;
use harness::exhaustive::{explore_exhaustive, Cap, ExhaustiveConfig, ExhaustiveError};
use harness::finding::{Finding, FindingKind};
use harness::runtime::MAX_LOOM_TASKS;
use std::time::Duration;

/// The most users a workload may have under loom: loom's thread limit less
/// the init and removal tasks.
pub const MAX_LOOM_USERS: u32 = (MAX_LOOM_TASKS - 2) as u32;

/// The outcome of [`verify`].
#[derive(Clone, Debug)]
pub struct VerifyOutcome {
    /// The most severe finding kind reached; `None` is clean.
    pub verdict: Option<FindingKind>,
    /// The first finding of that kind.
    pub finding: Option<Finding>,
    /// The execution that found it: its trace is the replayable
    /// description (loom's exploration is deterministic, so `verify` with
    /// the same scheme, workload and bound finds it again).
    pub record: Option<ExecutionRecord>,
    /// Executions loom explored.
    pub executions: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// The preemption bound.
    pub bound: usize,
    /// Whether every execution within the bound was explored (false when a
    /// fatal finding or a budget ended the run first).
    pub complete: bool,
    /// The budget that ended the run, if one did.
    pub capped: Option<Cap>,
}

/// Why a scheme could not be verified.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The workload's knobs are out of range.
    #[error("invalid workload: {0}")]
    Workload(String),
    /// Too many users for loom's thread limit.
    #[error("the loom backend models at most {max} users (loom runs at most {threads} threads: init, the users and remove), got {got}")]
    TooManyUsers {
        /// Users requested.
        got: u32,
        /// [`MAX_LOOM_USERS`].
        max: u32,
        /// Loom's thread limit.
        threads: usize,
    },
    /// The exploration failed.
    #[error(transparent)]
    Exhaustive(#[from] ExhaustiveError),
}

/// Explore every execution of `scheme` under `workload` with at most
/// `preemptions` preemptions each.
pub fn verify(
    scheme: &Scheme,
    workload: Workload,
    preemptions: usize,
) -> Result<VerifyOutcome, VerifyError> {
    verify_with(
        scheme,
        workload,
        &ExhaustiveConfig {
            preemption_bound: preemptions,
            ..ExhaustiveConfig::default()
        },
    )
}

/// [`verify`] with every setting of the exploration.
pub fn verify_with(
    scheme: &Scheme,
    workload: Workload,
    config: &ExhaustiveConfig,
) -> Result<VerifyOutcome, VerifyError> {
    workload
        .validate()
        .map_err(|e| VerifyError::Workload(e.to_string()))?;
    if scheme.uses_workload() && workload.users > MAX_LOOM_USERS {
        return Err(VerifyError::TooManyUsers {
            got: workload.users,
            max: MAX_LOOM_USERS,
            threads: MAX_LOOM_TASKS,
        });
    }
    let run = explore_exhaustive(&scheme.scenario(workload), config)?;
    let worst = run.worst().map(|(f, r)| (f.clone(), r.clone()));
    Ok(VerifyOutcome {
        verdict: run.verdict(),
        finding: worst.as_ref().map(|(f, _)| f.clone()),
        record: worst.map(|(_, r)| r),
        executions: run.executions,
        elapsed: run.elapsed,
        bound: run.preemption_bound,
        complete: run.complete,
        capped: run.capped,
    })
}

/// Executions [`deepen`] spends at most, over every bound, by default.
pub const DEFAULT_EXECUTIONS: u64 = 100_000;

/// How [`deepen`] explores.
#[derive(Clone, Debug)]
pub struct DeepenConfig {
    /// The first preemption bound explored.
    pub from: usize,
    /// The last bound explored (`None`: deepen until a finding, the whole
    /// state space, or the budget).
    pub to: Option<usize>,
    /// Executions over every bound: the deterministic budget.
    pub executions: u64,
    /// An opt-in wall-time cap over every bound; a run it ends says so.
    pub time: Option<Duration>,
    /// Incremented once per execution (see [`ExhaustiveConfig::counter`]).
    pub counter: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
    /// Set by a Ctrl-C handler to stop before the next execution (see
    /// [`ExhaustiveConfig::cancel`]); the deepening then ends with what it
    /// found.
    pub cancel: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    /// Keep deepening past a bound whose findings are all non-fatal (a data
    /// race, a lock held at exit), until a fatal finding, the whole state
    /// space, the last bound or the budget. Off by default: the smallest
    /// bound with a finding settles the verdict, and it was explored
    /// completely (a non-fatal finding does not end a loom run), so nothing
    /// worse is within it.
    pub past_first_finding: bool,
}

impl Default for DeepenConfig {
    fn default() -> Self {
        DeepenConfig {
            from: 1,
            to: None,
            executions: DEFAULT_EXECUTIONS,
            time: None,
            counter: None,
            cancel: None,
            past_first_finding: false,
        }
    }
}

/// Why [`deepen`] stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeepenEnd {
    /// A fatal finding ended the last bound's exploration.
    Finding,
    /// The last bound, explored completely, found something non-fatal (a
    /// data race, a lock held at exit): the smallest bound with a finding
    /// settles the verdict (see [`DeepenConfig::past_first_finding`]).
    FirstFinding,
    /// The last bound asked for was explored completely.
    LastBound,
    /// A bound explored no more executions than the bound below it: no
    /// execution of the scheme has more preemptions, so every execution of
    /// the scheme was explored.
    WholeSpace,
    /// The execution budget ran out during the last bound.
    Executions,
    /// The wall-time cap ran out during the last bound.
    Time,
    /// The user interrupted the last bound (Ctrl-C).
    Interrupted,
}

/// The outcome of [`deepen`]: one exploration per bound, shallowest first.
#[derive(Clone, Debug)]
pub struct Deepening {
    /// Each bound's exploration, in order.
    pub rounds: Vec<VerifyOutcome>,
    /// Why it stopped.
    pub end: DeepenEnd,
}

impl Deepening {
    /// The deepest bound explored completely, if any.
    pub fn deepest_complete(&self) -> Option<usize> {
        self.rounds
            .iter()
            .filter(|r| r.complete)
            .map(|r| r.bound)
            .max()
    }

    /// Executions over every bound.
    pub fn executions(&self) -> u64 {
        self.rounds.iter().map(|r| r.executions).sum()
    }

    /// Wall time over every bound.
    pub fn elapsed(&self) -> Duration {
        self.rounds.iter().map(|r| r.elapsed).sum()
    }

    /// The round with the most severe finding (a data race found at a
    /// shallow bound is kept even when a deeper bound finds nothing more).
    pub fn worst(&self) -> Option<&VerifyOutcome> {
        self.rounds
            .iter()
            .filter(|r| r.verdict.is_some())
            .min_by_key(|r| r.verdict.map(harness::engine::severity))
    }

    /// The last round.
    pub fn last(&self) -> Option<&VerifyOutcome> {
        self.rounds.last()
    }
}

/// Explore `scheme` at preemption bounds `from, from + 1, …` until a
/// finding (a fatal one, with [`DeepenConfig::past_first_finding`]), the
/// whole state space, the last bound asked for, or the budget.
/// `progress` is told each bound as it starts, with the executions spent so
/// far.
pub fn deepen(
    scheme: &Scheme,
    workload: Workload,
    config: &DeepenConfig,
    progress: &dyn Fn(usize, u64),
) -> Result<Deepening, VerifyError> {
    let mut rounds: Vec<VerifyOutcome> = Vec::new();
    let mut spent = 0u64;
    let started = std::time::Instant::now();
    let mut bound = config.from;
    let cancelled = || {
        config
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(std::sync::atomic::Ordering::Relaxed))
    };
    let end = loop {
        if cancelled() && !rounds.is_empty() {
            break DeepenEnd::Interrupted;
        }
        progress(bound, spent);
        let time = match config.time {
            Some(t) => match t.checked_sub(started.elapsed()) {
                Some(left) if !left.is_zero() => Some(left),
                _ => break DeepenEnd::Time,
            },
            None => None,
        };
        let out = verify_with(
            scheme,
            workload.clone(),
            &ExhaustiveConfig {
                preemption_bound: bound,
                time,
                max_executions: Some(config.executions.saturating_sub(spent).max(1)),
                counter: config.counter.clone(),
                cancel: config.cancel.clone(),
                ..ExhaustiveConfig::default()
            },
        )?;
        spent += out.executions;
        let fatal = out.verdict.is_some_and(|k| k.is_fatal());
        let found = out.verdict.is_some();
        let same_as_below = rounds.last().is_some_and(|below| {
            below.complete && out.complete && below.executions == out.executions
        });
        let capped = out.capped;
        let complete = out.complete;
        rounds.push(out);
        if fatal {
            break DeepenEnd::Finding;
        }
        match capped {
            Some(Cap::Time) => break DeepenEnd::Time,
            Some(Cap::Executions) => break DeepenEnd::Executions,
            Some(Cap::Interrupted) => break DeepenEnd::Interrupted,
            None => {}
        }
        if found && !config.past_first_finding {
            break DeepenEnd::FirstFinding;
        }
        if complete && same_as_below {
            break DeepenEnd::WholeSpace;
        }
        if config.to.is_some_and(|to| bound >= to) {
            break DeepenEnd::LastBound;
        }
        if spent >= config.executions {
            break DeepenEnd::Executions;
        }
        bound += 1;
    };
    Ok(Deepening { rounds, end })
}
