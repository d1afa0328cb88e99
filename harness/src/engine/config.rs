//! How a run is configured: the explorer, the seeds and shards, the budget,
//! the per-execution settings, and the hooks a long campaign shares.

use super::ExecutionRecord;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Which exploration strategy picks the schedules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Explorer {
    /// Uniformly random choice at every step.
    Random,
    /// PCT; `depth: None` is the depth ladder.
    Pct {
        /// A fixed depth, or the ladder when absent.
        depth: Option<u32>,
    },
    /// Partial-order sampling (basic POS): random priorities, re-drawn for
    /// the task that ran.
    Pos,
    /// A random walk with one task slowed by a factor drawn per execution.
    Slow,
    /// Partial-order sampling that also re-draws the priorities of the
    /// pending steps that conflict with the step just run.
    Cpos,
    /// The selectively uniform random walk: tasks weighted by their
    /// remaining steps on shared state.
    Surw,
    /// Feedback-guided schedule fuzzing: schedules mutated from a corpus of
    /// those that showed new interleaving features.
    Guided,
    /// The portfolio's members with conflict-aware POS and the guided
    /// fuzzer, shares adapting to which member recently found new features.
    Adaptive,
    /// Several explorers sharing the budget, one per execution, picked from
    /// a hash of the execution seed at shares that escalate over the run
    /// from the shallow members to the slow-task walk (see
    /// [`crate::scheduler::Escalation`]).
    Portfolio,
}

impl Explorer {
    /// The name used on the command line (`random`, `pct`, `pct-d3`, `pos`,
    /// `cpos`, `surw`, `slow`, `guided`, `adaptive`, `portfolio`).
    pub fn name(&self) -> String {
        match self {
            Explorer::Random => "random".into(),
            Explorer::Portfolio => "portfolio".into(),
            Explorer::Pos => "pos".into(),
            Explorer::Slow => "slow".into(),
            Explorer::Cpos => "cpos".into(),
            Explorer::Surw => "surw".into(),
            Explorer::Guided => "guided".into(),
            Explorer::Adaptive => "adaptive".into(),
            Explorer::Pct { depth: None } => "pct".into(),
            Explorer::Pct { depth: Some(d) } => format!("pct-d{d}"),
        }
    }

    /// Whether an execution replays from its seed alone (`replay --seed`);
    /// a portfolio's execution does under the member that ran it (see
    /// [`ExecutionRecord::replayed_by`](super::ExecutionRecord::replayed_by)). The guided fuzzer's executions (and the adaptive portfolio's) depend
    /// on every execution before them in the run: they replay from their
    /// recorded schedules.
    pub fn replays_from_seed(&self) -> bool {
        !matches!(self, Explorer::Guided | Explorer::Adaptive)
    }

    /// Parse `random`, `pct`, `pct-dN`, `pos`, `cpos`, `surw`, `slow`,
    /// `guided`, `adaptive` or `portfolio`.
    pub fn parse(s: &str) -> Option<Explorer> {
        match s {
            "cpos" => Some(Explorer::Cpos),
            "surw" => Some(Explorer::Surw),
            "guided" => Some(Explorer::Guided),
            "adaptive" => Some(Explorer::Adaptive),
            "random" => Some(Explorer::Random),
            "portfolio" => Some(Explorer::Portfolio),
            "pos" => Some(Explorer::Pos),
            "slow" => Some(Explorer::Slow),
            "pct" => Some(Explorer::Pct { depth: None }),
            _ => {
                let d: u32 = s.strip_prefix("pct-d")?.parse().ok()?;
                (1..=64)
                    .contains(&d)
                    .then_some(Explorer::Pct { depth: Some(d) })
            }
        }
    }
}

impl fmt::Display for Explorer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// The default budget of scheduling decisions per execution before it is
/// declared a hang.
pub const DEFAULT_STEP_BUDGET: u64 = 20_000;

/// Which coroutine runtime runs the sequentially consistent explorers'
/// executions. Both take the same decisions at the same scheduling points,
/// so a seed or a recorded schedule replays the same on either.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Runtime {
    /// The engine's own executor ([`crate::backend::native`]).
    #[default]
    Native,
    /// Shuttle's runtime, under the engine's schedulers.
    Shuttle,
}

impl Runtime {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Runtime::Native => "native",
            Runtime::Shuttle => "shuttle",
        }
    }

    /// Parse `native` or `shuttle`.
    pub fn parse(s: &str) -> Option<Runtime> {
        match s {
            "native" => Some(Runtime::Native),
            "shuttle" => Some(Runtime::Shuttle),
            _ => None,
        }
    }
}

/// Settings shared by every execution of a run.
#[derive(Clone, Copy, Debug)]
pub struct ExecConfig {
    /// Scheduling decisions allowed per execution (then: `Hang`).
    pub step_budget: u64,
    /// Whether plain accesses are checked for data races.
    pub race_detection: bool,
    /// The coroutine runtime.
    pub runtime: Runtime,
}

impl Default for ExecConfig {
    fn default() -> Self {
        ExecConfig {
            step_budget: DEFAULT_STEP_BUDGET,
            race_detection: true,
            runtime: Runtime::default(),
        }
    }
}

/// The seed of execution `index` of a run started from `base`. Execution 0
/// uses `base` itself, so `fuzz --seed S` and `replay --seed S` agree.
pub fn execution_seed(base: u64, index: u64) -> u64 {
    base.wrapping_add(index.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// The execution index of the `n`-th execution of a run covering `shard`
/// (`offset, stride`): `offset, offset + stride, …`. Shards with the same
/// stride and distinct offsets below it never share an index, hence (the
/// seed map being a bijection) never share an execution seed.
pub fn shard_index(shard: (u64, u64), n: u64) -> u64 {
    shard.0.wrapping_add(n.wrapping_mul(shard.1.max(1)))
}

/// When a run stops before its budget is spent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopPolicy {
    /// Run the whole budget, collecting every distinct finding.
    Never,
    /// Stop at the first execution with a fatal finding (data races alone do
    /// not stop the run, so "data race only" is checked over the budget).
    FirstFatal,
    /// Stop at the first finding of any kind.
    FirstFinding,
}

/// How much of the seed space one run covers.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// At most this many executions (of this shard).
    pub iterations: Option<u64>,
    /// At most this much wall time.
    pub time: Option<Duration>,
}

/// A run: explorer, seeds, budget.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// The exploration strategy.
    pub explorer: Explorer,
    /// The base seed.
    pub seed: u64,
    /// The budget.
    pub budget: Budget,
    /// Per-execution settings.
    pub exec: ExecConfig,
    /// When to stop early.
    pub stop: StopPolicy,
    /// This run covers execution indices `shard.0, shard.0 + shard.1, …`:
    /// workers and machines given distinct shards never repeat each other.
    pub shard: (u64, u64),
}

impl RunConfig {
    /// A run of one shard that stops at its first fatal finding or after
    /// `iterations` executions, with the default per-execution settings:
    /// what a test or a measurement of executions-to-first-finding runs.
    pub fn until_first_fatal(explorer: Explorer, seed: u64, iterations: u64) -> Self {
        RunConfig {
            explorer,
            seed,
            budget: Budget {
                iterations: Some(iterations),
                time: None,
            },
            exec: ExecConfig::default(),
            stop: StopPolicy::FirstFatal,
            shard: (0, 1),
        }
    }
}

/// Progress callback: executions so far (of this shard), distinct findings so
/// far. Called every 256 executions.
pub type Progress = Arc<dyn Fn(u64, usize) + Send + Sync>;

/// Called with each execution that has a finding signature new to its run,
/// and those new signatures, as soon as the execution ends: a campaign
/// reports and saves what it finds while it runs, not only at the end.
pub type OnFinding = Arc<dyn Fn(&ExecutionRecord, &[String]) + Send + Sync>;

/// What a long campaign shares with the engine, beyond its [`RunConfig`].
/// Every field is optional; [`explore`](super::explore) runs with none.
#[derive(Clone, Default)]
pub struct Hooks {
    /// Called every 256 executions.
    pub progress: Option<Progress>,
    /// See [`OnFinding`].
    pub on_finding: Option<OnFinding>,
    /// Checked before every execution: once set (by a signal handler, say),
    /// the run ends at that execution boundary.
    pub cancel: Option<Arc<AtomicBool>>,
    /// Shared by the workers of one run: checked like `cancel`, and set when
    /// this run's [`StopPolicy`] stops it, so every worker stops at the first
    /// finding any of them makes.
    pub stop: Option<Arc<AtomicBool>>,
    /// Shared by the workers of one run: executions of every worker, so
    /// that [`FirstHit::executions`](super::FirstHit::executions) counts all of them.
    pub executions: Option<Arc<AtomicU64>>,
}

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hooks")
            .field("progress", &self.progress.is_some())
            .field("on_finding", &self.on_finding.is_some())
            .field("cancel", &self.cancel)
            .field("stop", &self.stop)
            .field("executions", &self.executions)
            .finish()
    }
}

impl Hooks {
    /// Whether the run must end before its next execution.
    pub(crate) fn stopping(&self) -> bool {
        let set =
            |f: &Option<Arc<AtomicBool>>| f.as_ref().is_some_and(|f| f.load(Ordering::Relaxed));
        set(&self.cancel) || set(&self.stop)
    }
}
