//! The two runtimes an execution can run on, and what they share.
//!
//! The kernel model is written once. Every model operation is a *step*
//! against the thread-local world (see [`crate::world`]); only the few places
//! where a step meets the runtime depend on the `Backend` trait: the scheduling
//! point before a step, the running task's id, spawn and join, blocking, and
//! — under loom only — the memory that loom's C11 model must see.
//!
//! * [`native`]: the engine's own coroutines under its schedulers (the
//!   default for the sequentially consistent explorers); a step is one
//!   atomic, sequentially consistent action, and happens-before is computed
//!   by the world's own vector clocks. The scheduling points are shuttle's,
//!   so schedules replay on either runtime.
//! * [`shuttle`]: shuttle's coroutines under the engine's schedulers; a step
//!   is one atomic, sequentially consistent action, and happens-before is
//!   computed by the world's own vector clocks.
//! * [`loom`]: `loom::model`, bounded-exhaustive under the C11 memory model;
//!   a step starts with the loom operations that make it visible to loom.

pub(crate) mod driver;
pub mod loom;
pub mod native;
pub mod shuttle;

use crate::clock::VectorClock;
use crate::kernel::memory::{Action, CellState, Ordering as CellOrdering};
use crate::world::Prim;
use crate::world::{self, with_world, LoomOp, Wait, World, SPIN};
use std::borrow::Cow;
use std::cell::Cell;
use std::panic;
use std::rc::Rc;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Once};

pub use std::sync::atomic::Ordering;

/// Which runtime an execution runs on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BackendKind {
    /// Shuttle coroutines under the engine's schedulers; sequential
    /// consistency, happens-before from the world's vector clocks.
    #[default]
    Shuttle,
    /// The engine's own coroutines under its schedulers: the scheduling
    /// points of [`BackendKind::Shuttle`], without shuttle.
    Native,
    /// `loom::model`: bounded-exhaustive, C11 memory model.
    Loom,
}

/// A task a backend started: its index in the world and what its join
/// needs, one variant per runtime. Not a shared index and a boxed join
/// closure: the native runtime spawns every task of every execution, and
/// those are two allocations per task it does not need.
pub(crate) enum Spawned {
    /// On the native runtime: the child's index, known when it is added.
    Native(usize),
    /// Under shuttle: the index is the child's scheduler id, which the child
    /// stores when it first runs.
    Shuttle {
        /// The child's index, once it has run.
        id: Arc<AtomicUsize>,
        /// Shuttle's handle.
        handle: ::shuttle::thread::JoinHandle<()>,
    },
    /// Under loom: the index the world reserved for the child.
    Loom {
        /// The child's index.
        id: usize,
        /// Loom's handle.
        handle: ::loom::thread::JoinHandle<()>,
    },
}

impl Spawned {
    /// Block until the task has ended; its index in the world.
    pub(crate) fn join(self) -> usize {
        match self {
            Spawned::Native(child) => {
                native::join(child);
                child
            }
            // A task cut off by a finding never returns; the execution stops
            // at the join's scheduling point instead, so the result is never
            // seen.
            Spawned::Shuttle { id, handle } => {
                let _ = handle.join();
                // The whole execution runs on one OS thread: no ordering is
                // needed.
                id.load(std::sync::atomic::Ordering::Relaxed)
            }
            // A fatal finding ends the loom run by unwinding out of the task
            // that found it, so a join only ever sees a task that returned.
            Spawned::Loom { id, handle } => {
                world::joining(true);
                let _ = handle.join();
                world::joining(false);
                id
            }
        }
    }
}

/// What the step protocol (see [`crate::world`]) needs from the runtime
/// under it. Every place where a model operation meets the runtime is one
/// method here; the world and the kernel model never ask which runtime runs.
///
/// One instance per runtime is cached per thread for the execution
/// ([`backend`]): the hot path is a thread-local load and a virtual call.
pub(crate) trait Backend: Sync {
    /// Which runtime this is.
    fn kind(&self) -> BackendKind;

    /// The index of the running task.
    fn current_task(&self) -> usize;

    /// The scheduling point that starts a step: under shuttle a switch to
    /// the scheduler (skipped while only one task is live and nothing has
    /// stopped); under loom the step's loom operations `op`, each one of
    /// loom's branch points.
    fn before_step(&self, op: LoomOp);

    /// Whether a step's scheduling point performs loom operations, so that a
    /// step must name the loom memory it touches ([`LoomOp`]).
    fn orders_steps(&self) -> bool;

    /// Whether a step that finds the execution stopped by a fatal finding
    /// unwinds its task (shuttle) instead of running (loom ends the whole
    /// model run in [`Backend::after_step`] instead).
    fn unwinds_when_stopped(&self) -> bool;

    /// After a step's world update: under loom, end the model run if the
    /// step recorded a fatal finding. Nothing under the SC runtimes, whose
    /// driver ends the execution.
    fn after_step(&self) {}

    /// The running task reached a scheduling point of an execution a fatal
    /// finding stopped, where it would unwind. Under the native runtime it
    /// is retired instead: it counts as ended for the rest of the execution,
    /// and once the execution is recorded it is resumed (this returns true)
    /// to run to its end unrecorded, which frees what its stack holds
    /// without unwinding it. Elsewhere (false) the task unwinds.
    fn retire(&self) -> bool {
        false
    }

    /// The current task has just parked on a primitive (the world is
    /// borrowed): under loom, where a parked task stays runnable for loom,
    /// a park that leaves every task blocked is a deadlock the world must
    /// report itself. Under the SC runtimes the driver notices.
    fn parked(&self, _w: &mut World) {}

    /// Wait, outside any world borrow, until task `me`, parked, is woken.
    /// Under the SC runtimes the driver does not run a parked task, so
    /// there is nothing to wait for here.
    fn wait_until_woken(&self, _me: usize) {}

    /// Task `task` was woken (the world is borrowed): under loom, unpark
    /// its thread.
    fn wake(&self, _w: &World, _task: usize) {}

    /// `cpu_relax()`: let another task run before the poller polls again.
    /// `me` has recorded the relax. Under the SC runtimes it is parked on
    /// the pseudo-primitive `SPIN` until any other task's next step
    /// (`World::wake_spinners`): nothing the poller reads can change before
    /// then. Alone, it must run on.
    fn cpu_relax(&self, me: usize) {
        with_world(|w| {
            if w.live > 1 {
                w.set_wait(
                    me,
                    Some(Wait {
                        prim: SPIN,
                        op: "cpu_relax",
                    }),
                );
                w.spinning += 1;
            }
        });
        world::schedule_point();
    }

    /// A barrier inside a step: a loom fence (not a branch point), nothing
    /// under the SC runtimes, where the world's clocks model it.
    fn fence(&self, _order: Ordering) {}

    /// The loom word a new primitive or object gets, if this runtime
    /// orders steps through loom memory.
    fn new_word(&self) -> Option<loom::LoomWord> {
        None
    }

    /// The loom memory of a new object's body, if any.
    fn new_body(&self) -> Option<Rc<loom::LoomBody>> {
        None
    }

    /// The loom memory of a new cell holding `raw`, if any.
    fn new_cell(&self, _raw: u64) -> Option<Rc<loom::LoomCell>> {
        None
    }

    /// Start a task running `f`, registered under `name` with the parent's
    /// `clock`.
    fn spawn(
        &self,
        name: Cow<'static, str>,
        clock: VectorClock,
        f: Box<dyn FnOnce() + Send>,
    ) -> Spawned;

    /// A task just ended (the world is borrowed): under loom, a task ending
    /// while every other live task is blocked leaves a deadlock behind.
    fn task_ended(&self, _w: &mut World) {}

    /// One access to memory cell `id` as one step (see
    /// [`crate::kernel::memory`]): under loom, the value comes from loom's
    /// C11 model.
    fn cell_access(
        &self,
        site: crate::trace::Site,
        id: Prim<CellState>,
        op: &'static str,
        ord: CellOrdering,
        action: Action,
    ) -> u64 {
        crate::kernel::memory::world_cell_access(site, id, op, ord, action)
    }
}

thread_local! {
    static BACKEND: Cell<&'static dyn Backend> = const { Cell::new(&shuttle::SHUTTLE) };
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// The runtime of the execution running on this thread.
// Inlined: read several times per step, a load where a call cost more.
#[inline]
pub(crate) fn backend() -> &'static dyn Backend {
    BACKEND.with(Cell::get)
}

/// Which runtime runs the execution on this thread.
pub fn backend_kind() -> BackendKind {
    backend().kind()
}

pub(crate) fn set_backend(b: &'static dyn Backend) {
    BACKEND.with(|c| c.set(b));
}

/// The payload of the panic that ends a loom model run at a fatal finding
/// (loom has no other way to stop exploring). The finding itself is in the
/// world.
#[derive(Debug)]
pub(crate) struct StopExploring;

/// Run `f` with panic messages of this thread silenced: loom reports races,
/// branch overflows and our own stop requests by panicking, and those are
/// turned into findings, not printed.
pub(crate) fn quietly<R>(f: impl FnOnce() -> R) -> R {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        // Shuttle installs its own process-wide hook at its first run, and
        // that hook prints before calling the one it replaced: make sure it
        // is installed first, so that ours wraps it and silences it too.
        ::shuttle::check_random(|| {}, 1);
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                previous(info);
            }
        }));
    });
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            QUIET.with(|q| q.set(self.0));
        }
    }
    let _restore = Restore(QUIET.with(|q| q.replace(true)));
    f()
}

/// A panic payload as text.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "unknown panic".into())
}
