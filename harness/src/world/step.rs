//! The step protocol: every model operation is one atomic step of the
//! running task — a scheduling point, then the operation against the world
//! with no further interleaving.

use super::{with_world, Prim, PrimitiveState, Wait, World};
use crate::backend::loom::LoomOp;
use crate::backend::Ordering as MemOrder;
use crate::backend::{backend, Backend, StopExploring};
use crate::clock::{Epoch, VectorClock};
use crate::finding::{Access, Finding};
use crate::scheduler::Pending;
use crate::trace::{Event, ObjectId, PrimId, Target, Value};
use std::borrow::Cow;
use std::cell::Cell;

/// A scheduling point: let the scheduler run another task (or stop the
/// execution) before the current task's next model operation.
///
/// Skipped while only one task is live, where there is nothing to choose.
pub(crate) fn schedule_point() {
    backend().before_step(LoomOp::None);
    unwind_if_stopped();
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
///
/// The native runtime retires the task here instead (see
/// [`Backend::retire`]): the call returns, much later, once the execution
/// has been recorded, and the task runs on to its end unrecorded.
pub(crate) fn unwind_if_stopped() {
    if cfg!(panic = "unwind") && !std::thread::panicking() && stopped() && !backend().retire() {
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
///
/// A primitive's operation receives one inside [`step`], [`step_on`] or
/// [`step_blocking`] and must not reach a scheduling point while holding it
/// (nothing it offers can).
pub struct Op<'w> {
    pub(crate) w: &'w mut World,
    pub(crate) me: usize,
    pub(crate) site: crate::trace::Site,
}

/// Run one model operation as an atomic step of the current task: a
/// scheduling point, then `f` against the world. Nothing in `f` needs loom's
/// attention (see [`step_on`] for the steps that do).
// The step functions below are `#[inline]`: each is a thin layer over the
// next, run at every step, and a call per layer (each moving the
// operation's closure) costs more than the work it wraps.
#[track_caller]
#[inline]
pub fn step<R>(f: impl FnOnce(&mut Op<'_>) -> R) -> R {
    step_at(crate::trace::Site::caller(), LoomOp::None, f)
}

/// [`step`] for an operation on primitive `prim` with the memory ordering
/// `order` of the kernel operation (used by the loom backend).
#[track_caller]
#[inline]
pub fn step_on<R>(prim: impl Into<PrimId>, order: MemOrder, f: impl FnOnce(&mut Op<'_>) -> R) -> R {
    step_at(
        crate::trace::Site::caller(),
        LoomOp::Prim(prim.into(), order),
        f,
    )
}

/// [`step`] whose loom operation depends on the world's state (e.g. which
/// object a devres release frees next).
#[track_caller]
pub(crate) fn step_with<R>(
    loom_op: impl FnOnce(&World) -> LoomOp,
    f: impl FnOnce(&mut Op<'_>) -> R,
) -> R {
    let site = crate::trace::Site::caller();
    // Where the backend does not perform the loom operation it is still read
    // for what the step will act on, if a scheduler asks (see `note_pending`).
    let op = if backend().orders_steps() || TRACK_PENDING.with(Cell::get) {
        with_world(|w| loom_op(w))
    } else {
        LoomOp::None
    };
    step_at(site, op, f)
}

/// What a step's loom operation says it acts on: a primitive's word is
/// changed by a read-modify-write, an object's liveness word is only loaded
/// by an access and stored by the free.
#[inline]
fn pending_of(op: LoomOp) -> Option<Pending> {
    let (target, write) = match op {
        LoomOp::None => return None,
        LoomOp::Prim(p, _) | LoomOp::PrimPair(p, _, _) => (Target::Prim(p), true),
        LoomOp::Touch(o) => (Target::Object(o), false),
        LoomOp::Free(o) => (Target::Object(o), true),
    };
    Some(Pending { target, write })
}

thread_local! {
    /// Whether this execution's scheduler reads pending steps: off unless
    /// the shuttle adapter's scheduler asks, so every other execution (loom,
    /// shuttle's own schedulers, the explorers that do not ask) takes no
    /// extra world borrow per step.
    static TRACK_PENDING: Cell<bool> = const { Cell::new(false) };
}

/// Whether steps note what they will act on for the scheduler, for the
/// execution about to start ([`super::reset`] turns it off).
pub(crate) fn track_pending(on: bool) {
    TRACK_PENDING.with(|t| t.set(on));
}

/// Note, at the running task's scheduling point, what its next step acts
/// on, for the engine's schedulers that order conflicting steps.
#[inline]
fn note_pending(b: &dyn Backend, pending: Option<Pending>) {
    if !TRACK_PENDING.with(Cell::get) {
        return;
    }
    let me = b.current_task();
    with_world(|w| {
        if let Some(t) = w.tasks.get_mut(me) {
            t.pending = pending;
        }
    });
}

/// [`step_at`] for an access to cell `prim` (`write`: a store or
/// read-modify-write), declared at the scheduling point so that schedulers
/// can tell which pending steps conflict.
pub(crate) fn step_access_at<R>(
    site: crate::trace::Site,
    prim: PrimId,
    write: bool,
    f: impl FnOnce(&mut Op<'_>) -> R,
) -> R {
    let pending = Pending {
        target: Target::Prim(prim),
        write,
    };
    step_declared(site, LoomOp::None, Some(pending), f)
}

/// [`step`] at an explicit call site with an explicit loom operation.
#[inline]
pub(crate) fn step_at<R>(
    site: crate::trace::Site,
    op: LoomOp,
    f: impl FnOnce(&mut Op<'_>) -> R,
) -> R {
    step_declared(site, op, pending_of(op), f)
}

/// [`step_at`] with the pending operation declared.
#[inline]
fn step_declared<R>(
    site: crate::trace::Site,
    op: LoomOp,
    pending: Option<Pending>,
    f: impl FnOnce(&mut Op<'_>) -> R,
) -> R {
    let b = backend();
    note_pending(b, pending);
    b.before_step(op);
    let unwinds = b.unwinds_when_stopped();
    let me = b.current_task();
    // The stop check after the switch and the step share one borrow of the
    // world: this runs on every step. A stopped execution hands the step
    // back to unwind.
    let r = with_world(move |w| {
        if unwinds && w.stop {
            return Err(f);
        }
        w.wake_spinners(me);
        Ok(f(&mut Op { w, me, site }))
    });
    match r {
        Ok(r) => {
            b.after_step();
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
pub fn step_blocking<R>(
    prim: impl Into<PrimId>,
    op: &'static str,
    order: MemOrder,
    mut attempt: impl FnMut(&mut Op<'_>) -> Option<R>,
) -> R {
    let site = crate::trace::Site::caller();
    let prim = prim.into();
    let b = backend();
    loop {
        note_pending(b, pending_of(LoomOp::Prim(prim, order)));
        b.before_step(LoomOp::Prim(prim, order));
        if b.unwinds_when_stopped() {
            unwind_if_stopped();
        }
        let me = b.current_task();
        let done = with_world(|w| {
            w.wake_spinners(me);
            let mut cx = Op { w, me, site };
            let r = attempt(&mut cx);
            if r.is_none() {
                cx.block(prim, op);
                b.parked(cx.w);
            }
            r
        });
        if let Some(r) = done {
            return r;
        }
        b.wait_until_woken(me);
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
    let site = crate::trace::Site::caller();
    let b = backend();
    let me = b.current_task();
    with_world(|w| {
        let mut cx = Op { w, me, site };
        cx.record_minor("cpu_relax", Target::None, None);
    });
    b.cpu_relax(me);
}

impl Op<'_> {
    /// Append an event to the trace and return its index.
    #[inline]
    pub fn record(&mut self, op: &'static str, target: Target, value: Option<Value>) -> usize {
        self.record_event(op, target, value, false)
    }

    /// Append a bookkeeping event (hidden from race diagrams unless named by
    /// a finding).
    #[inline]
    pub fn record_minor(
        &mut self,
        op: &'static str,
        target: Target,
        value: Option<Value>,
    ) -> usize {
        self.record_event(op, target, value, true)
    }

    // Inlined into `record` and `record_minor`: the event is written
    // straight into the trace, not built and moved through a call.
    #[inline]
    fn record_event(
        &mut self,
        op: &'static str,
        target: Target,
        value: Option<Value>,
        minor: bool,
    ) -> usize {
        let e = self.w.trace.len();
        let task = &mut self.w.tasks[self.me];
        let caller = task.callers.last().copied();
        task.last_event = Some(e);
        self.w.trace.push(Event {
            task: self.me,
            op,
            target,
            value,
            site: self.site,
            minor,
            blocked: false,
            caller,
        });
        e
    }

    /// A barrier the kernel places inside this operation, for the loom
    /// backend: a loom fence, which is not a branch point and so may run
    /// inside the step. Under shuttle the step's clock operations model the
    /// same ordering, and this does nothing.
    pub fn loom_fence(&mut self, order: MemOrder) {
        backend().fence(order);
    }

    /// Park the current task on `prim`. The attempt is recorded once, not at
    /// every retry.
    fn block(&mut self, prim: PrimId, op: &'static str) {
        let already = self.w.tasks[self.me]
            .last_event
            .map(|e| &self.w.trace[e])
            .is_some_and(|ev| ev.blocked && ev.target == Target::Prim(prim) && ev.op == op);
        if !already {
            let quiet = self.w.prim(prim).state.quiet_wait();
            let e = self.record_event(op, Target::Prim(prim), None, quiet);
            self.w.trace[e].blocked = true;
        }
        self.w.set_wait(self.me, Some(Wait { prim, op }));
    }

    /// Wake every task parked on `prim`: they retry their operation.
    ///
    /// Under loom a woken task is also unparked. Loom's unpark is not a
    /// branch point, so it may run while the world is borrowed; it joins the
    /// waker's causality into the woken thread, which adds no ordering the
    /// model lacks: every wake-up follows a release of `prim` by the waker,
    /// and the woken task's retry acquires `prim` anyway.
    pub fn wake_all(&mut self, prim: impl Into<PrimId>) {
        let prim = prim.into();
        // Most releases find nobody parked.
        if !self.w.any_waiting() {
            return;
        }
        for i in 0..self.w.tasks.len() {
            if self.w.tasks[i].wait.is_some_and(|w| w.prim == prim) {
                self.w.set_wait(i, None);
                backend().wake(self.w, i);
            }
        }
    }

    /// The running task's index (0 is the scenario's own task, `init`).
    pub fn me(&self) -> usize {
        self.me
    }

    /// The owner of primitive `p`: the object it is embedded in, if any
    /// (for [`Op::check_owner`]).
    pub fn owner(&self, p: impl Into<PrimId>) -> Option<ObjectId> {
        self.w.prim(p).owner
    }

    /// Raise a finding (a value, never a panic). A fatal one ends the
    /// execution at the next scheduling point: under shuttle the other tasks
    /// unwind out of the scenario there, under loom the model run ends.
    /// Only the first fatal finding of an execution is kept.
    pub fn report(&mut self, finding: Finding) {
        self.w.report(finding);
    }

    /// An [`Access`] naming trace event `e` (task, operation, source line),
    /// for the detail of a finding.
    pub fn access(&self, e: usize) -> Access {
        self.w.access(e)
    }

    /// The state of primitive `p`.
    pub fn state<S: PrimitiveState>(&mut self, p: Prim<S>) -> &mut S {
        self.w.state_mut(p)
    }

    /// Create a primitive named `name` with initial state `state`, embedded
    /// in `owner` (if any): a step on it once `owner` is freed is a
    /// use-after-removal.
    pub fn add_prim<S: PrimitiveState>(
        &mut self,
        name: impl Into<Cow<'static, str>>,
        owner: Option<ObjectId>,
        state: S,
    ) -> Prim<S> {
        self.w.add_prim(name.into(), owner, state)
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
    #[inline]
    pub fn check_owner(&mut self, owner: Option<ObjectId>, access: usize) -> bool {
        // The owner is alive at nearly every step: that test is inlined,
        // the report is not.
        let Some(obj) = owner else { return true };
        if self.w.objects[obj.0 as usize].free_event.is_none() {
            return true;
        }
        self.owner_freed(obj, access)
    }

    /// [`Op::check_owner`] on a freed owner: report the use-after-removal.
    #[cold]
    #[inline(never)]
    fn owner_freed(&mut self, obj: ObjectId, access: usize) -> bool {
        let slot = &self.w.objects[obj.0 as usize];
        let Some(free_event) = slot.free_event else {
            return true;
        };
        if self.w.stop {
            // Only the first fatal finding is kept (see `World::report`):
            // nothing to render.
            return false;
        }
        self.w.report_use_after_removal(obj, access, free_event);
        false
    }
}
