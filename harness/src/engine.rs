//! The engine: runs a scenario on shuttle's runtime under one of our
//! schedulers, execution after execution, and collects what they found.
//!
//! Shuttle provides the coroutines and the scheduling points; our adapter
//! decides at each point. It hides tasks parked on a model primitive,
//! declares a deadlock when every live task is parked, cuts a runaway
//! execution off as a hang, and ends an execution as soon as a fatal finding
//! is recorded: the tasks left are scheduled once more and unwind out of the
//! scenario (a private payload, caught where each task starts, no panic
//! hook), so that shuttle frees what they hold; shuttle's own "stop" would
//! leak their stacks, a few hundred bytes per failing execution. Findings
//! themselves are values, never panics.

use crate::feedback;
use crate::finding::{Finding, FindingKind};
use crate::scheduler::{
    BytesScheduler, ConflictPosScheduler, GuidedScheduler, Outcome, PctDepth, PctScheduler,
    Pending, PortfolioScheduler, PosScheduler, RandomScheduler, ReplayScheduler, Scheduler,
    SlowTaskScheduler, SurwScheduler,
};
use crate::trace::short_site;
use crate::world::{self, with_world, WorldConfig};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A scenario body: builds the driver model, spawns its tasks, joins them.
pub type ScenarioFn = Arc<dyn Fn() + Send + Sync>;

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
    /// Feedback-guided schedule fuzzing: byte schedules mutated from a
    /// corpus of those that showed new interleaving features.
    Guided,
    /// Several explorers sharing the budget, one per execution, picked from
    /// a hash of the execution seed.
    Portfolio,
}

impl Explorer {
    /// The name used on the command line (`random`, `pct`, `pct-d3`, `pos`,
    /// `cpos`, `surw`, `slow`, `guided`, `portfolio`).
    pub fn name(&self) -> String {
        match self {
            Explorer::Random => "random".into(),
            Explorer::Portfolio => "portfolio".into(),
            Explorer::Pos => "pos".into(),
            Explorer::Slow => "slow".into(),
            Explorer::Cpos => "cpos".into(),
            Explorer::Surw => "surw".into(),
            Explorer::Guided => "guided".into(),
            Explorer::Pct { depth: None } => "pct".into(),
            Explorer::Pct { depth: Some(d) } => format!("pct-d{d}"),
        }
    }

    /// Whether an execution replays from its seed alone (`replay --seed`).
    /// The guided fuzzer's executions depend on every execution before them
    /// in the run: they replay from their recorded schedules.
    pub fn replays_from_seed(&self) -> bool {
        *self != Explorer::Guided
    }

    /// Parse `random`, `pct`, `pct-dN`, `pos`, `cpos`, `surw`, `slow`,
    /// `guided` or `portfolio`.
    pub fn parse(s: &str) -> Option<Explorer> {
        match s {
            "cpos" => Some(Explorer::Cpos),
            "surw" => Some(Explorer::Surw),
            "guided" => Some(Explorer::Guided),
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

/// Settings shared by every execution of a run.
#[derive(Clone, Copy, Debug)]
pub struct ExecConfig {
    /// Scheduling decisions allowed per execution (then: `Hang`).
    pub step_budget: u64,
    /// Whether plain accesses are checked for data races.
    pub race_detection: bool,
}

impl Default for ExecConfig {
    fn default() -> Self {
        ExecConfig {
            step_budget: DEFAULT_STEP_BUDGET,
            race_detection: true,
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

/// One event of a finished execution, rendered for reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedEvent {
    /// Index of the task that performed it.
    pub task: usize,
    /// `down_read(&cxl_memdev_rwsem)`, `read(mem0.kobj.state_in_sysfs) = true`.
    pub text: String,
    /// Short `file:line`.
    pub site: String,
    /// Bookkeeping only.
    pub minor: bool,
    /// The name of the object, cell or primitive the event acted on
    /// (`mem0.cxlm`), empty for none: what interleaving feedback pairs
    /// accesses by, whatever the text's wording.
    pub target: String,
}

/// Everything about one execution that a report, a corpus entry or a
/// replay check needs.
#[derive(Clone, Debug)]
pub struct ExecutionRecord {
    /// The seed the scheduler was started with.
    pub seed: u64,
    /// Index of the execution within its run.
    pub index: u64,
    /// What it found, in the order found.
    pub findings: Vec<Finding>,
    /// Task names by id.
    pub tasks: Vec<String>,
    /// The trace.
    pub events: Vec<RenderedEvent>,
    /// The task chosen at each decision that had a real choice.
    pub schedule: Vec<u8>,
    /// The same decisions as fuzzer bytes: the index of the chosen task among
    /// the enabled ones (ascending ids). `Drive::Bytes(byte_schedule)`
    /// replays this execution, which is how corpus entries become seeds for
    /// `cargo fuzz`.
    pub byte_schedule: Vec<u8>,
    /// Decisions that switched away from a task that could have continued.
    pub preemptions: u32,
    /// All scheduling decisions taken.
    pub steps: u64,
}

impl ExecutionRecord {
    /// The most severe finding, if any.
    pub fn worst(&self) -> Option<&Finding> {
        self.findings.iter().min_by_key(|f| severity(f.kind))
    }
}

/// Rank of a finding kind for verdicts: lower is more severe.
pub fn severity(kind: FindingKind) -> u8 {
    match kind {
        FindingKind::UseAfterRemoval => 0,
        FindingKind::Deadlock => 1,
        FindingKind::Hang => 2,
        FindingKind::Assertion => 3,
        FindingKind::Invariant => 4,
        FindingKind::Leak => 5,
        FindingKind::DataRace => 6,
    }
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

/// The first occurrence of a finding kind in a run.
#[derive(Clone, Copy, Debug)]
pub struct FirstHit {
    /// Executions run (of this shard, or of every worker sharing
    /// [`Hooks::executions`]) up to and including the one that found it.
    pub executions: u64,
    /// Wall time from the start of the run.
    pub elapsed: Duration,
}

/// What a run found.
#[derive(Clone, Debug, Default)]
pub struct RunStats {
    /// Executions completed.
    pub executions: u64,
    /// Wall time spent.
    pub elapsed: Duration,
    /// First hit per finding kind.
    pub first: BTreeMap<FindingKind, FirstHit>,
    /// The first execution per distinct finding signature, in order found.
    pub distinct: Vec<(String, ExecutionRecord)>,
}

impl RunStats {
    /// Merge another shard's stats (workers run in parallel: the elapsed
    /// time is the longest, first hits keep the earliest in time).
    pub fn merge(&mut self, other: RunStats) {
        self.executions += other.executions;
        self.elapsed = self.elapsed.max(other.elapsed);
        for (k, hit) in other.first {
            let e = self.first.entry(k).or_insert(hit);
            if hit.elapsed < e.elapsed {
                *e = hit;
            }
        }
        for (sig, rec) in other.distinct {
            if !self.distinct.iter().any(|(s, _)| *s == sig) {
                self.distinct.push((sig, rec));
            }
        }
    }

    /// The most severe kind found.
    pub fn verdict(&self) -> Option<FindingKind> {
        self.first.keys().copied().min_by_key(|k| severity(*k))
    }

    /// Executions per second.
    pub fn rate(&self) -> f64 {
        self.executions as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Errors of the engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The scenario code itself panicked (a bug in the scenario, not a
    /// finding).
    #[error("scenario panicked: {0}")]
    ScenarioPanicked(String),
}

/// Progress callback: executions so far (of this shard), distinct findings so
/// far. Called every 256 executions.
pub type Progress = Arc<dyn Fn(u64, usize) + Send + Sync>;

/// Called with each execution that has a finding signature new to its run,
/// and those new signatures, as soon as the execution ends: a campaign
/// reports and saves what it finds while it runs, not only at the end.
pub type OnFinding = Arc<dyn Fn(&ExecutionRecord, &[String]) + Send + Sync>;

/// What a long campaign shares with the engine, beyond its [`RunConfig`].
/// Every field is optional; [`explore`] runs with none.
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
    /// that [`FirstHit::executions`] counts all of them.
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
    fn stopping(&self) -> bool {
        let set =
            |f: &Option<Arc<AtomicBool>>| f.as_ref().is_some_and(|f| f.load(Ordering::Relaxed));
        set(&self.cancel) || set(&self.stop)
    }
}

/// The per-run state the adapter shares with [`explore`].
struct Shared {
    stats: RunStats,
    start: Instant,
    /// The execution in progress: index and seed.
    current: Option<(u64, u64)>,
    next_index: u64,
    done: bool,
    /// With `keep_last`: the last execution, recorded in full.
    last: Option<ExecutionRecord>,
}

/// Glue between shuttle's scheduler interface and ours.
struct Adapter {
    inner: Box<dyn Scheduler>,
    run: RunConfig,
    shared: Rc<RefCell<Shared>>,
    steps: u64,
    /// Scheduling decisions since a fatal finding (see [`Adapter::drain`]).
    drain_steps: u32,
    preemptions: u32,
    schedule: Vec<u8>,
    byte_schedule: Vec<u8>,
    enabled: Vec<usize>,
    /// The pending operations of `enabled`, for schedulers that ask.
    pending: Vec<Option<Pending>>,
    /// The features of the last execution, for schedulers that ask.
    features: Vec<u64>,
    hooks: Hooks,
    /// Record every execution in full (single runs), not only those that
    /// found something.
    keep_last: bool,
    /// For a [`BytesSession`]: hands over each finished execution and
    /// returns the bytes of the next one (`None`: the session is over).
    feed: Option<Feed>,
}

/// See [`Adapter::feed`].
type Feed = Box<dyn FnMut(Option<ExecutionRecord>) -> Option<Vec<u8>>>;

impl Adapter {
    /// Fold the finished execution into the run's stats; decide whether to go on.
    fn collect(&mut self) {
        let mut sh = self.shared.borrow_mut();
        let Some((index, seed)) = sh.current.take() else {
            return;
        };
        sh.stats.executions += 1;
        let executions = match &self.hooks.executions {
            Some(total) => total.fetch_add(1, Ordering::Relaxed) + 1,
            None => sh.stats.executions,
        };
        let elapsed = sh.start.elapsed();
        let keep_last = self.keep_last;
        let adapter = &*self;
        let (fatal, found, record) = with_world(|w| {
            let fatal = w.findings().iter().any(|f| f.kind.is_fatal());
            let found = !w.findings().is_empty();
            // Rendering the trace is the expensive part: do it only for an
            // execution whose finding is new to this run (or when asked to).
            let new = w
                .findings()
                .iter()
                .map(Finding::signature)
                .any(|sig| !sh.stats.distinct.iter().any(|(s, _)| *s == sig));
            let record = (new || keep_last).then(|| snapshot(w, seed, index, adapter));
            for f in w.findings() {
                sh.stats.first.entry(f.kind).or_insert(FirstHit {
                    executions,
                    elapsed,
                });
            }
            (fatal, found, record)
        });
        // The other workers stop before this one reports: reporting takes
        // longer than an execution.
        match self.run.stop {
            StopPolicy::FirstFinding if found => sh.done = true,
            StopPolicy::FirstFatal if fatal => sh.done = true,
            _ => {}
        }
        if sh.done {
            if let Some(stop) = &self.hooks.stop {
                stop.store(true, Ordering::Relaxed);
            }
        }
        if let Some(record) = &record {
            let mut new = Vec::new();
            for f in &record.findings {
                let sig = f.signature();
                if !sh.stats.distinct.iter().any(|(s, _)| *s == sig) && !new.contains(&sig) {
                    new.push(sig);
                }
            }
            for sig in &new {
                sh.stats.distinct.push((sig.clone(), record.clone()));
            }
            if let (Some(on_finding), false) = (&self.hooks.on_finding, new.is_empty()) {
                on_finding(record, &new);
            }
        }
        if keep_last {
            sh.last = record;
        }
        if let Some(p) = &self.hooks.progress {
            if executions.is_multiple_of(256) {
                p(executions, sh.stats.distinct.len());
            }
        }
        drop(sh);
        if self.inner.wants_feedback() {
            self.features.clear();
            let features = &mut self.features;
            with_world(|w| feedback::world_features(w, self.preemptions, features));
            self.inner.finish(&Outcome {
                features: &self.features,
                fatal,
                schedule: &self.schedule,
            });
        }
    }
}

impl Adapter {
    /// After a fatal finding: schedule the tasks that are left one by one,
    /// each unwinding out of the scenario at its scheduling point (see
    /// `world::unwind_if_stopped`), so the execution finishes and shuttle
    /// drops what the tasks hold instead of leaking it. Nothing is
    /// recorded. A task that does not unwind within the bound (or a build
    /// that aborts on panic) ends the execution as shuttle's stop.
    fn drain(
        &mut self,
        runnable: &[&shuttle::scheduler::Task],
        current: Option<shuttle::scheduler::TaskId>,
    ) -> Option<shuttle::scheduler::TaskId> {
        const MAX_DRAIN_STEPS: u32 = 10_000;
        if !cfg!(panic = "unwind") || self.drain_steps >= MAX_DRAIN_STEPS {
            return None;
        }
        self.drain_steps += 1;
        current
            .filter(|c| runnable.iter().any(|t| t.id() == *c))
            .or_else(|| runnable.first().map(|t| t.id()))
    }
}

/// Render the world's state into a self-contained record.
fn snapshot(w: &world::World, seed: u64, index: u64, adapter: &Adapter) -> ExecutionRecord {
    ExecutionRecord {
        schedule: adapter.schedule.clone(),
        byte_schedule: adapter.byte_schedule.clone(),
        preemptions: adapter.preemptions,
        steps: adapter.steps,
        ..record_of(w, seed, index)
    }
}

/// The world's execution as a record, without the schedule that drove it
/// (the loom backend has none to give: loom finds its executions again by
/// itself); `steps` counts the trace's events.
pub(crate) fn record_of(w: &world::World, seed: u64, index: u64) -> ExecutionRecord {
    let events = w
        .trace()
        .iter()
        .map(|ev| RenderedEvent {
            task: ev.task,
            text: w.event_text(ev),
            site: short_site(ev.site),
            minor: ev.minor,
            target: w.target_name(ev.target).into_owned(),
        })
        .collect();
    ExecutionRecord {
        seed,
        index,
        findings: w.findings().to_vec(),
        tasks: (0..w.task_count())
            .map(|t| w.task_name(t).to_string())
            .collect(),
        events,
        schedule: Vec::new(),
        byte_schedule: Vec::new(),
        preemptions: 0,
        steps: w.trace().len() as u64,
    }
}

impl shuttle::scheduler::Scheduler for Adapter {
    fn new_execution(&mut self) -> Option<shuttle::scheduler::Schedule> {
        self.collect();
        if let Some(feed) = &mut self.feed {
            let last = self.shared.borrow_mut().last.take();
            self.inner = Box::new(BytesScheduler::new(feed(last)?));
        }
        let mut sh = self.shared.borrow_mut();
        let within_iterations = self
            .run
            .budget
            .iterations
            .is_none_or(|n| sh.stats.executions < n);
        let within_time = self.run.budget.time.is_none_or(|t| sh.start.elapsed() < t);
        if sh.done || !within_iterations || !within_time || self.hooks.stopping() {
            return None;
        }
        let index = shard_index(self.run.shard, sh.next_index);
        sh.next_index += 1;
        let seed = execution_seed(self.run.seed, index);
        sh.current = Some((index, seed));
        drop(sh);
        world::reset(WorldConfig {
            race_detection: self.run.exec.race_detection,
        });
        self.inner.begin(seed);
        self.steps = 0;
        self.drain_steps = 0;
        self.preemptions = 0;
        self.schedule.clear();
        self.byte_schedule.clear();
        Some(shuttle::scheduler::Schedule::new(seed))
    }

    fn next_task(
        &mut self,
        runnable: &[&shuttle::scheduler::Task],
        current: Option<shuttle::scheduler::TaskId>,
        _is_yielding: bool,
    ) -> Option<shuttle::scheduler::TaskId> {
        let stop = with_world(|w| {
            if w.stopped_flag() {
                return None;
            }
            self.enabled.clear();
            self.enabled.extend(
                runnable
                    .iter()
                    .map(|t| usize::from(t.id()))
                    .filter(|&t| !w.is_waiting(t)),
            );
            if self.enabled.is_empty() {
                w.report_deadlock(self.steps);
                return Some(true);
            }
            self.steps += 1;
            if self.steps > self.run.exec.step_budget {
                w.report_hang(self.steps);
                return Some(true);
            }
            Some(false)
        });
        match stop {
            None => {
                let next = self.drain(runnable, current);
                if let Some(t) = next {
                    world::set_running(usize::from(t));
                }
                return next;
            }
            Some(true) => return None,
            Some(false) => {}
        }
        self.enabled.sort_unstable();
        let current = current
            .map(usize::from)
            .filter(|c| self.enabled.contains(c));
        let pick = if self.enabled.len() == 1 {
            self.enabled[0]
        } else {
            if self.inner.wants_pending() {
                self.pending.clear();
                let (enabled, pending) = (&self.enabled, &mut self.pending);
                with_world(|w| pending.extend(enabled.iter().map(|&t| w.pending(t))));
                self.inner.pending(&self.pending);
            }
            let pick = self.inner.choose(&self.enabled, current);
            self.schedule.push(pick as u8);
            let at = self.enabled.iter().position(|&t| t == pick).unwrap_or(0);
            self.byte_schedule.push(at as u8);
            if current.is_some_and(|c| c != pick) {
                self.preemptions += 1;
            }
            pick
        };
        world::set_running(pick);
        Some(shuttle::scheduler::TaskId::from(pick))
    }

    fn next_u64(&mut self) -> u64 {
        // Scenarios draw no randomness from the runtime: every choice is a
        // scheduling choice, recorded in the schedule.
        0
    }
}

fn shuttle_config() -> shuttle::Config {
    let mut config = shuttle::Config::new();
    config.max_steps = shuttle::MaxSteps::None;
    config.silence_warnings = true;
    config.failure_persistence = shuttle::FailurePersistence::None;
    config
}

/// Run `scenario` under `inner` for the run's budget.
fn run_with(
    scenario: &ScenarioFn,
    inner: Box<dyn Scheduler>,
    run: &RunConfig,
    hooks: Hooks,
    keep_last: bool,
) -> Result<(RunStats, Option<ExecutionRecord>), EngineError> {
    run_fed(scenario, inner, run, hooks, keep_last, None)
}

/// [`run_with`], optionally fed execution by execution by a [`BytesSession`].
fn run_fed(
    scenario: &ScenarioFn,
    inner: Box<dyn Scheduler>,
    run: &RunConfig,
    hooks: Hooks,
    keep_last: bool,
    feed: Option<Feed>,
) -> Result<(RunStats, Option<ExecutionRecord>), EngineError> {
    let shared = Rc::new(RefCell::new(Shared {
        stats: RunStats::default(),
        start: Instant::now(),
        current: None,
        next_index: 0,
        done: false,
        last: None,
    }));
    let adapter = Adapter {
        inner,
        run: run.clone(),
        shared: Rc::clone(&shared),
        steps: 0,
        drain_steps: 0,
        preemptions: 0,
        schedule: Vec::new(),
        byte_schedule: Vec::new(),
        enabled: Vec::new(),
        pending: Vec::new(),
        features: Vec::new(),
        hooks,
        keep_last,
        feed,
    };
    let scenario = Arc::clone(scenario);
    let runner = shuttle::Runner::new(adapter, shuttle_config());
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        runner.run(move || {
            if world::run_unless_stopped(|| scenario()) {
                world::scenario_completed();
            }
        })
    }));
    if let Err(payload) = outcome {
        let msg = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "unknown panic".into());
        return Err(EngineError::ScenarioPanicked(msg));
    }
    let mut sh = shared.borrow_mut();
    let mut stats = std::mem::take(&mut sh.stats);
    stats.elapsed = sh.start.elapsed();
    Ok((stats, sh.last.take()))
}

/// Measure the number of scheduling decisions of one execution, the horizon
/// `k` PCT draws its change points from. Uses a fixed random seed, so the
/// horizon is a function of the scenario alone.
pub fn calibrate_horizon(scenario: &ScenarioFn, exec: ExecConfig) -> Result<u64, EngineError> {
    let run = RunConfig {
        explorer: Explorer::Random,
        seed: 0x0C0F_FEE0,
        budget: Budget {
            iterations: Some(4),
            time: None,
        },
        exec: ExecConfig {
            race_detection: false,
            ..exec
        },
        stop: StopPolicy::Never,
        shard: (0, 1),
    };
    let shared_max = Rc::new(RefCell::new(0u64));
    let max = Rc::clone(&shared_max);
    struct Counting {
        inner: RandomScheduler,
        decisions: u64,
        max: Rc<RefCell<u64>>,
    }
    impl Scheduler for Counting {
        fn begin(&mut self, seed: u64) {
            self.decisions = 0;
            self.inner.begin(seed);
        }
        fn choose(&mut self, enabled: &[usize], current: Option<usize>) -> usize {
            self.decisions += 1;
            let mut m = self.max.borrow_mut();
            *m = (*m).max(self.decisions);
            self.inner.choose(enabled, current)
        }
    }
    let counting = Counting {
        inner: RandomScheduler::default(),
        decisions: 0,
        max,
    };
    run_with(scenario, Box::new(counting), &run, Hooks::default(), false)?;
    let k = *shared_max.borrow();
    Ok(k.max(1))
}

/// Estimate, per task, the decisions at which it runs a step on shared
/// state (a step that declares its target, see [`Pending`]): the mean over
/// eight executions of a uniform walk with a fixed seed, rounded up, so the
/// estimate is a function of the scenario alone. What SURW weights tasks by.
pub fn calibrate_surw(scenario: &ScenarioFn, exec: ExecConfig) -> Result<Vec<u64>, EngineError> {
    const EXECUTIONS: u64 = 8;
    let run = RunConfig {
        explorer: Explorer::Random,
        seed: 0x5EED_5A4F,
        budget: Budget {
            iterations: Some(EXECUTIONS),
            time: None,
        },
        exec: ExecConfig {
            race_detection: false,
            ..exec
        },
        stop: StopPolicy::Never,
        shard: (0, 1),
    };
    struct Counting {
        inner: RandomScheduler,
        pending: Vec<Option<Pending>>,
        counts: Rc<RefCell<Vec<u64>>>,
    }
    impl Scheduler for Counting {
        fn begin(&mut self, seed: u64) {
            self.inner.begin(seed);
        }
        fn wants_pending(&self) -> bool {
            true
        }
        fn pending(&mut self, pending: &[Option<Pending>]) {
            self.pending.clear();
            self.pending.extend_from_slice(pending);
        }
        fn choose(&mut self, enabled: &[usize], current: Option<usize>) -> usize {
            let t = self.inner.choose(enabled, current);
            let i = enabled.iter().position(|&e| e == t).unwrap_or(0);
            if self.pending.get(i).copied().flatten().is_some() {
                let mut counts = self.counts.borrow_mut();
                if counts.len() <= t {
                    counts.resize(t + 1, 0);
                }
                counts[t] += 1;
            }
            t
        }
    }
    let counts = Rc::new(RefCell::new(Vec::new()));
    let counting = Counting {
        inner: RandomScheduler::default(),
        pending: Vec::new(),
        counts: Rc::clone(&counts),
    };
    run_with(scenario, Box::new(counting), &run, Hooks::default(), false)?;
    let totals = counts.borrow();
    Ok(totals.iter().map(|c| c.div_ceil(EXECUTIONS)).collect())
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

/// The scenario body for shuttle's *own* schedulers (`shuttle::check_random`
/// and friends), to measure this engine against them over the same scenario
/// code. The world is reset at the start of each execution; shuttle knows
/// nothing of parked tasks, so a blocked task simply retries whenever it is
/// scheduled (a spin); a fatal finding ends the execution as under the
/// engine, by unwinding each task at its next step.
pub fn shuttle_baseline_body(
    scenario: &ScenarioFn,
    exec: ExecConfig,
) -> impl Fn() + Send + Sync + 'static {
    let scenario = Arc::clone(scenario);
    move || {
        world::reset(WorldConfig {
            race_detection: exec.race_detection,
        });
        // A fatal finding stops the world: the tasks unwind out of the
        // scenario at their next step (see `world::unwind_if_stopped`), the
        // body's own task included, and the execution ends normally.
        if world::run_unless_stopped(|| scenario()) {
            world::scenario_completed();
        }
    }
}

/// Runs executions driven by fuzzer bytes one at a time, like
/// `run_single(scenario, &Drive::Bytes(bytes), exec)` (same scheduler, same
/// records), but inside one long-lived shuttle run on a worker thread.
///
/// Why: shuttle allocates the coroutine stacks of a run's tasks once per
/// run and recycles them across its executions, so `run_single` pays for
/// fresh stacks (mmap, mprotect, page faults, munmap) on every call, which
/// costs more than the execution itself. A fuzz target calls this once per
/// input; keeping the run alive and handing it inputs over a channel costs
/// two thread wake-ups instead.
pub struct BytesSession {
    scenario: ScenarioFn,
    exec: ExecConfig,
    worker: Option<SessionWorker>,
}

struct SessionWorker {
    input: std::sync::mpsc::SyncSender<Vec<u8>>,
    output: std::sync::mpsc::Receiver<Result<ExecutionRecord, EngineError>>,
    thread: std::thread::JoinHandle<()>,
}

impl BytesSession {
    /// A session for `scenario`; the worker starts with the first input.
    pub fn new(scenario: ScenarioFn, exec: ExecConfig) -> Self {
        BytesSession {
            scenario,
            exec,
            worker: None,
        }
    }

    fn spawn(&self) -> SessionWorker {
        let (input, inputs) = std::sync::mpsc::sync_channel::<Vec<u8>>(0);
        let (outputs, output) = std::sync::mpsc::sync_channel(0);
        let scenario = Arc::clone(&self.scenario);
        let exec = self.exec;
        let thread = std::thread::spawn(move || {
            let results = outputs.clone();
            let feed: Feed = Box::new(move |last| {
                if let Some(record) = last {
                    results.send(Ok(record)).ok()?;
                }
                inputs.recv().ok()
            });
            let run = RunConfig {
                explorer: Explorer::Random,
                seed: 0,
                budget: Budget {
                    iterations: None,
                    time: None,
                },
                exec,
                stop: StopPolicy::Never,
                shard: (0, 1),
            };
            let inner = Box::new(BytesScheduler::new(Vec::new()));
            if let Err(e) = run_fed(&scenario, inner, &run, Hooks::default(), true, Some(feed)) {
                let _ = outputs.send(Err(e));
            }
        });
        SessionWorker {
            input,
            output,
            thread,
        }
    }

    /// Run one execution driven by `bytes` and record it in full.
    pub fn run(&mut self, bytes: &[u8]) -> Result<ExecutionRecord, EngineError> {
        let worker = match self.worker.take() {
            Some(w) => w,
            None => self.spawn(),
        };
        let died = || EngineError::ScenarioPanicked("the session's worker thread stopped".into());
        worker.input.send(bytes.to_vec()).map_err(|_| died())?;
        match worker.output.recv() {
            Ok(Ok(record)) => {
                self.worker = Some(worker);
                Ok(record)
            }
            // The run is over (the scenario panicked): the next input starts
            // a fresh worker.
            Ok(Err(e)) => {
                let _ = worker.thread.join();
                Err(e)
            }
            Err(_) => Err(died()),
        }
    }
}

impl Drop for BytesSession {
    fn drop(&mut self) {
        if let Some(w) = self.worker.take() {
            // Closing the input ends the worker's run at its next execution.
            drop(w.input);
            let _ = w.thread.join();
        }
    }
}
