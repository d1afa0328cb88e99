//! The native runtime: the engine's own executor for the sequentially
//! consistent explorers. Every task of an execution is a stackful coroutine
//! (`corosensei`) on the worker's OS thread, and the engine's [`Driver`]
//! decides directly at each scheduling point, with no general-purpose
//! runtime in between.
//!
//! # Who runs when
//!
//! * Exactly one party runs at a time on the worker thread: the executor
//!   loop ([`run_execution`]) or the one task it resumed. A task runs until
//!   it reaches a scheduling point whose decision names another task (or
//!   ends the execution), or until it returns; only then does control come
//!   back to the loop, which resumes the task decided on.
//! * The executor state ([`EXEC`]) is borrowed only between scheduling
//!   points, never across a resume or a suspend; the world (see
//!   [`crate::world`]) is never borrowed at a scheduling point either.
//! * A task waiting in a join is not runnable until the task it joins has
//!   returned. A task parked on a model primitive stays runnable for the
//!   executor: the driver hides it from the scheduler (and declares a
//!   deadlock when nothing else is left), as it does under shuttle.
//!
//! # The scheduling points, and why each is where it is
//!
//! The recorded schedules of the corpus (and every `--seed` a user noted)
//! are sequences of decisions taken at shuttle's scheduling points, each
//! among the tasks shuttle considered runnable, in ascending id order. This
//! executor takes a decision at exactly the same points, among the same
//! tasks, so both runtimes replay each other's schedules. Shuttle's points
//! (shuttle-engine's `Execution::run_to_completion`,
//! `ExecutionState::maybe_yield`, `spawn_thread`, `thread_fn`, and
//! `JoinHandle::join`) are:
//!
//! 1. the start of an execution: the main task (0) is the only candidate,
//!    and there is no current task;
//! 2. every `switch()`: a step's scheduling point (see
//!    [`Backend::before_step`]), `current` being the task that reached it;
//!    if the decision names that same task it simply goes on, as shuttle
//!    skips the context switch then;
//! 3. a spawn, *before* the child exists (shuttle's `spawn_thread`
//!    switches first), so the child is not a candidate at that point;
//! 4. a join: a switch if the joined task has already returned; else the
//!    joiner blocks and switches (it is not a candidate at that point);
//! 5. the main task's exit: after the scenario body returns, a switch
//!    (shuttle's `thread_fn` makes the main thread's exit a scheduling
//!    point, as it would truncate detached tasks), then the task ends;
//! 6. after any task returned: a decision with `current` the task that
//!    ended (the driver drops it, as it is no candidate).
//!
//! When no task is runnable the execution is over: finished if every task
//! returned, a scheduler-level deadlock otherwise (a join cycle, which
//! shuttle reports as a failed test and the engine as a scenario panic).
//!
//! A task that reaches a scheduling point while unwinding yields without a
//! decision, and the loop decides for it, as shuttle's `maybe_yield` does.
//!
//! # Ending an execution
//!
//! After a fatal finding the driver hands the tasks left out one by one, as
//! under shuttle, and each stops at its next scheduling point, where under
//! shuttle it would unwind out of the scenario (`world::unwind_if_stopped`).
//! Here it is *retired* instead ([`Backend::retire`]): it counts as ended
//! for the rest of the execution (its joiner goes on, the driver no longer
//! sees it) and its coroutine stays suspended. Every world effect of the
//! drain (tasks that register when first run, a joiner that resumes) is
//! therefore the same as under shuttle, and so is the record, which the
//! driver takes as soon as the execution is over.
//!
//! Then the execution *winds down*: the retired tasks (and those a deadlock
//! or a hang cut off) are resumed, lowest id first, and run on to their
//! ends with no decisions and nothing recorded (the world's `stop` flag
//! discards findings; the world is reset before the next execution). A
//! task that returns has dropped everything its stack held, with no
//! unwinding and no leak. A task that cannot go on (parked on a primitive
//! nobody left will release, waiting in a join), a wind-down longer than
//! [`WIND_DOWN_BUDGET`] scheduling points, or a panic of a task's code
//! running on past the finding, ends that: whatever is still suspended is
//! unwound by dropping its coroutine (corosensei's forced unwind), as is
//! everything after a scenario panic.
//!
//! Stacks are pooled per worker thread and reused by the next task (of this
//! execution or a later one): a finished coroutine gives its stack back.

use super::driver::Driver;
use super::{panic_message, Backend, BackendKind, Spawned};
use crate::clock::VectorClock;
use crate::engine::{EngineError, ScenarioFn};
use crate::world::{self, with_world, LoomOp, World};
use corosensei::stack::DefaultStack;
use corosensei::{Coroutine, CoroutineResult, Yielder};
use std::borrow::Cow;
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

/// The stack of every task: what shuttle gives its tasks (its default
/// `Config::stack_size`, 0xf000), rounded up to 64 KiB.
const STACK_SIZE: usize = 0x10000;

/// A task's coroutine: resumed with nothing, suspends with nothing (the
/// decision is in the executor state), returns nothing.
type Co = Coroutine<(), (), (), DefaultStack>;

/// What the executor knows of one task.
struct Slot {
    /// The coroutine, except while it runs (the loop holds it then) and
    /// once it has returned.
    co: Option<Co>,
    /// The task's yielder, on its own stack: valid from its first resume
    /// until it returns.
    yielder: *const Yielder<(), ()>,
    /// The coroutine has returned.
    finished: bool,
    /// Blocked in a join until the joined task returns.
    joining: bool,
    /// Reached a scheduling point after a fatal finding: ended, as far as
    /// the recorded execution goes (see [`Backend::retire`]).
    retired: bool,
    /// The task joining this one, to make runnable when it returns.
    waiter: Option<usize>,
}

/// What the last scheduling point inside a task decided, for the loop.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Next {
    /// No decision yet: the loop asks the driver.
    Undecided,
    /// Resume this task.
    Task(usize),
    /// The driver ended the execution.
    Stopped,
}

/// What the executor is doing with the execution.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Every scheduling point is the driver's decision.
    Recording,
    /// The execution is recorded: the tasks left run to their ends with no
    /// decisions, so that their stacks are freed without unwinding.
    WindingDown,
}

/// Scheduling points the tasks left may take, together, while winding an
/// execution down; beyond it (a poll loop, a task that cannot end) they are
/// unwound instead.
const WIND_DOWN_BUDGET: u32 = 10_000;

/// One worker thread's executor.
struct Executor {
    phase: Phase,
    /// Scheduling points taken while winding down.
    wind_down_steps: u32,
    driver: Driver,
    tasks: Vec<Slot>,
    next: Next,
    /// The candidates of a decision: unfinished tasks neither waiting in a
    /// join nor retired, ascending (shuttle's `live_tasks` order). Kept up
    /// to date as tasks start, end, join and retire, so that a decision
    /// does not rescan every task.
    runnable: Vec<usize>,
    /// Stacks of returned coroutines, for the next tasks.
    pool: Vec<DefaultStack>,
}

impl Executor {
    /// Task `t` is no candidate any more (it ended, retired, or joins).
    fn not_runnable(&mut self, t: usize) {
        if let Ok(i) = self.runnable.binary_search(&t) {
            self.runnable.remove(i);
        }
    }

    /// Task `t` is a candidate again (the task it joined has ended).
    fn runnable_again(&mut self, t: usize) {
        if let Err(i) = self.runnable.binary_search(&t) {
            self.runnable.insert(i, t);
        }
    }

    /// Task `t` has ended (returned, or retired): the task joining it, if
    /// any, goes on.
    fn ended(&mut self, t: usize) {
        self.not_runnable(t);
        if let Some(w) = self.tasks[t].waiter.take() {
            self.tasks[w].joining = false;
            self.runnable_again(w);
        }
    }

    /// A stack from the pool, or a new one.
    fn stack(&mut self) -> Result<DefaultStack, EngineError> {
        match self.pool.pop() {
            Some(s) => Ok(s),
            None => DefaultStack::new(STACK_SIZE).map_err(|e| {
                EngineError::ScenarioPanicked(format!("cannot allocate a task stack: {e}"))
            }),
        }
    }

    /// Add task `f` (not yet started) and return its id.
    fn add_task(&mut self, f: impl FnOnce() + 'static) -> Result<usize, EngineError> {
        let id = self.tasks.len();
        let stack = self.stack()?;
        let co = Co::with_stack(stack, move |y: &Yielder<(), ()>, ()| {
            with_exec(|e| e.tasks[id].yielder = y);
            f();
        });
        self.tasks.push(Slot {
            co: Some(co),
            yielder: std::ptr::null(),
            finished: false,
            joining: false,
            retired: false,
            waiter: None,
        });
        // The highest id yet: the set stays ascending.
        self.runnable.push(id);
        Ok(id)
    }
}

/// Where this thread's executor is, while a run is on: a `RefCell` by hand
/// over a pointer to the executor [`run`] owns. It is reached several
/// times per step, and a thread-local without a destructor (only `Cell`s)
/// is one load away, where a `RefCell<Option<Executor>>` needs a
/// destructor registration check and a call at each access.
struct ExecSlot {
    /// The executor, or null when no run is on (or while it is detached,
    /// see [`with_exec_detached`]).
    exec: Cell<*mut Executor>,
    /// Borrowed by a [`with_exec`] in progress.
    borrowed: Cell<bool>,
}

thread_local! {
    /// The executor of the run on this thread, while one runs.
    static EXEC: ExecSlot = const {
        ExecSlot {
            exec: Cell::new(std::ptr::null_mut()),
            borrowed: Cell::new(false),
        }
    };
    /// The task the executor resumed last (read on every step).
    static CURRENT: Cell<usize> = const { Cell::new(0) };
}

/// Borrow this thread's executor. Never across a resume or a suspend.
fn with_exec<R>(f: impl FnOnce(&mut Executor) -> R) -> R {
    /// Ends the borrow, also when `f` panics (a scenario panic unwinds to
    /// the loop, which goes on using the executor).
    struct Release<'a>(&'a Cell<bool>);
    impl Drop for Release<'_> {
        fn drop(&mut self) {
            self.0.set(false);
        }
    }
    let slot = exec_slot();
    let e = slot.exec.get();
    assert!(
        !e.is_null(),
        "a native task runs only inside the native executor"
    );
    assert!(
        !slot.borrowed.replace(true),
        "the executor is already borrowed"
    );
    let _release = Release(&slot.borrowed);
    // SAFETY: `e` points to the executor `run` owns, which outlives every
    // call here (`run` clears the slot before dropping it), and `borrowed`
    // makes this the only reference to it until `f` returns.
    f(unsafe { &mut *e })
}

/// This thread's [`EXEC`]. Taken by address, not by running the borrow
/// inside `EXEC.with`: a `with` around a large closure is compiled as a
/// call that reaches the thread-local through a function pointer, where
/// the address alone is one instruction.
#[inline]
fn exec_slot() -> &'static ExecSlot {
    let slot = EXEC.with(|slot| slot as *const ExecSlot);
    // SAFETY: `EXEC` has a constant initialiser and no destructor, so its
    // storage is valid for the whole life of this thread, the only one
    // that uses the reference (`ExecSlot` is made of `Cell`s: it is not
    // `Sync`, so the reference cannot leave the thread).
    unsafe { &*slot }
}

/// Run `f` on this thread's executor taken out of [`EXEC`], for the
/// driver's calls that may run hooks: a hook may start a whole engine run
/// of its own on this thread (a campaign re-running a hang under the
/// default budget), which installs and removes its own executor meanwhile.
fn with_exec_detached<R>(f: impl FnOnce(&mut Executor) -> R) -> R {
    let e = EXEC.with(|slot| {
        assert!(!slot.borrowed.get(), "the executor is already borrowed");
        slot.exec.replace(std::ptr::null_mut())
    });
    assert!(
        !e.is_null(),
        "the loop runs only inside the native executor"
    );
    // SAFETY: as in `with_exec`; the slot no longer names the executor, so
    // nothing else reaches it while `f` runs.
    let r = f(unsafe { &mut *e });
    EXEC.with(|slot| slot.exec.set(e));
    r
}

/// Suspend the running task back to the loop, which resumes whatever
/// `Executor::next` says.
fn suspend(yielder: *const Yielder<(), ()>) {
    // SAFETY: the pointer was set by the running task's own coroutine at
    // its first resume and points into its stack, which lives (suspended or
    // running) until the coroutine returns; this task is running, so it has
    // not returned.
    unsafe { (*yielder).suspend(()) }
}

/// A scheduling point of the running task (shuttle's `switch()`): ask the
/// driver which task runs next; suspend unless it is this one. With
/// `contended_only`, the point is taken only if another task is live or the
/// execution stopped (see [`Backend::before_step`]).
///
/// One world borrow and one executor borrow serve the whole point: this
/// runs at every step.
fn switch_point(contended_only: bool) {
    let me = CURRENT.with(Cell::get);
    let yielder = with_world(|w| {
        if contended_only && w.live <= 1 && !w.stop {
            return None;
        }
        with_exec(|e| {
            if e.phase == Phase::WindingDown {
                return wind_down_point(e, w, me);
            }
            if std::thread::panicking() {
                // Shuttle's `maybe_yield` does not decide for a task that is
                // unwinding: it switches out, and the loop decides.
                return Some(e.tasks[me].yielder);
            }
            let (runnable, driver) = (&e.runnable, &mut e.driver);
            match driver.decide_in(w, runnable, Some(me)) {
                Some(t) if t == me => None,
                Some(t) => {
                    e.next = Next::Task(t);
                    Some(e.tasks[me].yielder)
                }
                None => {
                    e.next = Next::Stopped;
                    Some(e.tasks[me].yielder)
                }
            }
        })
    });
    if let Some(y) = yielder {
        suspend(y);
    }
}

/// A scheduling point that is always taken (a spawn, a join, a task's
/// exit).
fn switch() {
    switch_point(false);
}

/// A scheduling point while winding down: no decision; the task goes on
/// unless it cannot (parked on a model primitive, waiting in a join) or the
/// wind-down budget is spent. The yielder to suspend with, if it must stop.
fn wind_down_point(e: &mut Executor, w: &World, me: usize) -> Option<*const Yielder<(), ()>> {
    e.wind_down_steps += 1;
    let stuck = w.is_waiting(me) || e.tasks[me].joining || e.wind_down_steps > WIND_DOWN_BUDGET;
    stuck.then_some(e.tasks[me].yielder)
}

/// See [`Backend::retire`]: the running task, at a scheduling point where
/// it would unwind, ends for the recorded execution (its joiner may go on,
/// as when it has unwound) and suspends until the execution winds down.
fn retire() -> bool {
    let me = CURRENT.with(Cell::get);
    let yielder = with_exec(|e| {
        if e.phase == Phase::WindingDown {
            return None;
        }
        e.tasks[me].retired = true;
        e.ended(me);
        // The loop decides next, as after a task ended.
        e.next = Next::Undecided;
        Some(e.tasks[me].yielder)
    });
    if let Some(y) = yielder {
        suspend(y);
    }
    true
}

/// Run the driver's executions on this thread until it asks for no more.
pub(crate) fn run(scenario: &ScenarioFn, driver: Driver) -> Result<(), EngineError> {
    if EXEC.with(|slot| !slot.exec.get().is_null()) {
        // One engine run inside another's task would share the thread's
        // world: refuse it rather than corrupt both.
        return Err(EngineError::ScenarioPanicked(
            "an engine run cannot start inside a native task".into(),
        ));
    }
    let exec = Box::into_raw(Box::new(Executor {
        phase: Phase::Recording,
        wind_down_steps: 0,
        driver,
        tasks: Vec::new(),
        next: Next::Undecided,
        runnable: Vec::new(),
        pool: Vec::new(),
    }));
    EXEC.with(|slot| slot.exec.set(exec));
    /// Uninstalls and drops the executor when the run ends. A panic out of
    /// the driver's hooks leaks it, still installed, instead: suspended
    /// tasks may still reach it while they unwind, and a later run on this
    /// thread is refused rather than sharing a broken one.
    struct Installed(*mut Executor);
    impl Drop for Installed {
        fn drop(&mut self) {
            if std::thread::panicking() {
                return;
            }
            EXEC.with(|slot| slot.exec.set(std::ptr::null_mut()));
            // SAFETY: made by `Box::into_raw` in `run`; the slot no longer
            // names it, and no borrow of it is left on this thread.
            drop(unsafe { Box::from_raw(self.0) });
        }
    }
    let _installed = Installed(exec);
    // Each execution hands its main task a reference to the scenario. The
    // workers of a run share one `ScenarioFn`: counting references on it
    // would move its counter's cache line between their cores at every
    // execution, so this worker counts them on an `Arc` of its own.
    let shared = Arc::clone(scenario);
    let scenario: ScenarioFn = Arc::new(move || shared());
    let scenario = &scenario;
    while with_exec_detached(|e| e.driver.begin()).is_some() {
        run_execution(scenario)?;
    }
    Ok(())
}

/// Run one execution, from its main task to the end (see the module
/// documentation for the scheduling points).
fn run_execution(scenario: &ScenarioFn) -> Result<(), EngineError> {
    let scenario = Arc::clone(scenario);
    with_exec(|e| {
        e.tasks.clear();
        e.runnable.clear();
        e.next = Next::Undecided;
        e.phase = Phase::Recording;
        e.wind_down_steps = 0;
        e.add_task(move || {
            if world::run_unless_stopped(|| scenario()) {
                world::scenario_completed();
            }
            // Point 5: the main task's exit.
            switch();
        })
    })?;
    let mut current: Option<usize> = None;
    let outcome = loop {
        let decided = with_exec(|e| match std::mem::replace(&mut e.next, Next::Undecided) {
            Next::Task(t) => Ok(Some(t)),
            Next::Stopped => Ok(None),
            Next::Undecided => {
                if e.runnable.is_empty() {
                    if e.tasks.iter().any(|s| !s.finished && !s.retired) {
                        return Err(EngineError::ScenarioPanicked(
                            "deadlock: every unfinished task waits in a join".into(),
                        ));
                    }
                    return Ok(None);
                }
                let (runnable, driver) = (&e.runnable, &mut e.driver);
                Ok(with_world(|w| driver.decide_in(w, runnable, current)))
            }
        });
        let t = match decided {
            Ok(Some(t)) => t,
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        };
        current = Some(t);
        CURRENT.with(|c| c.set(t));
        let Some(mut co) = with_exec(|e| e.tasks[t].co.take()) else {
            break Err(EngineError::ScenarioPanicked(format!(
                "task {t} was scheduled after it ended"
            )));
        };
        match catch_unwind(AssertUnwindSafe(|| co.resume(()))) {
            Ok(CoroutineResult::Yield(())) => with_exec(|e| e.tasks[t].co = Some(co)),
            Ok(CoroutineResult::Return(())) => with_exec(|e| {
                let slot = &mut e.tasks[t];
                slot.finished = true;
                slot.yielder = std::ptr::null();
                e.ended(t);
                e.pool.push(co.into_stack());
            }),
            Err(payload) => {
                // The coroutine has returned (with the panic): its stack is
                // free again.
                with_exec(|e| e.pool.push(co.into_stack()));
                break Err(EngineError::ScenarioPanicked(panic_message(&*payload)));
            }
        }
    };
    if outcome.is_ok() {
        // Record the execution before the tasks left change the world.
        let execution = world::resets();
        with_exec_detached(|e| e.driver.collect());
        // Unless a hook ran executions of its own meanwhile: this world is
        // no longer the one the tasks left were running against.
        if world::resets() == execution {
            super::quietly(wind_down);
        }
    }
    drop_unfinished();
    outcome
}

/// Run the tasks an execution left (retired after a fatal finding, or cut
/// off by a deadlock or a hang) to their ends, lowest id first, each until
/// it ends or cannot go on, with no decisions and nothing recorded: a task
/// that returns has dropped what its stack held, with no unwinding. A
/// panic of a task here (its code running on past a fatal finding) only
/// ends that task. What is still left after that is unwound.
fn wind_down() {
    let more = with_exec(|e| {
        e.phase = Phase::WindingDown;
        for s in &mut e.tasks {
            s.retired = false;
        }
        e.tasks.iter().any(|s| !s.finished)
    });
    if !more {
        return;
    }
    loop {
        let next = with_world(|w| {
            with_exec(|e| {
                if e.wind_down_steps > WIND_DOWN_BUDGET {
                    return None;
                }
                let t = e.tasks.iter().enumerate().position(|(t, s)| {
                    !s.finished && !s.joining && s.co.is_some() && !w.is_waiting(t)
                })?;
                e.tasks[t].co.take().map(|co| (t, co))
            })
        });
        let Some((t, mut co)) = next else { return };
        CURRENT.with(|c| c.set(t));
        match catch_unwind(AssertUnwindSafe(|| co.resume(()))) {
            Ok(CoroutineResult::Yield(())) => with_exec(|e| e.tasks[t].co = Some(co)),
            Ok(CoroutineResult::Return(())) | Err(_) => with_exec(|e| {
                let slot = &mut e.tasks[t];
                slot.finished = true;
                if let Some(w) = slot.waiter.take() {
                    e.tasks[w].joining = false;
                }
                e.pool.push(co.into_stack());
            }),
        }
    }
}

/// Unwind the coroutines an execution left suspended (it ended on a
/// deadlock, a hang, or a scenario panic), each as the current task, and
/// pool their stacks.
fn drop_unfinished() {
    loop {
        let next = with_exec(|e| {
            e.tasks
                .iter_mut()
                .enumerate()
                .find_map(|(t, s)| s.co.take().map(|co| (t, co)))
        });
        let Some((t, mut co)) = next else { return };
        CURRENT.with(|c| c.set(t));
        // A destructor that panics while the stack unwinds aborts, as any
        // panic during unwinding does; one that reaches a scheduling point
        // switches out and is unwound again (corosensei's forced unwind).
        while !co.done() {
            co.force_unwind();
        }
        with_exec(|e| {
            e.tasks[t].finished = true;
            e.pool.push(co.into_stack());
        });
    }
}

/// The native runtime's side of a step (see [`Backend`]).
pub(crate) struct NativeBackend;

/// The one native backend.
pub(crate) static NATIVE: NativeBackend = NativeBackend;

impl Backend for NativeBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Native
    }

    fn current_task(&self) -> usize {
        CURRENT.with(Cell::get)
    }

    fn before_step(&self, _op: LoomOp) {
        // Shuttle's adapter sees the same condition: with one live task and
        // nothing stopped there is nothing to decide, and no point is taken.
        switch_point(true);
    }

    fn orders_steps(&self) -> bool {
        false
    }

    fn unwinds_when_stopped(&self) -> bool {
        true
    }

    fn retire(&self) -> bool {
        retire()
    }

    fn spawn(
        &self,
        name: Cow<'static, str>,
        clock: VectorClock,
        f: Box<dyn FnOnce() + Send>,
    ) -> Spawned {
        spawn(name, clock, f)
    }
}

/// [`Backend::spawn`] on the native runtime, for any `f`: the coroutine
/// holds `f` on the child's stack, so a caller that knows the runtime
/// (`kernel::spawn_task`) need not box it.
pub(crate) fn spawn(
    name: Cow<'static, str>,
    clock: VectorClock,
    f: impl FnOnce() + 'static,
) -> Spawned {
    // Point 3: the parent's scheduling point comes before the child exists.
    switch();
    let added = with_exec(|e| {
        let child = e.tasks.len();
        e.add_task(move || {
            // As under shuttle, the child registers itself in the world when
            // it first runs.
            world::spawned(child, name, clock);
            if world::run_unless_stopped(f) {
                world::task_finished();
            }
        })
    });
    let child = match added {
        Ok(child) => child,
        // No stack for the child: a resource failure of the engine, not a
        // finding; it ends the run as a scenario panic does.
        Err(e) => panic!("{e}"),
    };
    Spawned::Native(child)
}

/// Point 4: wait for task `child` to return, as shuttle's `JoinHandle::join`
/// does: a scheduling point if it already has; else block, then a
/// scheduling point at which the joiner is no candidate.
///
/// A retired task has ended as far as the recorded execution goes: it is
/// joined as one that returned (under shuttle it would have unwound).
pub(super) fn join(child: usize) {
    let ended = |s: &Slot| s.finished || s.retired;
    if with_exec(|e| ended(&e.tasks[child])) {
        switch();
    }
    let me = CURRENT.with(Cell::get);
    let block = with_exec(|e| {
        if ended(&e.tasks[child]) {
            return false;
        }
        e.tasks[child].waiter = Some(me);
        e.tasks[me].joining = true;
        e.not_runnable(me);
        true
    });
    if block {
        switch();
    }
}
