//! The world: everything one execution of a scenario knows about the
//! modelled kernel — tasks, objects, primitives, memory cells, the trace and
//! the findings.
//!
//! All tasks of an execution run as coroutines on one OS thread (the native
//! runtime's or shuttle's), so the world lives in a thread-local and is borrowed only
//! for the duration of one model operation, never across a scheduling point.
//! Each model operation is one atomic step: [`step`] first yields to the
//! scheduler, then performs the operation against the world without any
//! further interleaving. That is the sequentially consistent memory model the
//! SC explorers check; weak memory is the loom backend's business.
//!
//! Under loom ([`crate::backend::loom`]) the same steps run as loom threads (also
//! coroutines on one OS thread): a step first performs the loom operations
//! that make it visible to loom's C11 model and partial-order reduction (see
//! [`crate::runtime`]), then its world update, with no branch point in
//! between. A blocked task yields to loom until a release wakes it, and a
//! fatal finding ends the whole model run (loom explores until the first
//! failing execution).
//!
//! Where things are:
//!
//! * `mod.rs`: the world's state (`World`, tasks, objects, primitives) and
//!   the thread-local it lives in;
//! * `prim.rs`: primitive states ([`PrimitiveState`]) and their typed
//!   handles ([`Prim`]);
//! * `step.rs`: the step protocol — what a model operation is, its
//!   scheduling point, acquire/release, blocking and waking (documented for
//!   primitive authors in [`crate::protocol`]);
//! * `task.rs`: the task lifecycle (spawn, finish, join);
//! * `findings.rs`: raising findings, deadlock and hang reports;
//! * `leaks.rs`: the end-of-scenario leak check;
//! * `held.rs`: the locks each task holds (lockdep's held-lock stack): who
//!   holds what a deadlocked task waits on, and locks held at a return to
//!   user space or at exit.
//!
//! The loom half of a step (what it does to loom's memory before its world
//! update) is in [`crate::backend::loom`], the shuttle scheduler adapter in
//! [`crate::backend::shuttle`].

mod findings;
mod held;
mod leaks;
mod prim;
mod step;
mod task;

pub(crate) use crate::backend::loom::LoomOp;
pub(crate) use held::{sys_exit, HeldLock};
pub(crate) use leaks::scenario_completed;
pub(crate) use prim::Host;
pub use prim::{keep_capacity, AsAny, Prim, PrimitiveState, TaskNames};
pub(crate) use step::{
    run_unless_stopped, schedule_point, spin_wait, step_access_at, step_with, track_pending,
};
pub use step::{step, step_blocking, step_on, Op};
use task::register_task;
pub(crate) use task::{
    callback, clock_for_spawn, joined, joining, loom_task_started, record_call, reserve_loom_task,
    spawned, task_finished,
};

use crate::backend::loom::{LoomBody, LoomWord, LOOM};
use crate::backend::shuttle::{forget_running, SHUTTLE};
use crate::backend::{backend, set_backend};
use crate::clock::{VectorClock, MAX_TASKS};
use crate::finding::Finding;
use crate::kernel::memory::History;
use crate::scheduler::Pending;
use crate::trace::{Event, ObjectId, PrimId, Target, Value};
use std::any::TypeId;
use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;

thread_local! {
    static WORLD: WorldCell = const { WorldCell(RefCell::new(World::new())) };
    /// `WORLD`, once reached on this thread: several borrows per step go
    /// through this `Cell`, one load, where `WORLD` itself (it has a
    /// destructor) would check its registration and take a call each time.
    static WORLD_AT: std::cell::Cell<*const RefCell<World>> =
        const { std::cell::Cell::new(std::ptr::null()) };
    /// Executions started on this thread: tells a runtime whether the world
    /// it left is still its own (a hook may run a whole engine run between
    /// two executions).
    static RESETS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// How many executions this thread has started (see `RESETS`).
pub(crate) fn resets() -> u64 {
    RESETS.with(std::cell::Cell::get)
}

/// Per-execution settings the engine gives the world.
#[derive(Clone, Copy, Debug)]
pub struct WorldConfig {
    /// Whether plain accesses are checked for data races (vector clocks).
    pub race_detection: bool,
}

const _: () = assert!(MAX_TASKS <= u32::BITS as usize, "`World::waiting` is a u32");

/// The pseudo-primitive a task spinning in `cpu_relax()` parks on: it is
/// woken by any other task's next operation (nothing can change what it
/// polls until another task runs).
pub(crate) const SPIN: PrimId = PrimId(u32::MAX);

/// The pseudo-primitive a task joining another waits on under loom (where
/// the join blocks inside loom, invisible to the world otherwise). It counts
/// as blocked for deadlock detection but is not listed in reports, as the
/// shuttle backend does not list joins either.
pub(crate) const JOIN: PrimId = PrimId(u32::MAX - 1);

/// What a blocked task waits for.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Wait {
    pub prim: PrimId,
    pub op: &'static str,
}

/// A task of the execution, as the model sees it.
#[derive(Debug)]
pub(crate) struct TaskState {
    pub name: Cow<'static, str>,
    /// Happens-before clock.
    pub clock: VectorClock,
    /// The clock at this task's last full or release fence: what a relaxed
    /// store (`WRITE_ONCE`) publishes, under C11's fence rules.
    pub fence_release: VectorClock,
    /// Clocks observed by relaxed loads (`READ_ONCE`) since the last full
    /// fence; an `smp_mb()` acquires them.
    pub observed_relaxed: VectorClock,
    /// The task released a spinlock and has not taken one since: its next
    /// `spin_lock()` completes an unlock+lock pair, which the kernel memory
    /// model orders like a barrier (see [`crate::kernel::spinlock`]).
    pub unlocked: bool,
    /// What the task is parked on. Written only through
    /// [`World::set_wait`], which keeps [`World::waiting`] in step.
    pub wait: Option<Wait>,
    pub finished: bool,
    /// Index of this task's last event, for the hang report.
    pub last_event: Option<usize>,
    /// Locks, and SRCU/RCU read-side sections, the task holds, oldest
    /// first (lockdep's `current->held_locks`).
    pub held: Vec<HeldLock>,
    /// The events whose operations are running callbacks on this task,
    /// innermost last (see [`Event::caller`]).
    pub callers: Vec<usize>,
    /// What the task's next step acts on, noted at its scheduling point for
    /// the schedulers that order conflicting steps (see
    /// [`crate::scheduler::Pending`]).
    pub pending: Option<Pending>,
}

/// A model object: a heap allocation with a lifetime.
#[derive(Debug)]
pub(crate) struct ObjectSlot {
    pub name: Cow<'static, str>,
    pub alloc_event: usize,
    pub free_event: Option<usize>,
    /// Under loom: the word accesses load and the free stores.
    pub alive: Option<LoomWord>,
    /// The race detector's history of the object's own memory.
    pub history: History,
    /// Under loom: the object's memory, for loom's race checks.
    pub body: Option<Rc<LoomBody>>,
    /// Under loom: a race on the object's memory was reported in this
    /// execution, and loom's checking state for it is spent.
    pub raced: bool,
}

/// A primitive or memory cell, with the object it is embedded in (if any):
/// touching a primitive of a freed object is itself a use-after-removal.
#[derive(Debug)]
pub(crate) struct PrimSlot {
    pub name: Cow<'static, str>,
    pub owner: Option<ObjectId>,
    pub state: Box<dyn PrimitiveState>,
    /// The type of `state`: what [`World::state`] checks a handle against
    /// with one comparison instead of two virtual calls through `Any`.
    pub state_type: TypeId,
    /// Under loom: the word every step on the primitive read-modify-writes.
    pub word: Option<LoomWord>,
}

/// One execution's model state.
#[derive(Debug)]
pub(crate) struct World {
    pub(crate) config: WorldConfig,
    pub(crate) tasks: Vec<TaskState>,
    pub(crate) objects: Vec<ObjectSlot>,
    pub(crate) prims: Vec<PrimSlot>,
    pub(crate) trace: Vec<Event>,
    /// The findings of the execution, as recorded (see [`findings::Recorded`]).
    pub(crate) findings: Vec<findings::Recorded>,
    /// [`World::findings`] rendered, once read.
    pub(crate) rendered: std::cell::OnceCell<Vec<Finding>>,
    /// Where [`World::any_new_signature`] writes each signature, and the
    /// two sites it orders (kept across executions: no allocation once
    /// warm).
    pub(crate) signature_bufs: [String; 3],
    /// Signatures of the data races already reported in this execution.
    pub(crate) race_signatures: Vec<(Target, crate::trace::Site, crate::trace::Site)>,
    /// A fatal finding was recorded: the scheduler ends the execution at the
    /// next scheduling point.
    pub(crate) stop: bool,
    /// Tasks registered and not finished.
    pub(crate) live: usize,
    /// Tasks parked in `cpu_relax()`.
    pub(crate) spinning: usize,
    /// The tasks whose [`TaskState::wait`] is set, task `t` as bit `t`: a
    /// scheduling decision (tens per execution) tells the parked candidates
    /// apart with one load instead of reading each candidate's task record,
    /// and a wake-up with nobody parked scans no task.
    waiting: u32,
    /// Under loom: each task's loom thread, by task index.
    pub(crate) loom_threads: Vec<Option<loom::thread::Thread>>,
    /// The held-lock and caller stacks of earlier executions' tasks, kept
    /// with their capacity for the tasks of the next ones. The last
    /// execution's are on top in reverse order, so that each task of the
    /// next one gets the stacks its namesake grew (a task that runs
    /// callbacks needs a caller stack in every execution, the others none).
    /// Only the stacks move: a whole task state is some 300 bytes.
    pub(crate) spare_stacks: Vec<(Vec<HeldLock>, Vec<usize>)>,
    /// The execution's RCU domain once made (see
    /// [`crate::kernel::rcu`]): every spawn asks for it.
    pub(crate) rcu_domain: Option<PrimId>,
    /// The boxed primitive states of earlier executions, by type: every
    /// execution of a scenario makes the same primitives again, so a new
    /// one overwrites a box of its type instead of allocating (see
    /// [`PrimitiveState::renew`]). Only the boxes [`World::recycled`] did
    /// not hand out land here.
    pub(crate) spare_states: Vec<(TypeId, Vec<Box<dyn PrimitiveState>>)>,
    /// The last execution's primitive states (`[0]`) and host states
    /// (`[1]`), each in reverse order of making: the next execution of the
    /// same scenario makes the same states in the same order, so the box a
    /// new state reuses is nearly always the last one here, taken with one
    /// type comparison. Filing every box by type at each reset and
    /// searching [`World::spare_states`] at each making cost more than the
    /// rest of the reset. Where an execution makes something else (a
    /// schedule-dependent primitive), the new state falls back to
    /// `spare_states`, and what is left here is filed there at the reset.
    pub(crate) recycled: [Vec<(TypeId, Box<dyn PrimitiveState>)>; 2],
    /// The model's host-side state of the execution (see [`Host`]), by
    /// handle index, with each state's type.
    pub(crate) host: Vec<(TypeId, Box<dyn PrimitiveState>)>,
}

/// [`World::recycled`]'s list of primitive states.
const RECYCLED_PRIMS: usize = 0;
/// [`World::recycled`]'s list of host states.
const RECYCLED_HOST: usize = 1;

impl World {
    const fn new() -> Self {
        World {
            config: WorldConfig {
                race_detection: true,
            },
            tasks: Vec::new(),
            objects: Vec::new(),
            prims: Vec::new(),
            trace: Vec::new(),
            findings: Vec::new(),
            rendered: std::cell::OnceCell::new(),
            signature_bufs: [String::new(), String::new(), String::new()],
            race_signatures: Vec::new(),
            stop: false,
            live: 0,
            spinning: 0,
            waiting: 0,
            loom_threads: Vec::new(),
            spare_stacks: Vec::new(),
            rcu_domain: None,
            spare_states: Vec::new(),
            recycled: [Vec::new(), Vec::new()],
            host: Vec::new(),
        }
    }

    fn reset(&mut self, config: WorldConfig) {
        self.config = config;
        let stacks = self.tasks.drain(..).rev().map(|t| (t.held, t.callers));
        self.spare_stacks.extend(stacks);
        self.objects.clear();
        let spare = &mut self.spare_states;
        let [prims, host] = &mut self.recycled;
        for (state_type, state) in prims.drain(..).chain(host.drain(..)) {
            match spare.iter_mut().find(|(t, _)| *t == state_type) {
                Some((_, boxes)) => boxes.push(state),
                None => spare.push((state_type, vec![state])),
            }
        }
        prims.extend(self.prims.drain(..).rev().map(|s| (s.state_type, s.state)));
        host.extend(self.host.drain(..).rev());
        self.trace.clear();
        self.findings.clear();
        self.rendered.take();
        self.race_signatures.clear();
        self.stop = false;
        self.live = 0;
        self.spinning = 0;
        self.waiting = 0;
        self.loom_threads.clear();
        self.rcu_domain = None;
    }

    /// The trace of the execution so far.
    pub fn trace(&self) -> &[Event] {
        &self.trace
    }

    /// The name of task `t`.
    pub fn task_name(&self, t: usize) -> &str {
        self.tasks.get(t).map(|t| t.name.as_ref()).unwrap_or("?")
    }

    /// Number of tasks the execution registered.
    pub fn task_count(&self) -> usize {
        self.tasks.len()
    }

    /// The display name of what an event acted on.
    pub fn target_name(&self, target: Target) -> Cow<'_, str> {
        match target {
            Target::None => Cow::Borrowed(""),
            Target::Prim(p) => Cow::Borrowed(self.prims[p.0 as usize].name.as_ref()),
            Target::Object(o) => Cow::Borrowed(self.objects[o.0 as usize].name.as_ref()),
        }
    }

    /// The display name of an object.
    pub fn object_name(&self, o: ObjectId) -> &str {
        &self.objects[o.0 as usize].name
    }

    /// Whether a fatal finding ended the execution.
    pub(crate) fn stopped_flag(&self) -> bool {
        self.stop
    }

    /// What task `t`'s next step acts on, if it declared it.
    pub(crate) fn pending(&self, t: usize) -> Option<Pending> {
        self.tasks.get(t).and_then(|t| t.pending)
    }

    /// Whether task `t` waits on a primitive (and so may not be scheduled).
    #[inline]
    pub(crate) fn is_waiting(&self, t: usize) -> bool {
        // A task beyond `MAX_TASKS` never registers, so never waits.
        t < MAX_TASKS && self.waiting & (1 << t) != 0
    }

    /// Whether any task waits on a primitive.
    #[inline]
    pub(crate) fn any_waiting(&self) -> bool {
        self.waiting != 0
    }

    /// Park task `t` on `wait`, or (`None`) let it run again.
    #[inline]
    pub(crate) fn set_wait(&mut self, t: usize, wait: Option<Wait>) {
        self.tasks[t].wait = wait;
        match wait {
            Some(_) => self.waiting |= 1 << t,
            None => self.waiting &= !(1 << t),
        }
    }

    /// Another task is about to act: every task spinning in `cpu_relax()`
    /// may now see something new.
    fn wake_spinners(&mut self, me: usize) {
        if self.spinning == 0 {
            return;
        }
        for t in 0..self.tasks.len() {
            if t != me && self.tasks[t].wait.is_some_and(|w| w.prim == SPIN) {
                self.set_wait(t, None);
                self.spinning -= 1;
            }
        }
    }

    pub(crate) fn prim(&self, id: impl Into<PrimId>) -> &PrimSlot {
        &self.prims[id.into().0 as usize]
    }

    pub(crate) fn add_prim<S: PrimitiveState>(
        &mut self,
        name: Cow<'static, str>,
        owner: Option<ObjectId>,
        state: S,
    ) -> Prim<S> {
        let id = PrimId(self.prims.len() as u32);
        // Creating a loom atomic is not a branch point, so it may happen
        // while the world is borrowed.
        let word = backend().new_word();
        let state = self.boxed(RECYCLED_PRIMS, state);
        self.prims.push(PrimSlot {
            name,
            owner,
            state,
            state_type: TypeId::of::<S>(),
            word,
        });
        Prim::new(id)
    }

    /// `state` in a box, one of an earlier execution's if there is one:
    /// the one the state made at this point of the last execution
    /// ([`World::recycled`]`[list]`) if it has `state`'s type, else any of
    /// its type.
    fn boxed<S: PrimitiveState>(&mut self, list: usize, state: S) -> Box<dyn PrimitiveState> {
        let state_type = TypeId::of::<S>();
        let recycled = &mut self.recycled[list];
        let spare = match recycled.last() {
            Some((t, _)) if *t == state_type => recycled.pop().map(|(_, b)| b),
            _ => self
                .spare_states
                .iter_mut()
                .find(|(t, _)| *t == state_type)
                .and_then(|(_, boxes)| boxes.pop()),
        };
        match spare {
            Some(mut boxed) => {
                // SAFETY: the box was filed under `TypeId::of::<S>()` (in
                // `spare_states` or `recycled`) by `reset`, from a slot
                // whose type says it holds an `S`.
                let old = unsafe { &mut *(&mut *boxed as *mut dyn PrimitiveState).cast::<S>() };
                old.renew(state);
                boxed
            }
            None => Box::new(state),
        }
    }

    /// Add host-side model state for this execution (see [`Host`]).
    pub(crate) fn add_host<S: PrimitiveState>(&mut self, state: S) -> Host<S> {
        let id = self.host.len() as u32;
        let state = self.boxed(RECYCLED_HOST, state);
        self.host.push((TypeId::of::<S>(), state));
        Host::new(id)
    }

    /// The host-side state `h`.
    pub(crate) fn host<S: PrimitiveState>(&self, h: Host<S>) -> &S {
        let (state_type, state) = &self.host[h.index()];
        assert!(
            *state_type == TypeId::of::<S>(),
            "a Host<S> handle names a slot the world filled with an S"
        );
        // SAFETY: the state was boxed as an `S` (`add_host` records its
        // type with it, checked above).
        unsafe { &*(&**state as *const dyn PrimitiveState).cast::<S>() }
    }

    /// The host-side state `h`, to change.
    pub(crate) fn host_mut<S: PrimitiveState>(&mut self, h: Host<S>) -> &mut S {
        let (state_type, state) = &mut self.host[h.index()];
        assert!(
            *state_type == TypeId::of::<S>(),
            "a Host<S> handle names a slot the world filled with an S"
        );
        // SAFETY: as in `host`.
        unsafe { &mut *(&mut **state as *mut dyn PrimitiveState).cast::<S>() }
    }

    /// Whether every live task is blocked, at least one of them on a model
    /// primitive (a task joining another is blocked too, but a join alone
    /// cannot be stuck). Used by the loom backend, where blocked tasks stay
    /// runnable for loom and the world must notice the deadlock itself.
    pub(crate) fn all_blocked(&self) -> bool {
        let mut on_primitive = false;
        for t in self.tasks.iter().filter(|t| !t.finished) {
            match t.wait {
                None => return false,
                Some(w) => on_primitive |= w.prim != JOIN,
            }
        }
        on_primitive
    }

    /// An event as a kernel developer would write the operation (see
    /// [`crate::trace::event_text`]), with object names for pointer values.
    pub fn event_text(&self, ev: &Event) -> String {
        let target = self.target_name(ev.target);
        let value = ev.value.map(|v| match v {
            Value::Ptr(Some(o)) => format!("&{}", self.object_name(o)),
            v => v.to_string(),
        });
        let is_object = matches!(ev.target, Target::Object(_));
        let text =
            crate::trace::event_text(ev.op, &target, is_object, value.as_deref(), ev.blocked);
        // An interpreted scheme's event shows the source expression it came
        // from first, the model's rendering (cell, value) after it.
        match ev.site.source {
            Some(src) if !src.label.is_empty() && src.label != text => {
                format!("{}  [{text}]", src.label)
            }
            _ => text,
        }
    }
}

/// Borrow the current thread's world for the length of `f`.
///
/// `f` must not reach a scheduling point: the world is borrowed mutably.
#[inline]
pub(crate) fn with_world<R>(f: impl FnOnce(&mut World) -> R) -> R {
    let mut at = WORLD_AT.with(std::cell::Cell::get);
    if at.is_null() {
        at = world_at();
    }
    // SAFETY: `at` points into this thread's `WORLD`, which `WorldCell`'s
    // destructor forgets before it is freed; the `RefCell` checks borrows.
    f(&mut unsafe { &*at }.borrow_mut())
}

/// This thread's world, the first time it is reached (or after it was
/// destroyed, where `WORLD` panics as any thread-local does).
#[cold]
fn world_at() -> *const RefCell<World> {
    let at = WORLD.with(|w| &w.0 as *const RefCell<World>);
    WORLD_AT.with(|c| c.set(at));
    at
}

/// The world's thread-local storage: forgets the address [`with_world`]
/// keeps before the world is freed at thread exit.
struct WorldCell(RefCell<World>);

impl Drop for WorldCell {
    fn drop(&mut self) {
        WORLD_AT.with(|c| c.set(std::ptr::null()));
    }
}

/// Start a fresh shuttle execution on this thread with the main task
/// registered.
pub(crate) fn reset(config: WorldConfig) {
    reset_on(config, &SHUTTLE);
}

/// Start a fresh execution on runtime `b` (shuttle or native) on this
/// thread, with the main task registered.
pub(crate) fn reset_on(config: WorldConfig, b: &'static dyn crate::backend::Backend) {
    RESETS.with(|r| r.set(r.get() + 1));
    crate::trace::clear_source_sites();
    set_backend(b);
    forget_running();
    step::track_pending(false);
    with_world(|w| {
        w.reset(config);
        register_task(w, 0, Cow::Borrowed("init"), VectorClock::new());
    });
}

/// Start a fresh loom execution: called by the model body at the start of
/// every execution loom explores, on the loom thread that runs `init`.
///
/// The world's own race detector is off: under loom, races are loom's to
/// find (its happens-before includes the C11 orderings the world's clocks
/// only approximate).
pub(crate) fn reset_loom() {
    crate::trace::clear_source_sites();
    set_backend(&LOOM);
    step::track_pending(false);
    let me = loom::thread::current();
    with_world(|w| {
        w.reset(WorldConfig {
            race_detection: false,
        });
        // Loom's cells and words live in the states: they are dropped here,
        // at the start of the next loom execution, as they always were, not
        // later when a new primitive would reuse their box.
        w.spare_states.clear();
        w.recycled.iter_mut().for_each(Vec::clear);
        register_task(w, 0, Cow::Borrowed("init"), VectorClock::new());
        w.loom_threads.push(Some(me));
    });
}

/// The index of the running task.
pub(crate) fn current_task() -> usize {
    backend().current_task()
}
