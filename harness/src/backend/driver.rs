//! The engine's side of the scheduling points, shared by the runtimes that
//! run the sequentially consistent explorers ([`super::native`] and
//! [`super::shuttle`]): starting an execution, deciding at each scheduling
//! point, folding a finished execution into the run's stats.
//!
//! Both runtimes present the same scheduling points to [`Driver::decide`],
//! with the same candidate tasks in the same (ascending) order, so a
//! schedule recorded on one replays on the other (see [`super::native`] for
//! the points and why each is where it is).

use super::Backend;
use crate::engine::{
    execution_seed, record_of, shard_index, EngineError, ExecutionRecord, FirstHit, Hooks,
    RunConfig, RunStats, Runtime, ScenarioFn, StopPolicy,
};
use crate::feedback;
use crate::finding::FindingKind;
use crate::scheduler::{BytesScheduler, Outcome, Pending, Scheduler};
use crate::world::{self, with_world, World, WorldConfig};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::time::Instant;

pub(crate) struct Shared {
    stats: RunStats,
    start: Instant,
    /// The execution in progress: index and seed.
    current: Option<(u64, u64)>,
    next_index: u64,
    done: bool,
    /// With `keep_last`: the last execution, recorded in full.
    last: Option<ExecutionRecord>,
}

/// The engine's side of every scheduling point, whatever runtime provides
/// the coroutines: it starts each execution (world reset, scheduler seed),
/// decides which task runs at each point, and folds each finished execution
/// into the run's stats. A runtime calls [`Driver::begin`] before each
/// execution and [`Driver::decide`] at each of its scheduling points, with
/// the tasks it could run.
pub(crate) struct Driver {
    inner: Box<dyn Scheduler>,
    run: RunConfig,
    shared: Rc<RefCell<Shared>>,
    steps: u64,
    /// Scheduling decisions since a fatal finding (see [`Driver::drain`]).
    drain_steps: u32,
    preemptions: u32,
    schedule: Vec<u8>,
    byte_schedule: Vec<u8>,
    enabled: Vec<usize>,
    /// The pending operations of `enabled`, for schedulers that ask.
    pending: Vec<Option<Pending>>,
    /// The features of the last execution, for schedulers that ask.
    features: Vec<u64>,
    /// `inner.wants_pending()` for the execution in progress (a scheduler
    /// settles it in `begin`): asked at every decision, it is one load
    /// here instead of a virtual call.
    wants_pending: bool,
    hooks: Hooks,
    /// Record every execution in full (single runs), not only those that
    /// found something.
    keep_last: bool,
    /// For a [`BytesSession`]: hands over each finished execution and
    /// returns the bytes of the next one (`None`: the session is over).
    feed: Option<Feed>,
    /// The runtime whose executions this drives (set as the world's
    /// backend at each execution's start).
    backend: &'static dyn Backend,
}

/// See [`Driver::feed`].
pub(crate) type Feed = Box<dyn FnMut(Option<ExecutionRecord>) -> Option<Vec<u8>>>;

impl Driver {
    /// Fold the finished execution into the run's stats; decide whether to go on.
    pub(crate) fn collect(&mut self) {
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
            let fatal = w.finding_kinds().any(FindingKind::is_fatal);
            let found = w.finding_kinds().next().is_some();
            // Rendering the trace and the findings is the expensive part: do
            // it only for an execution whose finding is new to this run (or
            // when asked to).
            let new = w.any_new_signature(|sig| sh.stats.distinct.iter().any(|(s, _)| s == sig));
            let record = (new || keep_last).then(|| snapshot(w, seed, index, adapter));
            for kind in w.finding_kinds() {
                sh.stats.first.entry(kind).or_insert(FirstHit {
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

impl Driver {
    /// After a fatal finding: schedule the tasks that are left one by one,
    /// each unwinding out of the scenario at its scheduling point (see
    /// `world::unwind_if_stopped`), so the execution finishes and shuttle
    /// drops what the tasks hold instead of leaking it. Nothing is
    /// recorded. A task that does not unwind within the bound (or a build
    /// that aborts on panic) ends the execution as shuttle's stop.
    fn drain(&mut self, runnable: &[usize], current: Option<usize>) -> Option<usize> {
        const MAX_DRAIN_STEPS: u32 = 10_000;
        if !cfg!(panic = "unwind") || self.drain_steps >= MAX_DRAIN_STEPS {
            return None;
        }
        self.drain_steps += 1;
        current
            .filter(|c| runnable.contains(c))
            .or_else(|| runnable.first().copied())
    }
}

/// Render the world's state into a self-contained record.
fn snapshot(w: &world::World, seed: u64, index: u64, adapter: &Driver) -> ExecutionRecord {
    ExecutionRecord {
        schedule: adapter.schedule.clone(),
        byte_schedule: adapter.byte_schedule.clone(),
        preemptions: adapter.preemptions,
        steps: adapter.steps,
        replay_explorer: adapter.inner.replay_explorer(),
        ..record_of(w, seed, index)
    }
}

impl Driver {
    /// A driver for one run of `inner` under `run`'s budget, on `backend`.
    pub(crate) fn new(
        inner: Box<dyn Scheduler>,
        run: &RunConfig,
        hooks: Hooks,
        keep_last: bool,
        feed: Option<Feed>,
        backend: &'static dyn Backend,
    ) -> Driver {
        Driver {
            inner,
            run: run.clone(),
            shared: Rc::new(RefCell::new(Shared {
                stats: RunStats::default(),
                start: Instant::now(),
                current: None,
                next_index: 0,
                done: false,
                last: None,
            })),
            steps: 0,
            drain_steps: 0,
            preemptions: 0,
            schedule: Vec::new(),
            byte_schedule: Vec::new(),
            enabled: Vec::new(),
            pending: Vec::new(),
            features: Vec::new(),
            wants_pending: false,
            hooks,
            keep_last,
            feed,
            backend,
        }
    }

    /// The run's stats and (with `keep_last`) its last execution, once the
    /// runtime has stopped asking for executions.
    pub(crate) fn shared(&self) -> Rc<RefCell<Shared>> {
        Rc::clone(&self.shared)
    }

    /// Fold the execution that just ended (if any) into the run, then start
    /// the next one: reset the world and seed the scheduler. `None`: the run
    /// is over (budget spent, stopped, cancelled, or the feed ran dry).
    pub(crate) fn begin(&mut self) -> Option<u64> {
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
        world::reset_on(
            WorldConfig {
                race_detection: self.run.exec.race_detection,
            },
            self.backend,
        );
        self.inner.begin_at(seed, index);
        // After `begin_at`: a portfolio picks the member (and so whether it
        // reads pending steps) per execution, from the seed and the index.
        self.wants_pending = self.inner.wants_pending();
        world::track_pending(self.wants_pending);
        self.steps = 0;
        self.drain_steps = 0;
        self.preemptions = 0;
        self.schedule.clear();
        self.byte_schedule.clear();
        Some(seed)
    }

    /// One scheduling point: which of `runnable` (the tasks the runtime
    /// could resume, in ascending id order, shuttle's `live_tasks` order:
    /// unfinished and not waiting in a join)
    /// runs next, `current` being the task that reached the point (or that
    /// just ended). `None` ends the execution where it stands.
    ///
    /// Tasks parked on a model primitive are not offered to the scheduler;
    /// none left is a deadlock, more decisions than the step budget a hang.
    /// Once a fatal finding stopped the world, the tasks left are handed
    /// out one by one to unwind ([`Driver::drain`]) and nothing is recorded.
    pub(crate) fn decide(&mut self, runnable: &[usize], current: Option<usize>) -> Option<usize> {
        with_world(|w| self.decide_in(w, runnable, current))
    }

    /// [`Driver::decide`] with the world already borrowed: the native
    /// runtime decides inside the one world borrow its scheduling point
    /// takes anyway. Nothing here reaches a scheduling point or a hook.
    pub(crate) fn decide_in(
        &mut self,
        w: &mut World,
        runnable: &[usize],
        current: Option<usize>,
    ) -> Option<usize> {
        if w.stopped_flag() {
            return self.drain(runnable, current);
        }
        // The candidates are `runnable` itself unless a task is parked:
        // most points copy nothing, and read no task record.
        let parked = if w.any_waiting() {
            runnable.iter().position(|&t| w.is_waiting(t))
        } else {
            None
        };
        let enabled: &[usize] = match parked {
            None => runnable,
            Some(first) => {
                self.enabled.clear();
                self.enabled.extend_from_slice(&runnable[..first]);
                self.enabled.extend(
                    runnable[first + 1..]
                        .iter()
                        .copied()
                        .filter(|&t| !w.is_waiting(t)),
                );
                &self.enabled
            }
        };
        if enabled.is_empty() {
            w.report_deadlock(self.steps);
            return None;
        }
        self.steps += 1;
        if self.steps > self.run.exec.step_budget {
            w.report_hang(self.steps);
            return None;
        }
        if let [only] = enabled[..] {
            if self.wants_pending {
                // A walk that weights tasks by their steps left counts the
                // steps a task takes alone too (see `Scheduler::alone`).
                let pending = w.pending(only);
                self.inner.alone(only, pending);
            }
            return Some(only);
        }
        let current = current.filter(|c| enabled.contains(c));
        if self.wants_pending {
            self.pending.clear();
            self.pending.extend(enabled.iter().map(|&t| w.pending(t)));
            self.inner.pending(&self.pending);
        }
        let pick = self.inner.choose(enabled, current);
        self.schedule.push(pick as u8);
        let at = enabled.iter().position(|&t| t == pick).unwrap_or(0);
        self.byte_schedule.push(at as u8);
        if current.is_some_and(|c| c != pick) {
            self.preemptions += 1;
        }
        Some(pick)
    }
}

/// Run `scenario` under `inner` for the run's budget, on the run's runtime.
pub(crate) fn run_with(
    scenario: &ScenarioFn,
    inner: Box<dyn Scheduler>,
    run: &RunConfig,
    hooks: Hooks,
    keep_last: bool,
) -> Result<(RunStats, Option<ExecutionRecord>), EngineError> {
    run_fed(scenario, inner, run, hooks, keep_last, None)
}

/// [`run_with`], optionally fed execution by execution by a
/// [`BytesSession`](crate::engine::BytesSession).
pub(crate) fn run_fed(
    scenario: &ScenarioFn,
    inner: Box<dyn Scheduler>,
    run: &RunConfig,
    hooks: Hooks,
    keep_last: bool,
    feed: Option<Feed>,
) -> Result<(RunStats, Option<ExecutionRecord>), EngineError> {
    let backend: &'static dyn Backend = match run.exec.runtime {
        Runtime::Native => &super::native::NATIVE,
        Runtime::Shuttle => &super::shuttle::SHUTTLE,
    };
    let driver = Driver::new(inner, run, hooks, keep_last, feed, backend);
    let shared = driver.shared();
    match run.exec.runtime {
        Runtime::Native => super::native::run(scenario, driver)?,
        Runtime::Shuttle => super::shuttle::run(scenario, driver)?,
    }
    let mut sh = shared.borrow_mut();
    let mut stats = std::mem::take(&mut sh.stats);
    stats.elapsed = sh.start.elapsed();
    Ok((stats, sh.last.take()))
}
