//! Bounded-exhaustive exploration: the same scenario under `loom::model`,
//! every execution within a preemption bound, under the C11 memory model.
//!
//! Loom re-runs the scenario once per execution; each run starts a fresh
//! world in loom mode ([`crate::backend::loom`]). What an execution
//! finds is recorded in the world, as under shuttle:
//!
//! * a data race (loom's causality check on a plain access, see
//!   [`crate::runtime`]) is recorded and the execution goes on, so that a
//!   scheme whose verdict is "data race only" is also explored for removal
//!   bugs in the same run;
//! * a fatal finding (use-after-removal, deadlock, leak, invariant) ends the
//!   whole model run — loom explores until its first failing execution — and
//!   that execution's record is the outcome;
//! * loom running out of branches (a poll that never ends) is a hang, and
//!   loom's own deadlock detection (every thread blocked in loom, e.g. in a
//!   join) a deadlock.
//!
//! Loom signals all of these by panicking; the panics are caught here,
//! silenced, and turned into findings. Loom's exploration order is
//! deterministic, so the outcome is a pure function of (scenario, bound).
//!
//! # Limits
//!
//! * The verdict is the most severe of the data races found and the one
//!   fatal finding that ended the run; a more severe fatal finding later in
//!   loom's order is not looked for (each zoo scheme has one bug).
//! * Loom models at most [`runtime::MAX_LOOM_TASKS`] threads, init
//!   included.
//! * Loom's C11 model has no load buffering, and its `SeqCst` fences are
//!   stronger than C11's (each joins the causality of every earlier one).
//! * Primitives keep their state in the world, ordered by one word each:
//!   an rwsem's readers synchronise through that word as through the
//!   kernel's count, where the shuttle model keeps them unordered; SRCU's
//!   counters are exact, with the kernel's barriers as fences, so
//!   executions in which the updater reads a count stale are not explored
//!   (by the store-buffering argument of barriers A and B they are safe).

use crate::engine::{record_of, severity, ExecutionRecord, ScenarioFn};
use crate::finding::{Finding, FindingKind};
use crate::runtime::{self, panic_message, quietly, StopExploring};
use crate::world::{self, with_world};
use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Settings of one bounded-exhaustive run.
#[derive(Clone, Debug)]
pub struct ExhaustiveConfig {
    /// At most this many preemptions per execution (loom's bound).
    pub preemption_bound: usize,
    /// At most this many branch points per execution; an execution that
    /// needs more (a poll that never succeeds) is reported as a hang.
    pub max_branches: usize,
    /// Stop exploring after this much wall time (the run is then
    /// incomplete). Opt-in: a verdict that depends on it depends on the
    /// machine's load.
    pub time: Option<Duration>,
    /// Stop exploring after this many executions (the run is then
    /// incomplete): the deterministic budget.
    pub max_executions: Option<u64>,
    /// Incremented once per execution, so that a caller on another thread
    /// can show progress.
    pub counter: Option<Arc<AtomicU64>>,
    /// Set from another thread (a Ctrl-C handler) to stop exploring before
    /// the next execution: the run is then incomplete, capped by
    /// [`Cap::Interrupted`], with what it found so far.
    pub cancel: Option<Arc<AtomicBool>>,
}

/// The default preemption bound.
pub const DEFAULT_PREEMPTION_BOUND: usize = 2;

/// The default branch budget per execution.
pub const DEFAULT_MAX_BRANCHES: usize = 20_000;

impl Default for ExhaustiveConfig {
    fn default() -> Self {
        ExhaustiveConfig {
            preemption_bound: DEFAULT_PREEMPTION_BOUND,
            max_branches: DEFAULT_MAX_BRANCHES,
            time: None,
            max_executions: None,
            counter: None,
            cancel: None,
        }
    }
}

/// What a bounded-exhaustive run found.
#[derive(Clone, Debug)]
pub struct ExhaustiveRun {
    /// Executions explored (including the one that ended the run).
    pub executions: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// The preemption bound explored.
    pub preemption_bound: usize,
    /// Whether every execution within the bound was explored: false if a
    /// fatal finding or a budget cut the run short.
    pub complete: bool,
    /// The budget that cut the run short, if one did.
    pub capped: Option<Cap>,
    /// The execution that ended the run with a fatal finding.
    pub fatal: Option<ExecutionRecord>,
    /// The first execution of each distinct non-fatal finding (a data race,
    /// a lock held at exit), in the order found: they do not end a loom
    /// run, so they are collected across its executions.
    pub races: Vec<ExecutionRecord>,
}

impl ExhaustiveRun {
    /// The most severe finding kind reached, `None` if clean.
    pub fn verdict(&self) -> Option<FindingKind> {
        self.findings()
            .map(|(f, _)| f.kind)
            .min_by_key(|k| severity(*k))
    }

    /// The first finding of the most severe kind, with its execution.
    pub fn worst(&self) -> Option<(&Finding, &ExecutionRecord)> {
        self.findings().min_by_key(|(f, _)| severity(f.kind))
    }

    fn findings(&self) -> impl Iterator<Item = (&Finding, &ExecutionRecord)> {
        self.fatal
            .iter()
            .chain(self.races.iter())
            .flat_map(|r| r.findings.iter().map(move |f| (f, r)))
    }
}

/// A budget that ended a bounded-exhaustive run before it was complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cap {
    /// The execution budget ([`ExhaustiveConfig::max_executions`]).
    Executions,
    /// The wall-time cap ([`ExhaustiveConfig::time`]).
    Time,
    /// The cancel flag ([`ExhaustiveConfig::cancel`]): the user interrupted
    /// the run.
    Interrupted,
}

/// The panic payload that ends a loom run whose cancel flag was set: loom
/// has no other way out of `check()` between executions.
struct Cancelled;

/// Why a bounded-exhaustive run could not be done.
#[derive(Debug, thiserror::Error)]
pub enum ExhaustiveError {
    /// The preemption bound is larger than loom supports.
    #[error("preemption bound {0} is too large (at most 255)")]
    BoundTooLarge(usize),
    /// The scenario spawns more tasks than loom can model.
    #[error("the scenario has more tasks than loom can model (at most {max}, init included)")]
    TooManyTasks {
        /// Loom's thread limit.
        max: usize,
    },
    /// A `LOOM_*` environment variable that loom reads has a value loom
    /// cannot parse.
    #[error("bad loom setting in the environment: {0}")]
    Environment(String),
    /// The scenario code itself panicked (a bug in the scenario, not a
    /// finding).
    #[error("scenario panicked under loom: {0}")]
    ScenarioPanicked(String),
}

/// What the model body collects across executions (loom runs them all on
/// this thread).
#[derive(Default)]
struct Harvest {
    executions: u64,
    races: Vec<(String, ExecutionRecord)>,
}

thread_local! {
    static HARVEST: RefCell<Harvest> = RefCell::new(Harvest::default());
}

/// Loom's message when an execution exceeds its branch budget.
const LOOM_BRANCH_OVERFLOW: &str = "Model exceeded maximum number of branches";
/// Loom's message when no thread can run.
const LOOM_DEADLOCK: &str = "deadlock; threads =";
/// Loom's assertion when a model spawns more threads than it supports.
const LOOM_TOO_MANY_THREADS: &str = "self.threads.len() < self.max()";
/// Loom's message for an unparsable `LOOM_*` environment variable.
const LOOM_BAD_ENV: &str = "invalid value for `LOOM_";

/// Explore every execution of `scenario` within the configured preemption
/// bound under loom.
pub fn explore_exhaustive(
    scenario: &ScenarioFn,
    config: &ExhaustiveConfig,
) -> Result<ExhaustiveRun, ExhaustiveError> {
    if config.preemption_bound > usize::from(u8::MAX) {
        return Err(ExhaustiveError::BoundTooLarge(config.preemption_bound));
    }
    HARVEST.with(|h| *h.borrow_mut() = Harvest::default());
    let scenario = Arc::clone(scenario);
    let counter = config.counter.clone();
    let cancel = config.cancel.clone();
    let body = move || {
        // Checked before the execution starts, so an interrupted run's
        // executions are all whole ones.
        if cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed)) {
            panic::panic_any(Cancelled);
        }
        if let Some(c) = &counter {
            c.fetch_add(1, Ordering::Relaxed);
        }
        let index = HARVEST.with(|h| {
            let mut h = h.borrow_mut();
            h.executions += 1;
            h.executions - 1
        });
        world::reset_loom();
        scenario();
        world::scenario_completed();
        harvest_races(index);
    };
    let config = config.clone();
    let start = Instant::now();
    let outcome = quietly(|| {
        panic::catch_unwind(AssertUnwindSafe(|| {
            let mut builder = loom::model::Builder::new();
            builder.max_threads = runtime::MAX_LOOM_TASKS;
            builder.preemption_bound = Some(config.preemption_bound);
            builder.max_branches = config.max_branches;
            // Loom counts from 1 and stops before the execution whose number
            // reaches the limit: `n + 1` runs exactly `n`.
            builder.max_permutations = config
                .max_executions
                .map(|n| usize::try_from(n).unwrap_or(usize::MAX).saturating_add(1));
            builder.max_duration = config.time;
            // Loom checks its budgets every `checkpoint_interval`
            // executions; without a budget, never.
            let budgeted = config.time.is_some() || config.max_executions.is_some();
            builder.checkpoint_interval = if budgeted { 1 } else { usize::MAX };
            builder.checkpoint_file = None;
            builder.location = false;
            builder.log = false;
            builder.check(body);
        }))
    });
    let elapsed = start.elapsed();
    let harvest = HARVEST.with(|h| std::mem::take(&mut *h.borrow_mut()));
    // Loom returns the same way whether it ran out of executions to explore
    // or out of budget; a run that reached a budget is counted as cut short
    // (conservatively: it may have had nothing left to explore).
    let capped = if config
        .max_executions
        .is_some_and(|n| harvest.executions >= n)
    {
        Some(Cap::Executions)
    } else if config.time.is_some_and(|t| elapsed >= t) {
        Some(Cap::Time)
    } else {
        None
    };
    let mut run = ExhaustiveRun {
        executions: harvest.executions,
        elapsed,
        preemption_bound: config.preemption_bound,
        complete: capped.is_none(),
        capped,
        fatal: None,
        races: harvest.races.into_iter().map(|(_, r)| r).collect(),
    };
    let Err(payload) = outcome else {
        return Ok(run);
    };
    run.complete = false;
    if payload.downcast_ref::<Cancelled>().is_some() {
        run.capped = Some(Cap::Interrupted);
        return Ok(run);
    }
    run.capped = None;
    let index = run.executions.saturating_sub(1);
    if payload.downcast_ref::<StopExploring>().is_none() {
        let message = panic_message(payload.as_ref());
        if message.contains(LOOM_BRANCH_OVERFLOW) {
            with_world(|w| {
                let steps = w.trace().len() as u64;
                w.report_hang(steps);
            });
        } else if message.contains(LOOM_DEADLOCK) {
            with_world(|w| {
                let steps = w.trace().len() as u64;
                w.report_deadlock(steps);
            });
        } else if message.contains(LOOM_BAD_ENV) {
            return Err(ExhaustiveError::Environment(message));
        } else if message.contains(LOOM_TOO_MANY_THREADS) {
            return Err(ExhaustiveError::TooManyTasks {
                max: runtime::MAX_LOOM_TASKS,
            });
        } else {
            return Err(ExhaustiveError::ScenarioPanicked(message));
        }
    }
    run.fatal = Some(with_world(|w| record(w, index)));
    Ok(run)
}

/// Keep the first execution of every non-fatal finding signature (data
/// races, locks held at exit) the execution just found.
fn harvest_races(index: u64) {
    with_world(|w| {
        HARVEST.with(|h| {
            let mut h = h.borrow_mut();
            for f in w.findings().iter().filter(|f| !f.kind.is_fatal()) {
                let sig = f.signature();
                if !h.races.iter().any(|(s, _)| *s == sig) {
                    let mut rec = record(w, index);
                    rec.findings = vec![f.clone()];
                    h.races.push((sig, rec));
                }
            }
        })
    });
}

/// The world's execution as a record. Loom executions have no seed or
/// shuttle schedule: the record carries the trace, which is the replayable
/// description loom gives (loom itself re-finds the execution
/// deterministically).
fn record(w: &world::World, index: u64) -> ExecutionRecord {
    record_of(w, 0, index)
}
