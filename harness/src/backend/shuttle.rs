//! The shuttle backend: the adapter between shuttle's scheduler interface
//! and the engine's [`Driver`], and the runtime hooks of a step when shuttle's
//! coroutines run the tasks.
//!
//! Shuttle calls the adapter at every scheduling point of its own: when an
//! execution starts, at every `switch()` (the world's step, a spawn, a
//! join, the main task's exit) and after a task ends. The native runtime
//! ([`super::native`]) reproduces exactly these points, which the recorded
//! schedules of the corpus depend on.

use super::driver::Driver;
use super::{panic_message, Backend, BackendKind, Spawned};
use crate::clock::VectorClock;
use crate::engine::{EngineError, ExecConfig, ScenarioFn};
use crate::world::LoomOp;
use crate::world::{self, with_world, WorldConfig};
use std::borrow::Cow;
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};
use std::sync::Arc;

/// Glue between shuttle's scheduler interface and the engine's driver.
struct Adapter {
    driver: Driver,
    /// Scratch: the ids of the tasks shuttle offers at a point.
    runnable: Vec<usize>,
}

impl shuttle::scheduler::Scheduler for Adapter {
    fn new_execution(&mut self) -> Option<shuttle::scheduler::Schedule> {
        self.driver.begin().map(shuttle::scheduler::Schedule::new)
    }

    fn next_task(
        &mut self,
        runnable: &[&shuttle::scheduler::Task],
        current: Option<shuttle::scheduler::TaskId>,
        _is_yielding: bool,
    ) -> Option<shuttle::scheduler::TaskId> {
        self.runnable.clear();
        self.runnable
            .extend(runnable.iter().map(|t| usize::from(t.id())));
        // The driver takes its candidates in ascending id order (see
        // `Driver::decide`); a no-op unless shuttle ever offers them
        // otherwise.
        self.runnable.sort_unstable();
        let next = self.driver.decide(&self.runnable, current.map(usize::from));
        if let Some(t) = next {
            set_running(t);
        }
        next.map(shuttle::scheduler::TaskId::from)
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

/// Run the driver's executions on shuttle's runtime until it asks for no
/// more.
pub(crate) fn run(scenario: &ScenarioFn, driver: Driver) -> Result<(), EngineError> {
    let adapter = Adapter {
        driver,
        runnable: Vec::new(),
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
    outcome
        .map(|_| ())
        .map_err(|payload| EngineError::ScenarioPanicked(panic_message(&*payload)))
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
        Spawned::Shuttle { id, handle }
    }
}
