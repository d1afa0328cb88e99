//! The shuttle backend: the adapter between shuttle's scheduler interface
//! and ours, and the runner that drives a scenario's executions on shuttle's
//! coroutines.

use super::{Backend, BackendKind, Ordering as MemOrder, Spawned};
use crate::backend::loom::{LoomBody, LoomCell, LoomWord};
use crate::clock::VectorClock;
use crate::engine::{
    execution_seed, record_of, shard_index, EngineError, ExecConfig, ExecutionRecord, FirstHit,
    Hooks, RunConfig, RunStats, ScenarioFn, StopPolicy,
};
use crate::feedback;
use crate::finding::Finding;
use crate::kernel::memory::{self, Action, CellState, Ordering as CellOrdering};
use crate::scheduler::{BytesScheduler, Outcome, Pending, Scheduler};
use crate::world::Prim;
use crate::world::{self, with_world, WorldConfig};
use crate::world::{LoomOp, Wait, World, SPIN};
use std::borrow::Cow;
use std::cell::Cell;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};
use std::sync::Arc;
use std::time::Instant;

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
pub(crate) type Feed = Box<dyn FnMut(Option<ExecutionRecord>) -> Option<Vec<u8>>>;

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
        // After `begin`: a portfolio picks the member (and so whether it
        // reads pending steps) per execution.
        world::track_pending(self.inner.wants_pending());
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
                    set_running(usize::from(t));
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
        set_running(pick);
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
pub(crate) fn run_with(
    scenario: &ScenarioFn,
    inner: Box<dyn Scheduler>,
    run: &RunConfig,
    hooks: Hooks,
    keep_last: bool,
) -> Result<(RunStats, Option<ExecutionRecord>), EngineError> {
    run_fed(scenario, inner, run, hooks, keep_last, None)
}

/// [`run_with`], optionally fed execution by execution by a [`BytesSession`].
pub(crate) fn run_fed(
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

thread_local! {
    /// The task the engine's scheduler picked at its last decision, or
    /// `NOT_CACHED` when shuttle's own schedulers run the execution: asking
    /// shuttle who runs costs a lookup in its execution state on every step,
    /// and the engine already knows.
    static RUNNING: Cell<usize> = const { Cell::new(NOT_CACHED) };
}

const NOT_CACHED: usize = usize::MAX;

/// Note the task the engine scheduled: it runs until the next decision.
fn set_running(task: usize) {
    RUNNING.with(|r| r.set(task));
}

/// Forget the running task: a new execution starts (under the engine's
/// adapter, or under shuttle's own schedulers, which do not say).
pub(crate) fn forget_running() {
    set_running(NOT_CACHED);
}

/// The shuttle runtime: tasks are shuttle coroutines, a step's scheduling
/// point is a switch to the adapter above, and a parked task is simply not
/// offered to the scheduler.
pub(crate) struct ShuttleBackend;

/// The one shuttle backend.
pub(crate) static SHUTTLE: ShuttleBackend = ShuttleBackend;

impl Backend for ShuttleBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Shuttle
    }

    fn current_task(&self) -> usize {
        match RUNNING.with(Cell::get) {
            NOT_CACHED => usize::from(shuttle::current::me()),
            t => t,
        }
    }

    fn before_step(&self, _op: LoomOp) {
        if with_world(|w| w.live > 1 || w.stop) {
            shuttle_engine::runtime::thread::switch();
        }
    }

    fn orders_steps(&self) -> bool {
        false
    }

    fn unwinds_when_stopped(&self) -> bool {
        true
    }

    fn after_step(&self) {}

    fn parked(&self, _w: &mut World) {}

    fn wait_until_woken(&self, _me: usize) {}

    fn wake(&self, _w: &World, _task: usize) {}

    fn cpu_relax(&self, me: usize) {
        // Parked on the pseudo-primitive `SPIN` until any other task's next
        // step (`World::wake_spinners`): nothing the poller reads can change
        // before then. Alone, it must run on.
        with_world(|w| {
            if w.live > 1 {
                w.tasks[me].wait = Some(Wait {
                    prim: SPIN,
                    op: "cpu_relax",
                });
                w.spinning += 1;
            }
        });
        world::schedule_point();
    }

    fn fence(&self, _order: MemOrder) {}

    fn new_word(&self) -> Option<LoomWord> {
        None
    }

    fn new_body(&self) -> Option<Rc<LoomBody>> {
        None
    }

    fn new_cell(&self, _raw: u64) -> Option<Rc<LoomCell>> {
        None
    }

    fn spawn(
        &self,
        name: Cow<'static, str>,
        clock: VectorClock,
        f: Box<dyn FnOnce() + Send>,
    ) -> Spawned {
        let id = Arc::new(AtomicUsize::new(usize::MAX));
        let child_id = Arc::clone(&id);
        let handle = shuttle::thread::spawn(move || {
            let me = SHUTTLE.current_task();
            // The whole execution runs on one OS thread: no ordering is needed.
            child_id.store(me, AtomicOrdering::Relaxed);
            world::spawned(me, name, clock);
            if world::run_unless_stopped(f) {
                world::task_finished();
            }
        });
        Spawned {
            id,
            // A task cut off by a finding never returns; the execution stops
            // at the join's scheduling point instead, so the result is never
            // seen.
            join: Box::new(move || {
                let _ = handle.join();
            }),
        }
    }

    fn task_ended(&self, _w: &mut World) {}

    fn cell_access(
        &self,
        site: crate::trace::Site,
        id: Prim<CellState>,
        op: &'static str,
        ord: CellOrdering,
        action: Action,
    ) -> u64 {
        memory::world_cell_access(site, id, op, ord, action)
    }
}
