//! The engine: runs a scenario under one of our schedulers, execution after
//! execution, and collects what they found.
//!
//! A coroutine runtime provides the tasks and the scheduling points: the
//! engine's own executor ([`crate::backend::native`], the default) or
//! shuttle's ([`crate::backend::shuttle`], `Runtime::Shuttle`); on either,
//! the driver (`backend::driver`) decides at each point, at the
//! same points. It hides tasks parked on a model primitive, declares a
//! deadlock when every live task is parked, cuts a runaway execution off as
//! a hang, and ends an execution as soon as a fatal finding is recorded:
//! the tasks left are scheduled once more and stop at their next scheduling
//! point. Under shuttle they unwind out of the scenario there (a private
//! payload, caught where each task starts, no panic hook), so that shuttle
//! frees what they hold (its own "stop" would leak their stacks); the
//! native runtime instead runs them on to their ends once the execution is
//! recorded. Findings themselves are values, never panics.
//!
//! Where things are: run settings in [`config`], what a run found in
//! [`stats`], PCT's horizon in [`calibrate`], the long-lived fuzzer session
//! in [`bytes_session`]; this file holds the entry points.

pub mod bytes_session;
pub mod calibrate;
pub mod config;
pub mod stats;

pub use crate::backend::shuttle::shuttle_baseline_body;
pub use bytes_session::BytesSession;
pub use calibrate::{calibrate_horizon, calibrate_surw};
pub use config::{
    execution_seed, shard_index, Budget, ExecConfig, Explorer, Hooks, OnFinding, Progress,
    RunConfig, Runtime, StopPolicy, DEFAULT_STEP_BUDGET,
};
pub(crate) use stats::record_of;
pub use stats::{severity, ExecutionRecord, FirstHit, RenderedEvent, RunStats};

use crate::backend::driver::run_with;
use crate::finding::FindingKind;
use crate::scheduler::{
    AdaptiveScheduler, BytesScheduler, ConflictPosScheduler, GuidedScheduler, PctDepth,
    PctScheduler, PortfolioScheduler, PosScheduler, RandomScheduler, ReplayScheduler, Scheduler,
    SlowTaskScheduler, SurwScheduler,
};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

/// Whether the execution that last ran on this thread found a finding of
/// `kind`: for a caller driving [`shuttle_baseline_body`] under shuttle's
/// own schedulers, which report nothing back.
pub fn last_execution_found(kind: FindingKind) -> bool {
    crate::world::with_world(|w| w.finding_kinds().any(|k| k == kind))
}

/// A scenario body: builds the driver model, spawns its tasks, joins them.
pub type ScenarioFn = Arc<dyn Fn() + Send + Sync>;

/// Errors of the engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The scenario code itself panicked (a bug in the scenario, not a
    /// finding).
    #[error("scenario panicked: {0}")]
    ScenarioPanicked(String),
}

/// The scheduler an explorer runs with on `scenario`.
fn make_scheduler(
    explorer: &Explorer,
    scenario: &ScenarioFn,
    exec: ExecConfig,
) -> Result<Box<dyn Scheduler>, EngineError> {
    Ok(match explorer {
        Explorer::Random => Box::new(RandomScheduler::default()),
        Explorer::Pct { depth } => {
            let k = calibrate_horizon(scenario, exec)?;
            Box::new(PctScheduler::new(
                depth.map_or(PctDepth::Ladder, PctDepth::Fixed),
                k,
            ))
        }
        Explorer::Pos => Box::new(PosScheduler::default()),
        Explorer::Slow => Box::new(SlowTaskScheduler::new(calibrate_horizon(scenario, exec)?)),
        Explorer::Cpos => Box::new(ConflictPosScheduler::default()),
        Explorer::Surw => Box::new(SurwScheduler::new(calibrate_surw(scenario, exec)?)),
        Explorer::Guided => Box::new(GuidedScheduler::new(calibrate_horizon(scenario, exec)?)),
        Explorer::Adaptive => Box::new(AdaptiveScheduler::new(calibrate_horizon(scenario, exec)?)),
        Explorer::Portfolio => {
            Box::new(PortfolioScheduler::new(calibrate_horizon(scenario, exec)?))
        }
    })
}

/// Explore `scenario` with the run's explorer and budget.
pub fn explore(
    scenario: &ScenarioFn,
    run: &RunConfig,
    progress: Option<Progress>,
) -> Result<RunStats, EngineError> {
    explore_with(
        scenario,
        run,
        Hooks {
            progress,
            ..Hooks::default()
        },
    )
}

/// [`explore`] with a campaign's [`Hooks`].
pub fn explore_with(
    scenario: &ScenarioFn,
    run: &RunConfig,
    hooks: Hooks,
) -> Result<RunStats, EngineError> {
    let inner = make_scheduler(&run.explorer, scenario, run.exec)?;
    run_with(scenario, inner, run, hooks, false).map(|(stats, _)| stats)
}

/// How to drive a single execution.
#[derive(Clone, Debug)]
pub enum Drive {
    /// The explorer's choices for this execution seed.
    Seed {
        /// The explorer.
        explorer: Explorer,
        /// The execution seed.
        seed: u64,
    },
    /// Recorded task choices.
    Choices(Vec<u8>),
    /// Fuzzer bytes.
    Bytes(Vec<u8>),
}

/// The result of one driven execution.
#[derive(Clone, Debug)]
pub struct SingleRun {
    /// The execution, always recorded (with or without findings).
    pub record: ExecutionRecord,
    /// For recorded choices: the first decision where the recording named a
    /// task that was not enabled.
    pub diverged_at: Option<usize>,
}

/// Run exactly one execution and record it in full.
pub fn run_single(
    scenario: &ScenarioFn,
    drive: &Drive,
    exec: ExecConfig,
) -> Result<SingleRun, EngineError> {
    struct Recording<S> {
        inner: S,
        diverged: Rc<RefCell<Option<usize>>>,
    }
    impl Scheduler for Recording<ReplayScheduler> {
        fn begin(&mut self, seed: u64) {
            self.inner.begin(seed);
        }
        fn choose(&mut self, enabled: &[usize], current: Option<usize>) -> usize {
            let t = self.inner.choose(enabled, current);
            *self.diverged.borrow_mut() = self.inner.diverged_at;
            t
        }
    }
    let diverged = Rc::new(RefCell::new(None));
    let (inner, seed): (Box<dyn Scheduler>, u64) = match drive {
        Drive::Seed { explorer, seed } => (make_scheduler(explorer, scenario, exec)?, *seed),
        Drive::Choices(c) => (
            Box::new(Recording {
                inner: ReplayScheduler::new(c.clone()),
                diverged: Rc::clone(&diverged),
            }),
            0,
        ),
        Drive::Bytes(b) => (Box::new(BytesScheduler::new(b.clone())), 0),
    };
    let run = RunConfig {
        explorer: Explorer::Random,
        seed,
        budget: Budget {
            iterations: Some(1),
            time: None,
        },
        exec,
        stop: StopPolicy::Never,
        shard: (0, 1),
    };
    let (_, last) = run_with(scenario, inner, &run, Hooks::default(), true)?;
    let record =
        last.ok_or_else(|| EngineError::ScenarioPanicked("the execution did not start".into()))?;
    let diverged_at = *diverged.borrow();
    Ok(SingleRun {
        record,
        diverged_at,
    })
}
