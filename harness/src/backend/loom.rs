//! The loom backend: what loom's C11 model and partial-order reduction must
//! see of each step.
//!
//! Under loom a step starts with at most a couple of loom operations
//! (each one of loom's branch points), then runs its world update with no
//! further branch point, so it is still atomic in loom's execution order:
//!
//! * a primitive's step is one read-modify-write, with the ordering of that
//!   kernel operation (`down_read` acquires, `up_read` releases, `kref_get`
//!   is relaxed, …), on one loom word the primitive owns (`LoomWord`).
//!   Being an RMW, it reads the latest value, so the hand-over it models is
//!   exact: an acquire at that point acquires every release the world's
//!   order put before it, and nothing later. Steps on one primitive are
//!   therefore dependent for loom's partial-order reduction; steps on
//!   different primitives commute, as they do in the world.
//! * a memory cell owns a loom atomic whose loads return the value the
//!   execution reads — that is how store buffering becomes visible — and
//!   loom `UnsafeCell`s on which plain accesses are checked for races
//!   (`LoomCell`).
//! * an object owns a loom word that accesses load and `kfree` stores, so
//!   loom orders every access against the free both ways whenever they are
//!   not ordered by happens-before; the world then reports the access that
//!   comes after the free. Its memory is also a loom `UnsafeCell`
//!   (`LoomBody`) that plain accesses read or write and the free writes,
//!   together with the race-check cells of every memory cell embedded in it:
//!   loom reports an access that came before the free without being ordered
//!   before it as a data race.

use super::{quietly, Backend, BackendKind, Ordering as MemOrder, Spawned, StopExploring};
use crate::clock::{VectorClock, MAX_TASKS};
use crate::kernel::memory::{self, Action, CellState, Ordering as CellOrdering};
use crate::trace::{ObjectId, PrimId};
use crate::world::Prim;
use crate::world::{self, with_world, World};
use loom::cell::UnsafeCell;
use loom::sync::atomic::AtomicU64;
use std::borrow::Cow;
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;

/// The most tasks an execution may have under loom: loom's own thread limit,
/// the main (init) task included.
pub const MAX_LOOM_TASKS: usize = loom::MAX_THREADS;

const _: () = assert!(
    MAX_LOOM_TASKS <= MAX_TASKS,
    "loom tasks must fit the world's clocks"
);

/// A primitive's word under loom: every step on the primitive is one
/// read-modify-write on it.
pub(crate) type LoomWord = Rc<AtomicU64>;

/// A fresh loom word (must be called inside a loom execution).
pub(crate) fn new_word() -> LoomWord {
    Rc::new(AtomicU64::new(0))
}

/// A memory cell as loom sees it.
///
/// The value lives in `value`: marked accesses are loom atomics of their
/// ordering, plain accesses relaxed ones, so every access is a branch point
/// and its value is one loom's C11 model allows.
///
/// Race checks use loom's causality tracking on `UnsafeCell`s, which flag a
/// write concurrent with any access. The kernel's rule is narrower — two
/// conflicting accesses race only if at least one is plain — so the checks
/// are arranged to flag exactly those pairs:
///
/// | access        | `plain`    | `plain_reads[t]`            |
/// |---------------|------------|-----------------------------|
/// | plain read    | read       | write (own task's cell)     |
/// | plain write   | write      | —                           |
/// | marked read   | read       | —                           |
/// | marked write  | read       | read (every task's cell)    |
///
/// A plain write conflicts with everything through `plain`; a plain read
/// with a marked write through the reader's own `plain_reads` cell; two
/// plain reads by different tasks touch different `plain_reads` cells; and
/// marked accesses only ever read both.
pub(crate) struct LoomCell {
    pub(crate) value: AtomicU64,
    plain: UnsafeCell<()>,
    plain_reads: [UnsafeCell<()>; MAX_LOOM_TASKS],
}

impl std::fmt::Debug for LoomCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoomCell")
    }
}

impl LoomCell {
    /// A cell holding `init` (must be called inside a loom execution).
    pub(crate) fn new(init: u64) -> Rc<Self> {
        Rc::new(LoomCell {
            value: AtomicU64::new(init),
            plain: UnsafeCell::new(()),
            plain_reads: std::array::from_fn(|_| UnsafeCell::new(())),
        })
    }

    /// Check an access by task `me` against loom's happens-before; false if
    /// loom found it racing with an earlier access.
    ///
    /// Loom reports a race by panicking, mid-check: the cell's checking
    /// state is left inconsistent, so the caller must not check this cell
    /// again in the same execution.
    pub(crate) fn check(&self, me: usize, plain: bool, write: bool) -> bool {
        let mine = &self.plain_reads[me % MAX_LOOM_TASKS];
        quietly(|| {
            panic::catch_unwind(AssertUnwindSafe(|| match (plain, write) {
                (true, false) => {
                    self.plain.with(|_| ());
                    mine.with_mut(|_| ());
                }
                (true, true) => self.plain.with_mut(|_| ()),
                (false, false) => self.plain.with(|_| ()),
                (false, true) => {
                    self.plain.with(|_| ());
                    for r in &self.plain_reads {
                        r.with(|_| ());
                    }
                }
            }))
            .is_ok()
        })
    }
}

/// An object's own memory as loom sees it (the driver data behind
/// [`Object::read`](crate::kernel::Object::read), not its embedded cells):
/// every access to it is plain, and `kfree()` is a plain write, so one
/// `UnsafeCell` checks them all against loom's happens-before.
pub(crate) struct LoomBody(UnsafeCell<()>);

impl std::fmt::Debug for LoomBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoomBody")
    }
}

impl LoomBody {
    /// A fresh object body (must be called inside a loom execution).
    pub(crate) fn new() -> Rc<Self> {
        Rc::new(LoomBody(UnsafeCell::new(())))
    }

    /// Check a plain read or write against loom's happens-before; false if
    /// it races with an earlier access (then, as for [`LoomCell::check`],
    /// the body must not be checked again in this execution).
    pub(crate) fn check(&self, write: bool) -> bool {
        quietly(|| {
            panic::catch_unwind(AssertUnwindSafe(|| {
                if write {
                    self.0.with_mut(|_| ());
                } else {
                    self.0.with(|_| ());
                }
            }))
            .is_ok()
        })
    }
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
pub(crate) fn loom_prelude(op: LoomOp) {
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

/// Under loom, end the model run if the step just recorded a fatal finding
/// (loom has no other way to stop exploring).
pub(crate) fn stop_if_fatal() {
    if with_world(|w| w.stop) {
        std::panic::panic_any(StopExploring);
    }
}

/// The loom runtime: tasks are loom threads, a step's scheduling point is
/// its loom operations, a parked task parks its loom thread.
pub(crate) struct LoomBackend;

/// The one loom backend.
pub(crate) static LOOM: LoomBackend = LoomBackend;

impl Backend for LoomBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Loom
    }

    fn current_task(&self) -> usize {
        // Loom's thread ids are not indices the world can use: each task
        // registered its loom thread when it started.
        let me = loom::thread::current().id();
        with_world(|w| {
            w.loom_threads
                .iter()
                .position(|t| t.as_ref().is_some_and(|t| t.id() == me))
        })
        .expect("every loom thread of a model registers as a task before its first step")
    }

    fn before_step(&self, op: LoomOp) {
        loom_prelude(op);
    }

    fn orders_steps(&self) -> bool {
        true
    }

    fn unwinds_when_stopped(&self) -> bool {
        false
    }

    fn after_step(&self) {
        stop_if_fatal();
    }

    fn parked(&self, w: &mut World) {
        if w.all_blocked() {
            let steps = w.trace.len() as u64;
            w.report_deadlock(steps);
        }
    }

    fn wait_until_woken(&self, me: usize) {
        stop_if_fatal();
        // Only another task's step can wake this one: park until it does
        // (`Op::wake_all` unparks). Parking, not yielding: two waiters
        // yielding to each other would make loom explore their alternation
        // until its branch limit, a false hang. No branch point lies between
        // the check and the park, and an unpark that came first is kept by
        // loom for the park to consume.
        while with_world(|w| w.is_waiting(me)) {
            loom::thread::park();
        }
    }

    fn wake(&self, w: &World, task: usize) {
        // Loom's unpark is not a branch point, so it may run while the world
        // is borrowed; it joins the waker's causality into the woken thread,
        // which adds no ordering the model lacks: every wake-up follows a
        // release by the waker, and the woken task's retry acquires anyway.
        if let Some(Some(thread)) = w.loom_threads.get(task) {
            thread.unpark();
        }
    }

    fn cpu_relax(&self, _me: usize) {
        // Loom runs another thread first, and a load the poller repeats
        // after a yield does not return a value it already saw while a newer
        // one exists, so the poll progresses.
        loom::thread::yield_now();
    }

    fn fence(&self, order: MemOrder) {
        loom::sync::atomic::fence(order);
    }

    fn new_word(&self) -> Option<LoomWord> {
        Some(new_word())
    }

    fn new_body(&self) -> Option<Rc<LoomBody>> {
        Some(LoomBody::new())
    }

    fn new_cell(&self, raw: u64) -> Option<Rc<LoomCell>> {
        Some(LoomCell::new(raw))
    }

    fn spawn(
        &self,
        name: Cow<'static, str>,
        clock: VectorClock,
        f: Box<dyn FnOnce() + Send>,
    ) -> Spawned {
        let child = world::reserve_loom_task(name, clock);
        let handle = loom::thread::spawn(move || {
            world::loom_task_started(child);
            f();
            world::task_finished();
        });
        Spawned::Loom { id: child, handle }
    }

    fn task_ended(&self, w: &mut World) {
        self.parked(w);
    }

    fn cell_access(
        &self,
        site: crate::trace::Site,
        id: Prim<CellState>,
        op: &'static str,
        ord: CellOrdering,
        action: Action,
    ) -> u64 {
        memory::loom_cell_access(site, id, op, ord, action)
    }
}
