//! The world: everything one execution of a scenario knows about the
//! modelled kernel — tasks, objects, primitives, memory cells, the trace and
//! the findings.
//!
//! All tasks of an execution run as coroutines on one OS thread (shuttle's
//! continuations), so the world lives in a thread-local and is borrowed only
//! for the duration of one model operation, never across a scheduling point.
//! Each model operation is one atomic step: [`step`] first yields to the
//! scheduler, then performs the operation against the world without any
//! further interleaving. That is the sequentially consistent memory model the
//! shuttle explorers check; weak memory is the loom backend's business.
//!
//! Under loom ([`Backend::Loom`]) the same steps run as loom threads (also
//! coroutines on one OS thread): a step first performs the loom operations
//! that make it visible to loom's C11 model and partial-order reduction (see
//! [`crate::runtime`]), then its world update, with no branch point in
//! between. A blocked task yields to loom until a release wakes it, and a
//! fatal finding ends the whole model run (loom explores until the first
//! failing execution).

use crate::clock::{Epoch, VectorClock, MAX_TASKS};
use crate::finding::{Access, Detail, Finding, FindingKind};
use crate::kernel::completion::CompletionState;
use crate::kernel::memory::{CellState, History};
use crate::kernel::mutex::MutexState;
use crate::kernel::percpu_ref::PercpuRefState;
use crate::kernel::refcount::RefcountState;
use crate::kernel::rwsem::RwSemState;
use crate::kernel::srcu::SrcuState;
use crate::runtime::{
    backend, new_word, set_backend, Backend, LoomBody, LoomWord, Ordering as MemOrder,
    StopExploring,
};
use crate::scheduler::Pending;
use crate::trace::{short_site, Event, ObjectId, PrimId, Target, Value};
use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::panic::Location;
use std::rc::Rc;

thread_local! {
    static WORLD: RefCell<World> = const { RefCell::new(World::new()) };
    /// The task the engine's scheduler picked at its last decision, or
    /// `NOT_CACHED` when shuttle's own schedulers run the execution: asking
    /// shuttle who runs costs a lookup in its execution state on every step,
    /// and the engine already knows.
    static RUNNING: Cell<usize> = const { Cell::new(NOT_CACHED) };
}

const NOT_CACHED: usize = usize::MAX;

/// Note the task the engine scheduled: it runs until the next decision.
pub(crate) fn set_running(task: usize) {
    RUNNING.with(|r| r.set(task));
}

/// Per-execution settings the engine gives the world.
#[derive(Clone, Copy, Debug)]
pub struct WorldConfig {
    /// Whether plain accesses are checked for data races (vector clocks).
    pub race_detection: bool,
}

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
    pub wait: Option<Wait>,
    pub finished: bool,
    /// Index of this task's last event, for the hang report.
    pub last_event: Option<usize>,
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

/// The state of one primitive, by kind.
#[derive(Debug)]
pub(crate) enum PrimState {
    Cell(CellState),
    RwSem(RwSemState),
    Srcu(SrcuState),
    Mutex(MutexState),
    Completion(CompletionState),
    Refcount(RefcountState),
    PercpuRef(PercpuRefState),
    Spinlock(crate::kernel::spinlock::SpinlockState),
    /// A device's devres list: the devm allocations and actions to release
    /// on unbind.
    Devres(Vec<crate::kernel::device::DevresEntry>),
    /// The RCU reader state of the whole world (plain RCU has one domain).
    Rcu(crate::kernel::rcu::RcuState),
    /// A `wait_queue_head_t`.
    WaitQueue(crate::kernel::wait::WaitQueueState),
    /// A `struct work_struct`.
    Work(crate::kernel::workqueue::WorkState),
}

/// A primitive or memory cell, with the object it is embedded in (if any):
/// touching a primitive of a freed object is itself a use-after-removal.
#[derive(Debug)]
pub(crate) struct PrimSlot {
    pub name: Cow<'static, str>,
    pub owner: Option<ObjectId>,
    pub state: PrimState,
    /// Under loom: the word every step on the primitive read-modify-writes.
    pub word: Option<LoomWord>,
}

/// One execution's model state.
#[derive(Debug)]
pub struct World {
    pub(crate) config: WorldConfig,
    pub(crate) tasks: Vec<TaskState>,
    pub(crate) objects: Vec<ObjectSlot>,
    pub(crate) prims: Vec<PrimSlot>,
    pub(crate) trace: Vec<Event>,
    pub(crate) findings: Vec<Finding>,
    /// Signatures of the data races already reported in this execution.
    pub(crate) race_signatures: Vec<(
        Target,
        &'static Location<'static>,
        &'static Location<'static>,
    )>,
    /// A fatal finding was recorded: the scheduler ends the execution at the
    /// next scheduling point.
    pub(crate) stop: bool,
    /// Tasks registered and not finished.
    pub(crate) live: usize,
    /// Whether the scenario body returned (as opposed to being cut off).
    pub(crate) completed: bool,
    /// Tasks parked in `cpu_relax()`.
    pub(crate) spinning: usize,
    /// Under loom: each task's loom thread, by task index.
    loom_threads: Vec<Option<loom::thread::Thread>>,
}

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
            race_signatures: Vec::new(),
            stop: false,
            live: 0,
            completed: false,
            spinning: 0,
            loom_threads: Vec::new(),
        }
    }

    fn reset(&mut self, config: WorldConfig) {
        self.config = config;
        self.tasks.clear();
        self.objects.clear();
        self.prims.clear();
        self.trace.clear();
        self.findings.clear();
        self.race_signatures.clear();
        self.stop = false;
        self.live = 0;
        self.completed = false;
        self.spinning = 0;
        self.loom_threads.clear();
    }

    /// The trace of the execution so far.
    pub fn trace(&self) -> &[Event] {
        &self.trace
    }

    /// The findings of the execution so far.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
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

    /// Whether the scenario body ran to its end.
    pub fn completed(&self) -> bool {
        self.completed
    }

    /// What task `t`'s next step acts on, if it declared it.
    pub(crate) fn pending(&self, t: usize) -> Option<Pending> {
        self.tasks.get(t).and_then(|t| t.pending)
    }

    /// Whether task `t` waits on a primitive (and so may not be scheduled).
    pub(crate) fn is_waiting(&self, t: usize) -> bool {
        self.tasks.get(t).is_some_and(|t| t.wait.is_some())
    }

    /// Another task is about to act: every task spinning in `cpu_relax()`
    /// may now see something new.
    fn wake_spinners(&mut self, me: usize) {
        if self.spinning == 0 {
            return;
        }
        for (t, task) in self.tasks.iter_mut().enumerate() {
            if t != me && task.wait.is_some_and(|w| w.prim == SPIN) {
                task.wait = None;
                self.spinning -= 1;
            }
        }
    }

    pub(crate) fn prim(&self, id: PrimId) -> &PrimSlot {
        &self.prims[id.0 as usize]
    }

    pub(crate) fn prim_mut(&mut self, id: PrimId) -> &mut PrimSlot {
        &mut self.prims[id.0 as usize]
    }

    pub(crate) fn add_prim(
        &mut self,
        name: Cow<'static, str>,
        owner: Option<ObjectId>,
        state: PrimState,
    ) -> PrimId {
        let id = PrimId(self.prims.len() as u32);
        // Creating a loom atomic is not a branch point, so it may happen
        // while the world is borrowed.
        let word = (backend() == Backend::Loom).then(new_word);
        self.prims.push(PrimSlot {
            name,
            owner,
            state,
            word,
        });
        id
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

    /// An [`Access`] describing event `e`.
    pub(crate) fn access(&self, e: usize) -> Access {
        let ev = &self.trace[e];
        Access {
            event: e,
            task: self.task_name(ev.task).to_string(),
            op: self.event_text(ev),
            site: short_site(ev.site),
        }
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
        crate::trace::event_text(ev.op, &target, is_object, value.as_deref(), ev.blocked)
    }

    /// Record a finding; a fatal one stops the execution at the next
    /// scheduling point.
    pub(crate) fn report(&mut self, finding: Finding) {
        if self.stop {
            return;
        }
        if finding.kind.is_fatal() {
            self.stop = true;
        }
        self.findings.push(finding);
    }

    /// Describe what task `t` is blocked on, naming who holds it.
    pub(crate) fn describe_wait(&self, wait: Wait) -> String {
        if wait.prim == SPIN {
            return format!("{} (spinning)", wait.op);
        }
        if wait.prim == JOIN {
            return wait.op.to_string();
        }
        let slot = self.prim(wait.prim);
        let holders = match &slot.state {
            PrimState::RwSem(s) => s.describe_holders(self),
            PrimState::Mutex(s) => s.describe_holders(self),
            PrimState::Spinlock(s) => s.describe_holders(self),
            PrimState::Srcu(s) => s.describe_holders(),
            PrimState::Completion(_) => "not completed".to_string(),
            PrimState::Refcount(s) => format!("count {}", s.count),
            PrimState::PercpuRef(s) => format!("count {}", s.count),
            PrimState::Rcu(s) => s.describe_readers(self),
            PrimState::WaitQueue(_) => "not woken".to_string(),
            PrimState::Work(s) => s.describe(self),
            PrimState::Cell(_) | PrimState::Devres(_) => String::new(),
        };
        if holders.is_empty() {
            format!("{}(&{})", wait.op, slot.name)
        } else {
            format!("{}(&{}) [{holders}]", wait.op, slot.name)
        }
    }

    /// Record that every live task is blocked: a deadlock, or a hang if
    /// any of them is spinning (it polls, but nothing can change).
    pub(crate) fn report_deadlock(&mut self, steps: u64) {
        if self.spinning > 0 {
            return self.report_hang(steps);
        }
        let waits = self
            .tasks
            .iter()
            .filter(|t| !t.finished)
            .filter_map(|t| {
                t.wait
                    .filter(|w| w.prim != JOIN)
                    .map(|w| (t.name.to_string(), self.describe_wait(w)))
            })
            .collect();
        self.report(Finding {
            kind: FindingKind::Deadlock,
            detail: Detail::Deadlock { waits },
        });
    }

    /// Record that the step budget ran out.
    pub(crate) fn report_hang(&mut self, steps: u64) {
        let live = self
            .tasks
            .iter()
            .filter(|t| !t.finished)
            .map(|t| {
                let doing = match (t.wait, t.last_event) {
                    (Some(w), _) => format!("waiting in {}", self.describe_wait(w)),
                    (None, Some(e)) => format!("spinning after {}", self.access(e).op),
                    (None, None) => "not started".to_string(),
                };
                (t.name.to_string(), doing)
            })
            .collect();
        self.report(Finding {
            kind: FindingKind::Hang,
            detail: Detail::Hang { steps, live },
        });
    }
}

/// Borrow the current thread's world for the length of `f`.
///
/// `f` must not reach a scheduling point: the world is borrowed mutably.
pub fn with_world<R>(f: impl FnOnce(&mut World) -> R) -> R {
    WORLD.with(|w| f(&mut w.borrow_mut()))
}

/// Start a fresh shuttle execution on this thread with the main task
/// registered.
pub(crate) fn reset(config: WorldConfig) {
    set_backend(Backend::Shuttle);
    set_running(NOT_CACHED);
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
    set_backend(Backend::Loom);
    let me = loom::thread::current();
    with_world(|w| {
        w.reset(WorldConfig {
            race_detection: false,
        });
        register_task(w, 0, Cow::Borrowed("init"), VectorClock::new());
        w.loom_threads.push(Some(me));
    });
}

fn register_task(w: &mut World, id: usize, name: Cow<'static, str>, mut clock: VectorClock) {
    assert!(
        id < MAX_TASKS,
        "a scenario may have at most {MAX_TASKS} tasks"
    );
    while w.tasks.len() <= id {
        w.tasks.push(TaskState {
            name: Cow::Borrowed("?"),
            clock: VectorClock::new(),
            fence_release: VectorClock::new(),
            observed_relaxed: VectorClock::new(),
            unlocked: false,
            wait: None,
            finished: true,
            last_event: None,
            pending: None,
        });
    }
    // What the task's relaxed stores publish before its first fence: the
    // history it was spawned with, not its own events (the spawn is the
    // parent's release, not a fence of the child's).
    let spawned_with = clock;
    clock.tick(id);
    let t = &mut w.tasks[id];
    t.name = name;
    t.clock = clock;
    t.fence_release = spawned_with;
    t.unlocked = false;
    t.finished = false;
    t.pending = None;
    w.live += 1;
}

/// The index of the running task.
pub(crate) fn current_task() -> usize {
    match backend() {
        Backend::Shuttle => match RUNNING.with(Cell::get) {
            NOT_CACHED => usize::from(shuttle::current::me()),
            t => t,
        },
        Backend::Loom => {
            let me = loom::thread::current().id();
            with_world(|w| {
                w.loom_threads
                    .iter()
                    .position(|t| t.as_ref().is_some_and(|t| t.id() == me))
            })
            .expect("every loom thread of a model registers as a task before its first step")
        }
    }
}

/// A scheduling point: let the scheduler run another task (or stop the
/// execution) before the current task's next model operation.
///
/// Skipped while only one task is live, where there is nothing to choose.
pub(crate) fn schedule_point() {
    let must_switch = with_world(|w| w.live > 1 || w.stop);
    if must_switch {
        shuttle_engine::runtime::thread::switch();
        unwind_if_stopped();
    }
}

/// Whether a fatal finding ended the execution.
pub(crate) fn stopped() -> bool {
    with_world(|w| w.stop)
}

/// Under shuttle, once a fatal finding ended the execution, a task that is
/// scheduled again unwinds out of the scenario code (caught where the task
/// and the scenario body start, see [`crate::kernel::spawn_task`]), so that
/// what its stack holds is dropped. Shuttle leaks the stacks of the tasks of
/// an execution its scheduler stops, and with them every driver model they
/// reference: a few hundred bytes per failing execution, without bound over
/// a long campaign. `resume_unwind` does not run the panic hook, so nothing
/// is printed. With `panic = "abort"` the engine stops the execution as
/// before instead.
pub(crate) fn unwind_if_stopped() {
    if cfg!(panic = "unwind") && !std::thread::panicking() && stopped() {
        std::panic::resume_unwind(Box::new(StopExploring));
    }
}

/// Run a task's body (or the scenario's) and swallow the unwind of
/// [`unwind_if_stopped`]; true if the body returned normally. Any other
/// panic goes on unwinding.
pub(crate) fn run_unless_stopped(f: impl FnOnce()) -> bool {
    if stopped() {
        return false;
    }
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(()) => true,
        Err(payload) if payload.is::<StopExploring>() => false,
        Err(payload) => std::panic::resume_unwind(payload),
    }
}

/// The context of one model operation: the world, the running task and the
/// scenario source line that called the operation.
pub(crate) struct Op<'w> {
    pub w: &'w mut World,
    pub me: usize,
    pub site: &'static Location<'static>,
}

/// What a step does to loom's memory before its world update (ignored under
/// shuttle). Each variant is one or two loom branch points.
#[derive(Clone, Copy, Debug)]
pub(crate) enum LoomOp {
    /// Nothing another task can observe or race with (creating a primitive,
    /// bookkeeping): no branch point is needed.
    None,
    /// One read-modify-write with this ordering on the primitive's word,
    /// after loading its owner's liveness word (if it is embedded in an
    /// object).
    Prim(PrimId, MemOrder),
    /// [`LoomOp::Prim`] on two primitives, in this order: one step that
    /// changes both under a lock the model folds into the step (e.g.
    /// `chrdev_open()` taking a reference on the cdev an inode caches, under
    /// `cdev_lock`), so that loom orders it against every operation on
    /// either of them.
    PrimPair(PrimId, PrimId, MemOrder),
    /// A load of the object's liveness word: an access to the object.
    Touch(ObjectId),
    /// A store to the object's liveness word: freeing it.
    Free(ObjectId),
}

/// Perform a step's loom operations. The words are cloned out of the world
/// first: a loom operation may switch to another loom thread, which will
/// borrow the world.
fn loom_prelude(op: LoomOp) {
    type Words = [Option<(LoomWord, MemOrder)>; 2];
    let (alive, words): ([Option<LoomWord>; 2], Words) = with_world(|w| {
        let alive = |o: ObjectId| w.objects[o.0 as usize].alive.clone();
        let prim = |id: PrimId, order: MemOrder| {
            let slot = w.prim(id);
            (
                slot.owner.and_then(alive),
                slot.word.clone().map(|word| (word, order)),
            )
        };
        match op {
            LoomOp::None => ([None, None], [None, None]),
            LoomOp::Prim(id, order) => {
                let (a, word) = prim(id, order);
                ([a, None], [word, None])
            }
            LoomOp::PrimPair(x, y, order) => {
                let (ax, wx) = prim(x, order);
                let (ay, wy) = prim(y, order);
                ([ax, ay], [wx, wy])
            }
            LoomOp::Touch(o) => ([alive(o), None], [None, None]),
            LoomOp::Free(o) => (
                [None, None],
                [alive(o).map(|word| (word, MemOrder::Relaxed)), None],
            ),
        }
    });
    // Accesses only load the liveness word, so accesses commute with each
    // other and only the free orders against them; which value the load
    // returns does not matter (the world knows whether the object is freed).
    for a in alive.into_iter().flatten() {
        a.load(MemOrder::Relaxed);
    }
    // An RMW reads the latest value in modification order: its acquire (if
    // any) takes exactly the releases loom executed before it.
    for (word, order) in words.into_iter().flatten() {
        word.fetch_add(1, order);
    }
}

/// Under loom, end the model run if the step just recorded a fatal finding.
pub(crate) fn stop_if_fatal() {
    if with_world(|w| w.stop) {
        std::panic::panic_any(StopExploring);
    }
}

/// Run one model operation as an atomic step of the current task: a
/// scheduling point, then `f` against the world. Nothing in `f` needs loom's
/// attention (see [`step_on`] and [`step_with`] for the steps that do).
#[track_caller]
pub(crate) fn step<R>(f: impl FnOnce(&mut Op<'_>) -> R) -> R {
    step_at(Location::caller(), LoomOp::None, None, f)
}

/// [`step`] for an access to cell `prim` (`write`: a store or
/// read-modify-write), declared at the scheduling point so that schedulers
/// can tell which pending steps conflict.
#[track_caller]
pub(crate) fn step_access<R>(prim: PrimId, write: bool, f: impl FnOnce(&mut Op<'_>) -> R) -> R {
    let pending = Pending {
        target: Target::Prim(prim),
        write,
    };
    step_at(Location::caller(), LoomOp::None, Some(pending), f)
}

/// [`step`] for an operation on primitive `prim` with the memory ordering
/// `order` of the kernel operation (used by the loom backend).
#[track_caller]
pub(crate) fn step_on<R>(prim: PrimId, order: MemOrder, f: impl FnOnce(&mut Op<'_>) -> R) -> R {
    step_at(Location::caller(), LoomOp::Prim(prim, order), None, f)
}

/// [`step`] whose loom operation depends on the world's state (e.g. which
/// object a devres release frees next).
#[track_caller]
pub(crate) fn step_with<R>(
    loom_op: impl FnOnce(&World) -> LoomOp,
    f: impl FnOnce(&mut Op<'_>) -> R,
) -> R {
    let site = Location::caller();
    // Under shuttle the loom operation is not performed, only read for what
    // the step will act on.
    let op = with_world(|w| loom_op(w));
    step_at(site, op, None, f)
}

/// What a step's loom operation says it acts on: a primitive's word is
/// changed by a read-modify-write, an object's liveness word is only loaded
/// by an access and stored by the free.
fn pending_of(op: LoomOp) -> Option<Pending> {
    let (target, write) = match op {
        LoomOp::None => return None,
        LoomOp::Prim(p, _) | LoomOp::PrimPair(p, _, _) => (Target::Prim(p), true),
        LoomOp::Touch(o) => (Target::Object(o), false),
        LoomOp::Free(o) => (Target::Object(o), true),
    };
    Some(Pending { target, write })
}

fn step_at<R>(
    site: &'static Location<'static>,
    op: LoomOp,
    pending: Option<Pending>,
    f: impl FnOnce(&mut Op<'_>) -> R,
) -> R {
    let loom = backend() == Backend::Loom;
    let me = current_task();
    if loom {
        loom_prelude(op);
    } else {
        let pending = pending.or_else(|| pending_of(op));
        let switch = with_world(|w| {
            if let Some(t) = w.tasks.get_mut(me) {
                t.pending = pending;
            }
            w.live > 1 || w.stop
        });
        if switch {
            shuttle_engine::runtime::thread::switch();
        }
    }
    // The stop check after the switch and the step share one borrow of the
    // world: this runs on every step. A stopped execution hands the step
    // back to unwind.
    let r = with_world(move |w| {
        if !loom && w.stop {
            return Err(f);
        }
        w.wake_spinners(me);
        Ok(f(&mut Op { w, me, site }))
    });
    match r {
        Ok(r) => {
            if loom {
                stop_if_fatal();
            }
            r
        }
        Err(f) => {
            unwind_if_stopped();
            // A build that aborts on panic, or a task already unwinding, does
            // not unwind: it runs the step as if nothing had stopped.
            with_world(|w| {
                w.wake_spinners(me);
                f(&mut Op { w, me, site })
            })
        }
    }
}

/// Run a blocking model operation on primitive `prim`: `attempt` is retried,
/// each time as one step, until it returns `Some`; while it returns `None`
/// the task is parked on `prim` and not scheduled until a release of `prim`
/// wakes it. Under loom each attempt is a read-modify-write of `prim`'s word
/// with ordering `order`; a parked task parks its loom thread until a
/// release unparks it, and a park that leaves every task blocked is
/// reported as a deadlock.
#[track_caller]
pub(crate) fn step_blocking<R>(
    prim: PrimId,
    op: &'static str,
    order: MemOrder,
    mut attempt: impl FnMut(&mut Op<'_>) -> Option<R>,
) -> R {
    let site = Location::caller();
    let loom = backend() == Backend::Loom;
    loop {
        let me = current_task();
        if loom {
            loom_prelude(LoomOp::Prim(prim, order));
        } else {
            with_world(|w| {
                if let Some(t) = w.tasks.get_mut(me) {
                    t.pending = pending_of(LoomOp::Prim(prim, order));
                }
            });
            schedule_point();
        }
        let done = with_world(|w| {
            w.wake_spinners(me);
            let mut cx = Op { w, me, site };
            let r = attempt(&mut cx);
            if r.is_none() {
                cx.block(prim, op);
                if loom && cx.w.all_blocked() {
                    let steps = cx.w.trace.len() as u64;
                    cx.w.report_deadlock(steps);
                }
            }
            r
        });
        if let Some(r) = done {
            return r;
        }
        if loom {
            stop_if_fatal();
            // Only another task's step can wake this one: park until it
            // does (`Op::wake_all` unparks). Parking, not yielding: two
            // waiters yielding to each other would make loom explore their
            // alternation until its branch limit, a false hang. No branch
            // point lies between the check and the park, and an unpark that
            // came first is kept by loom for the park to consume.
            while with_world(|w| w.is_waiting(me)) {
                loom::thread::park();
            }
        }
    }
}

/// `cpu_relax()` in a polling loop: park the current task until another task
/// performs an operation, then let the scheduler run.
///
/// The task parks *before* its scheduling point: parking after it would
/// miss the wake-up of an operation run at that very point. Under loom the
/// task yields instead: loom runs another thread first, and a load the
/// poller repeats after a yield does not return a value it already saw
/// while a newer one exists, so the poll progresses.
#[track_caller]
pub(crate) fn spin_wait() {
    let site = Location::caller();
    let me = current_task();
    let loom = backend() == Backend::Loom;
    with_world(|w| {
        let mut cx = Op { w, me, site };
        cx.record_minor("cpu_relax", Target::None, None);
        if !loom && cx.w.live > 1 {
            cx.w.tasks[me].wait = Some(Wait {
                prim: SPIN,
                op: "cpu_relax",
            });
            cx.w.spinning += 1;
        }
    });
    if loom {
        loom::thread::yield_now();
    } else {
        schedule_point();
    }
}

impl Op<'_> {
    /// Append an event to the trace and return its index.
    pub fn record(&mut self, op: &'static str, target: Target, value: Option<Value>) -> usize {
        self.record_event(op, target, value, false)
    }

    /// Append a bookkeeping event (hidden from race diagrams unless named by
    /// a finding).
    pub fn record_minor(
        &mut self,
        op: &'static str,
        target: Target,
        value: Option<Value>,
    ) -> usize {
        self.record_event(op, target, value, true)
    }

    fn record_event(
        &mut self,
        op: &'static str,
        target: Target,
        value: Option<Value>,
        minor: bool,
    ) -> usize {
        let e = self.w.trace.len();
        self.w.trace.push(Event {
            task: self.me,
            op,
            target,
            value,
            site: self.site,
            minor,
            blocked: false,
        });
        self.w.tasks[self.me].last_event = Some(e);
        e
    }

    /// A barrier the kernel places inside this operation, for the loom
    /// backend: a loom fence, which is not a branch point and so may run
    /// inside the step. Under shuttle the step's clock operations model the
    /// same ordering, and this does nothing.
    pub fn loom_fence(&mut self, order: MemOrder) {
        if backend() == Backend::Loom {
            loom::sync::atomic::fence(order);
        }
    }

    /// Park the current task on `prim`. The attempt is recorded once, not at
    /// every retry.
    fn block(&mut self, prim: PrimId, op: &'static str) {
        let already = self.w.tasks[self.me]
            .last_event
            .map(|e| &self.w.trace[e])
            .is_some_and(|ev| ev.blocked && ev.target == Target::Prim(prim) && ev.op == op);
        if !already {
            let quiet = matches!(&self.w.prim(prim).state, PrimState::Completion(c) if c.quiet());
            let e = self.record_event(op, Target::Prim(prim), None, quiet);
            self.w.trace[e].blocked = true;
        }
        self.w.tasks[self.me].wait = Some(Wait { prim, op });
    }

    /// Wake every task parked on `prim`: they retry their operation.
    ///
    /// Under loom a woken task is also unparked. Loom's unpark is not a
    /// branch point, so it may run while the world is borrowed; it joins the
    /// waker's causality into the woken thread, which adds no ordering the
    /// model lacks: every wake-up follows a release of `prim` by the waker,
    /// and the woken task's retry acquires `prim` anyway.
    pub fn wake_all(&mut self, prim: PrimId) {
        for (i, t) in self.w.tasks.iter_mut().enumerate() {
            if t.wait.is_some_and(|w| w.prim == prim) {
                t.wait = None;
                if let Some(Some(thread)) = self.w.loom_threads.get(i) {
                    thread.unpark();
                }
            }
        }
    }

    /// The current task's epoch (for race detection).
    pub fn epoch(&self) -> Epoch {
        self.w.tasks[self.me].clock.epoch(self.me)
    }

    /// The current task's clock.
    pub fn clock(&self) -> &VectorClock {
        &self.w.tasks[self.me].clock
    }

    /// Acquire: everything published into `clock` happens-before the current
    /// task's later events.
    pub fn acquire(&mut self, clock: &VectorClock) {
        self.w.tasks[self.me].clock.join(clock);
    }

    /// Release into `clock`: the current task's events so far happen-before
    /// whoever acquires it next. Ticks the task's own component so its later
    /// events are not covered.
    pub fn release(&mut self, clock: &mut VectorClock) {
        let t = &mut self.w.tasks[self.me];
        clock.join(&t.clock);
        t.clock.tick(self.me);
    }

    /// Check that `owner` (if any) is still allocated before touching
    /// something embedded in it; on a freed owner, report a use-after-removal
    /// at event `access` and return false.
    pub fn check_owner(&mut self, owner: Option<ObjectId>, access: usize) -> bool {
        let Some(obj) = owner else { return true };
        let slot = &self.w.objects[obj.0 as usize];
        let Some(free_event) = slot.free_event else {
            return true;
        };
        let detail = Detail::UseAfterRemoval {
            object: slot.name.to_string(),
            access: self.w.access(access),
            free: self.w.access(free_event),
            alloc: self.w.access(slot.alloc_event),
        };
        self.w.report(Finding {
            kind: FindingKind::UseAfterRemoval,
            detail,
        });
        false
    }
}

/// Register a task spawned by the current task: it starts with the parent's
/// clock (spawn is a release by the parent, an acquire by the child).
pub(crate) fn spawned(child: usize, name: Cow<'static, str>, parent_clock: VectorClock) {
    with_world(|w| register_task(w, child, name, parent_clock));
}

/// Take a snapshot of the parent's clock for a spawn, ticking it.
pub(crate) fn clock_for_spawn() -> VectorClock {
    let me = current_task();
    with_world(|w| {
        let t = &mut w.tasks[me];
        let c = t.clock;
        t.clock.tick(me);
        w.live += 1;
        c
    })
}

/// Under loom: register a task the current task is about to spawn, and
/// return its index. (Under shuttle a task registers itself with the id the
/// scheduler gave it; loom's thread ids are not indices the world can use.)
pub(crate) fn reserve_loom_task(name: Cow<'static, str>, parent_clock: VectorClock) -> usize {
    with_world(|w| {
        let child = w.tasks.len();
        register_task(w, child, name, parent_clock);
        w.loom_threads.resize(child + 1, None);
        child
    })
}

/// Under loom: the first thing a spawned task does, binding its loom thread
/// to the index its parent reserved.
pub(crate) fn loom_task_started(child: usize) {
    let me = loom::thread::current();
    with_world(|w| w.loom_threads[child] = Some(me));
}

/// Mark the current task finished. Its final clock stays in the world for
/// whoever joins it. Under loom, a task ending while every other live task
/// is blocked leaves a deadlock behind, which the world reports.
pub(crate) fn task_finished() {
    let me = current_task();
    let loom = backend() == Backend::Loom;
    with_world(|w| {
        let t = &mut w.tasks[me];
        t.finished = true;
        t.wait = None;
        w.live -= 1;
        if loom && w.all_blocked() {
            let steps = w.trace.len() as u64;
            w.report_deadlock(steps);
        }
    });
    if loom {
        stop_if_fatal();
    }
}

/// Under loom: the current task is about to block in a join (`true`) or has
/// returned from it (`false`); see [`JOIN`].
pub(crate) fn joining(blocked: bool) {
    let me = current_task();
    with_world(|w| {
        w.tasks[me].wait = blocked.then_some(Wait {
            prim: JOIN,
            op: "join",
        });
    });
}

/// Join task `child`: its whole history happens-before the current task's
/// next events.
pub(crate) fn joined(child: usize) {
    let me = current_task();
    with_world(|w| {
        let c = w.tasks[child].clock;
        w.tasks[me].clock.join(&c);
    });
}

/// The scenario body returned: report every object never freed. Under loom
/// a leak ends the model run like any fatal finding.
pub(crate) fn scenario_completed() {
    report_leaks();
    if backend() == Backend::Loom {
        stop_if_fatal();
    }
}

fn report_leaks() {
    with_world(|w| {
        w.completed = true;
        if w.stop {
            return;
        }
        let leaked: Vec<Finding> = w
            .objects
            .iter()
            .filter(|o| o.free_event.is_none())
            .map(|o| Finding {
                kind: FindingKind::Leak,
                detail: Detail::Leak {
                    object: o.name.to_string(),
                    alloc: w.access(o.alloc_event),
                },
            })
            .collect();
        if let Some(first) = leaked.into_iter().next() {
            w.report(first);
        }
    });
}
