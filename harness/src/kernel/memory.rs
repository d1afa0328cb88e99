//! Memory with lifetimes: objects that removal frees (KASAN-checked), and the
//! [`Plain`] cells embedded in them whose accesses are checked for data races.

use crate::backend::loom::{stop_if_fatal, LoomCell};
use crate::backend::{backend, Ordering as MemOrder};
use crate::clock::{Epoch, VectorClock, MAX_TASKS};
use crate::finding::{Detail, Finding, FindingKind};
use crate::trace::{ObjectId, PrimId, Target, Value};
use crate::world::{
    current_task, step, step_access_at, step_with, with_world, LoomOp, ObjectSlot, Op, Prim,
    PrimitiveState,
};
use std::borrow::Cow;
use std::marker::PhantomData;
use std::rc::Rc;

/// A model object: one heap allocation of the driver (`struct cxl_mem`,
/// `struct cxl_memdev`, …). Freeing it poisons it; any later access through
/// the model is a use-after-removal naming both sites. Its own memory is
/// read and written with plain C accesses ([`Object::read`],
/// [`Object::write`]), race-checked like any plain access, and `kfree()` is
/// a plain write of all of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Object {
    pub(crate) id: ObjectId,
}

impl Object {
    pub(crate) fn from_id(id: ObjectId) -> Self {
        Object { id }
    }

    /// The object's id (for pointer values).
    pub fn id(self) -> ObjectId {
        self.id
    }

    /// A read of the object's memory, e.g. the ioctl dereferencing `cxlm`.
    #[track_caller]
    pub fn read(self) {
        self.touch("read");
    }

    /// A write to the object's memory.
    #[track_caller]
    pub fn write(self) {
        self.touch("write");
    }

    /// An access to the object's own memory: a use-after-removal if it is
    /// freed, else a plain access checked for data races (driver data is
    /// read and written with plain C accesses).
    #[track_caller]
    fn touch(self, op: &'static str) {
        let write = op == "write";
        step_with(
            |_| LoomOp::Touch(self.id),
            |cx| {
                let e = cx.record(op, Target::Object(self.id), None);
                if cx.check_owner(Some(self.id), e) {
                    object_access(cx, self.id, e, write);
                }
            },
        );
    }
}

/// Race-check a plain access (event `e`) to object `id`'s own memory.
fn object_access(cx: &mut Op<'_>, id: ObjectId, e: usize, write: bool) {
    let me = cx.me;
    let now = *cx.clock();
    let stamp = AccessStamp {
        epoch: cx.epoch(),
        event: e as u32,
        marked: false,
        valid: true,
    };
    let detect = cx.w.config.race_detection;
    let slot = &mut cx.w.objects[id.0 as usize];
    // Under loom, loom's happens-before decides (the world's own detector is
    // off there); the world's history only names the partner.
    // Only objects of a loom execution have a loom body.
    let racing = match slot.body.clone() {
        Some(body) if !slot.raced && !body.check(write) => {
            slot.raced = true;
            Some(slot.history.latest_conflict(me, false, write).unwrap_or(e))
        }
        None if detect => slot.history.racing(&now, me, false, write),
        _ => None,
    };
    slot.history.record(&now, stamp, write);
    if let Some(first) = racing {
        report_race(cx, Target::Object(id), first, e);
    }
}

/// Allocate an object named `name` (`kzalloc(sizeof(*cxlm), GFP_KERNEL)`).
#[track_caller]
pub fn kzalloc(name: impl Into<Cow<'static, str>>) -> Object {
    let name = name.into();
    step(|cx| alloc_object(cx, name))
}

pub(crate) fn alloc_object(cx: &mut Op<'_>, name: Cow<'static, str>) -> Object {
    let id = ObjectId(cx.w.objects.len() as u32);
    let e = cx.record_minor("kzalloc", Target::None, None);
    cx.w.objects.push(ObjectSlot {
        name,
        alloc_event: e,
        free_event: None,
        alive: backend().new_word(),
        history: History::default(),
        body: backend().new_body(),
        raced: false,
    });
    cx.w.trace[e].target = Target::Object(id);
    Object { id }
}

/// Free an object (`kfree()`); a second free is a double free (KASAN's
/// "double-free" report from `kasan_slab_free()`: the object is already in
/// quarantine), naming both frees.
///
/// The free is a plain write over the whole object, as KCSAN treats a slab
/// free (`slab_free_hook()` in mm/slub.c checks the object as written): any
/// access to the object's memory or to a cell embedded in it — marked or
/// not — that does not happen-before the free races with it.
#[track_caller]
pub fn kfree(obj: Object) {
    step_with(|_| LoomOp::Free(obj.id), |cx| free_object(cx, obj, "kfree"));
}

pub(crate) fn free_object(cx: &mut Op<'_>, obj: Object, op: &'static str) {
    let e = cx.record(op, Target::Object(obj.id), None);
    let slot = &cx.w.objects[obj.id.0 as usize];
    if let Some(first) = slot.free_event {
        let detail = Detail::DoubleFree {
            object: slot.name.to_string(),
            free: cx.w.access(e),
            first_free: cx.w.access(first),
            alloc: cx.w.access(slot.alloc_event),
        };
        cx.w.report(Finding {
            kind: FindingKind::DoubleFree,
            detail,
        });
        return;
    }
    cx.w.objects[obj.id.0 as usize].free_event = Some(e);
    object_access(cx, obj.id, e, true);
    // By index, without collecting them first: every free walks the
    // primitives, and freeing a cell adds none.
    for i in 0..cx.w.prims.len() as u32 {
        let slot = &cx.w.prims[i as usize];
        if slot.owner == Some(obj.id) && slot.is::<CellState>() {
            free_cell(cx, Prim::new(PrimId(i)), e);
        }
    }
}

/// The free (event `e`) as a plain write to cell `id` embedded in the object.
fn free_cell(cx: &mut Op<'_>, id: Prim<CellState>, e: usize) {
    let me = cx.me;
    let now = *cx.clock();
    let stamp = AccessStamp {
        epoch: cx.epoch(),
        event: e as u32,
        marked: false,
        valid: true,
    };
    let detect = cx.w.config.race_detection;
    let c = cell(cx, id);
    // Only cells of a loom execution have a loom cell.
    let racing = match c.loom.clone() {
        Some(lc) if !c.raced && !lc.check(me, true, true) => {
            c.raced = true;
            Some(c.history.latest_conflict(me, false, true).unwrap_or(e))
        }
        None if detect => c.history.racing(&now, me, false, true),
        _ => None,
    };
    c.history.record(&now, stamp, true);
    if let Some(first) = racing {
        report_race(cx, Target::Prim(id.into()), first, e);
    }
}

/// How a value of a cell is stored in the world (as a `u64`) and shown.
pub trait CellValue: Copy + 'static {
    /// Encode for storage.
    fn encode(self) -> u64;
    /// Decode from storage.
    fn decode(raw: u64) -> Self;
    /// Typed for display in traces.
    fn display(raw: u64) -> Value;
}

impl CellValue for bool {
    fn encode(self) -> u64 {
        self as u64
    }
    fn decode(raw: u64) -> Self {
        raw != 0
    }
    fn display(raw: u64) -> Value {
        Value::Bool(raw != 0)
    }
}

impl CellValue for i64 {
    fn encode(self) -> u64 {
        self as u64
    }
    fn decode(raw: u64) -> Self {
        raw as i64
    }
    fn display(raw: u64) -> Value {
        Value::Int(raw as i64)
    }
}

/// A pointer to a model object, or NULL.
impl CellValue for Option<Object> {
    fn encode(self) -> u64 {
        self.map_or(0, |o| o.id.0 as u64 + 1)
    }
    fn decode(raw: u64) -> Self {
        raw.checked_sub(1).map(|i| Object {
            id: ObjectId(i as u32),
        })
    }
    fn display(raw: u64) -> Value {
        Value::Ptr(raw.checked_sub(1).map(|i| ObjectId(i as u32)))
    }
}

/// One access in a location's history: when (the accessing task's epoch),
/// at which event, and whether it was marked.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct AccessStamp {
    pub epoch: Epoch,
    pub event: u32,
    pub marked: bool,
    pub valid: bool,
}

impl AccessStamp {
    /// Whether this access was made by another task than `me` and does not
    /// happen-before the present of the task whose clock is `now`.
    fn unordered(&self, now: &VectorClock, me: usize) -> bool {
        self.valid && self.epoch.task != me && !now.covers(self.epoch)
    }
}

/// The access history of one memory location, as the data-race detector
/// needs it (FastTrack, extended with the kernel's marked accesses).
///
/// The kernel's rule (tools/memory-model, "PLAIN ACCESSES AND DATA RACES" in
/// its explanation.txt; KCSAN reports the same pairs): two accesses race if
/// they conflict (same location, at least one a write), at least one of them
/// is plain, and neither happens-before the other. Marked accesses never race
/// with each other, so a marked access must not hide a plain one from later
/// checks: plain and marked accesses are kept apart.
///
/// * `plain_write`: the last plain write. Plain writes are totally ordered
///   with every other write, or a race has been reported, so one suffices.
/// * `marked_writes[t]`: task `t`'s last marked write since then. Marked
///   writes of different tasks may be concurrent; a later plain access must
///   be checked against each of them.
/// * `plain_reads[t]`, `marked_reads[t]`: task `t`'s last read of each kind.
///   A later read of a task supersedes its earlier one of the same kind (any
///   write unordered with the earlier read is unordered with the later one).
///
/// What a write may forget: a plain write forgets everything before it
/// (a later access unordered with an earlier one is either ordered after the
/// plain write, and so after everything it followed, or races with the plain
/// write itself). A marked write forgets only the marked reads and marked
/// writes that happen-before it; it forgets no plain read at all — a later
/// marked write unordered with it must still be checked against them — and
/// not the last plain write.
#[derive(Clone, Debug, Default)]
pub(crate) struct History {
    plain_write: AccessStamp,
    marked_writes: PerTask,
    plain_reads: PerTask,
    marked_reads: PerTask,
}

/// One access per task, with the set of tasks that have one: checks walk
/// only those (a scenario has a handful of tasks of its sixteen), and
/// forgetting them all is clearing the set.
#[derive(Clone, Debug, Default)]
struct PerTask {
    tasks: u16,
    /// Per task: its time at the access and the access's event.
    at: [(u32, u32); MAX_TASKS],
}

const _: () = assert!(MAX_TASKS <= u16::BITS as usize, "a task set is a u16");

impl PerTask {
    fn set(&mut self, s: AccessStamp) {
        self.tasks |= 1 << s.epoch.task;
        self.at[s.epoch.task] = (s.epoch.time, s.event);
    }

    fn stamps(&self, marked: bool) -> impl Iterator<Item = AccessStamp> + '_ {
        let mut left = self.tasks;
        std::iter::from_fn(move || {
            if left == 0 {
                return None;
            }
            let task = left.trailing_zeros() as usize;
            left &= left - 1;
            let (time, event) = self.at[task];
            Some(AccessStamp {
                epoch: Epoch { task, time },
                event,
                marked,
                valid: true,
            })
        })
    }

    /// Forget the accesses that happen-before the present of `now`.
    fn forget_covered(&mut self, now: &VectorClock) {
        let mut left = self.tasks;
        while left != 0 {
            let task = left.trailing_zeros() as usize;
            left &= left - 1;
            let time = self.at[task].0;
            if now.covers(Epoch { task, time }) {
                self.tasks &= !(1 << task);
            }
        }
    }
}

impl History {
    /// The earlier accesses an access of this kind conflicts with, in the
    /// kernel's sense: same location, at least one a write, at least one
    /// plain.
    fn conflicting(&self, marked: bool, write: bool) -> impl Iterator<Item = AccessStamp> + '_ {
        let marked_writes = (!marked).then(|| self.marked_writes.stamps(true));
        let plain_reads = write.then(|| self.plain_reads.stamps(false));
        let marked_reads = (write && !marked).then(|| self.marked_reads.stamps(true));
        std::iter::once(self.plain_write)
            .filter(|s| s.valid)
            .chain(marked_writes.into_iter().flatten())
            .chain(plain_reads.into_iter().flatten())
            .chain(marked_reads.into_iter().flatten())
    }

    /// The event of the latest earlier access that races with an access by
    /// task `me` (clock `now`, marked or plain, write or read), if any.
    pub(crate) fn racing(
        &self,
        now: &VectorClock,
        me: usize,
        marked: bool,
        write: bool,
    ) -> Option<usize> {
        self.conflicting(marked, write)
            .filter(|s| s.unordered(now, me))
            .map(|s| s.event as usize)
            .max()
    }

    /// The event of the latest earlier access by another task that conflicts
    /// with this one, ordered or not: the partner named when another checker
    /// (loom's) found the race.
    pub(crate) fn latest_conflict(&self, me: usize, marked: bool, write: bool) -> Option<usize> {
        self.conflicting(marked, write)
            .filter(|s| s.epoch.task != me)
            .map(|s| s.event as usize)
            .max()
    }

    /// Add an access (already checked) by the task whose clock is `now`.
    pub(crate) fn record(&mut self, now: &VectorClock, stamp: AccessStamp, write: bool) {
        match (write, stamp.marked) {
            (false, false) => self.plain_reads.set(stamp),
            (false, true) => self.marked_reads.set(stamp),
            (true, false) => {
                self.plain_write = stamp;
                self.marked_writes.tasks = 0;
                self.plain_reads.tasks = 0;
                self.marked_reads.tasks = 0;
            }
            (true, true) => {
                self.marked_reads.forget_covered(now);
                self.marked_writes.forget_covered(now);
                self.marked_writes.set(stamp);
            }
        }
    }
}

/// A memory cell's state: its value, the clock its last release published,
/// and the access history the race detector needs.
#[derive(Debug)]
pub(crate) struct CellState {
    pub raw: u64,
    pub display: fn(u64) -> Value,
    /// Published by `smp_store_release` / `rcu_assign_pointer`, or by a
    /// relaxed store carrying its task's last fence.
    pub clock: VectorClock,
    pub history: History,
    /// Under loom: the cell's value and race checks.
    pub loom: Option<Rc<LoomCell>>,
    /// Under loom: a race on this cell was reported in this execution, and
    /// loom's checking state for it is spent.
    pub raced: bool,
}

/// Cells are primitives without holders: nothing to describe.
impl PrimitiveState for CellState {}

impl CellState {
    /// A cell's initial state.
    pub(crate) fn new(raw: u64, display: fn(u64) -> Value) -> Self {
        CellState {
            raw,
            display,
            clock: VectorClock::new(),
            history: History::default(),
            loom: backend().new_cell(raw),
            raced: false,
        }
    }
}

/// How a cell access is ordered, for race detection and happens-before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ordering {
    /// A plain C access: races with any unordered conflicting access.
    Plain,
    /// `READ_ONCE` / `WRITE_ONCE` / relaxed atomics.
    Relaxed,
    /// `smp_load_acquire` / `srcu_dereference` (dependency ordering treated
    /// as acquire) / `smp_store_release` / `rcu_assign_pointer`.
    AcquireRelease,
}

/// A memory cell of the driver: a field such as `kobj.state_in_sysfs` or
/// `cxlmd->cxlm`. Its plain accesses ([`Plain::read`], [`Plain::write`]) are
/// what the kernel memory model calls plain C accesses; the marked accessors
/// (`READ_ONCE`, `WRITE_ONCE`, …) take the same cell, as in C.
pub struct Plain<T: CellValue> {
    pub(crate) id: Prim<CellState>,
    _t: PhantomData<fn() -> T>,
}

impl<T: CellValue> Clone for Plain<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: CellValue> Copy for Plain<T> {}

impl<T: CellValue> Plain<T> {
    /// A cell named `name` holding `init`, embedded in `owner` if given (so
    /// touching it after the owner is freed is a use-after-removal).
    #[track_caller]
    pub fn new(name: impl Into<Cow<'static, str>>, owner: Option<Object>, init: T) -> Self {
        let name = name.into();
        step(|cx| Self::create(cx, name, owner, init))
    }

    pub(crate) fn create(
        cx: &mut Op<'_>,
        name: Cow<'static, str>,
        owner: Option<Object>,
        init: T,
    ) -> Self {
        let id = cx.add_prim(
            name,
            owner.map(|o| o.id),
            CellState::new(init.encode(), T::display),
        );
        Plain {
            id,
            _t: PhantomData,
        }
    }

    /// A plain load.
    #[track_caller]
    pub fn read(&self) -> T {
        T::decode(cell_access(self.id, "read", Ordering::Plain, Action::Load))
    }

    /// A plain load made inside the kernel helper `op` (named in traces as
    /// `op  [cell == value]`), e.g. `device_is_registered()`.
    #[track_caller]
    pub(crate) fn read_in(&self, op: &'static str) -> T {
        T::decode(cell_access(self.id, op, Ordering::Plain, Action::Load))
    }

    /// A plain store made inside the kernel helper `op` (named in traces as
    /// `op  [cell = value]`), e.g. `cdev_device_del()`.
    #[track_caller]
    pub(crate) fn write_in(&self, op: &'static str, v: T) {
        cell_access(self.id, op, Ordering::Plain, Action::Store(v.encode()));
    }

    /// A plain store.
    #[track_caller]
    pub fn write(&self, v: T) {
        cell_access(self.id, "write", Ordering::Plain, Action::Store(v.encode()));
    }
}

/// What an access does to a cell.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Action {
    /// Load the value.
    Load,
    /// Store this value.
    Store(u64),
    /// Add this (two's complement) delta, indivisibly.
    Add(u64),
    /// `xchg()` / `cmpxchg()`: store `new` if the value equals `expect`
    /// (always, if `None`), indivisibly, with the kernel ordering `order`
    /// on success; a failed compare-and-exchange is a relaxed load.
    Exchange {
        /// The value to store.
        new: u64,
        /// The value a compare-and-exchange expects.
        expect: Option<u64>,
        /// The ordering of a successful exchange.
        order: RmwOrder,
    },
    /// A value-returning read-modify-write (`atomic_add_return()`,
    /// `test_and_set_bit()` and friends): apply `op` indivisibly, with the
    /// kernel ordering `order`, returning the old value.
    Fetch {
        /// What the RMW does to the value.
        op: FetchOp,
        /// The operation's ordering.
        order: RmwOrder,
    },
}

/// The arithmetic of a [`Action::Fetch`].
#[derive(Clone, Copy, Debug)]
pub(crate) enum FetchOp {
    /// `atomic_fetch_add()`: add this two's complement delta.
    Add(u64),
    /// `atomic_long_fetch_or()`: set these bits.
    Or(u64),
    /// `atomic_long_fetch_andnot()`: clear these bits.
    AndNot(u64),
}

impl FetchOp {
    fn apply(self, old: u64) -> u64 {
        match self {
            FetchOp::Add(d) => old.wrapping_add(d),
            FetchOp::Or(m) => old | m,
            FetchOp::AndNot(m) => old & !m,
        }
    }
}

/// The ordering of a successful `xchg()`/`cmpxchg()` family member
/// (Documentation/atomic_t.txt): `_relaxed`, `_acquire`, `_release`, or no
/// suffix (fully ordered, as if `smp_mb()` ran before and after).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RmwOrder {
    /// `_relaxed`.
    Relaxed,
    /// `_acquire`: the load half acquires.
    Acquire,
    /// `_release`: the store half releases.
    Release,
    /// No suffix: fully ordered.
    Full,
}

/// One access to cell `id` as one step: the load's value, the value stored,
/// or the value an `Add` replaced.
#[track_caller]
pub(crate) fn cell_access(
    id: Prim<CellState>,
    op: &'static str,
    ord: Ordering,
    action: Action,
) -> u64 {
    backend().cell_access(crate::trace::Site::caller(), id, op, ord, action)
}

/// A cell access under shuttle: one step against the world, whose value the
/// world holds.
pub(crate) fn world_cell_access(
    site: crate::trace::Site,
    id: Prim<CellState>,
    op: &'static str,
    ord: Ordering,
    action: Action,
) -> u64 {
    let write = !matches!(action, Action::Load);
    step_access_at(site, id.into(), write, |cx| match action {
        Action::Load => load(cx, id, op, ord),
        Action::Store(v) => {
            store(cx, id, op, v, ord);
            v
        }
        Action::Add(d) => read_modify_write(cx, id, op, |old| old.wrapping_add(d)),
        Action::Exchange { new, expect, order } => exchange(cx, id, op, new, expect, order),
        Action::Fetch { op: f, order } => {
            let new = f.apply(cell(cx, id).raw);
            exchange(cx, id, op, new, None, order)
        }
    })
}

/// A cell access under loom: the owner's liveness load and the access itself
/// are loom operations (branch points); loom's value is the one read; then,
/// with no further branch point, the race check and the world update.
pub(crate) fn loom_cell_access(
    site: crate::trace::Site,
    id: Prim<CellState>,
    op: &'static str,
    ord: Ordering,
    action: Action,
) -> u64 {
    let (alive, lc) = with_world(|w| {
        let slot = w.prim(id);
        let alive = slot
            .owner
            .and_then(|o| w.objects[o.0 as usize].alive.clone());
        let c = w.state(id);
        (alive, c.loom.clone())
    });
    let Some(lc) = lc else {
        unreachable!("cells created in a loom execution have a loom cell")
    };
    if let Some(a) = alive {
        a.load(MemOrder::Relaxed);
    }
    // The memory orderings of the kernel's accessors: plain accesses are
    // relaxed atomics here (a plain access that races is reported below,
    // and what it then reads is undefined anyway), READ_ONCE/WRITE_ONCE and
    // atomic_t are relaxed, the acquire/release accessors acquire/release.
    let (load_order, store_order) = match ord {
        Ordering::Plain | Ordering::Relaxed => (MemOrder::Relaxed, MemOrder::Relaxed),
        Ordering::AcquireRelease => (MemOrder::Acquire, MemOrder::Release),
    };
    let (result, written) = match action {
        Action::Load => (lc.value.load(load_order), None),
        Action::Store(v) => {
            lc.value.store(v, store_order);
            (v, Some(v))
        }
        Action::Add(d) => {
            let old = lc.value.fetch_add(d, MemOrder::Relaxed);
            (old, Some(old.wrapping_add(d)))
        }
        Action::Exchange { new, expect, order } => loom_exchange(&lc, new, expect, order),
        Action::Fetch { op, order } => loom_fetch(&lc, op, order),
    };
    let me = current_task();
    let plain = ord == Ordering::Plain;
    let already = with_world(|w| w.state(id).raced);
    let race_free = already || lc.check(me, plain, written.is_some());
    with_world(|w| {
        let mut cx = Op { w, me, site };
        let display = cell(&mut cx, id).display;
        let e = cx.record(
            op,
            Target::Prim(id.into()),
            Some(display(written.unwrap_or(result))),
        );
        let owner = cx.w.prim(id).owner;
        if !cx.check_owner(owner, e) {
            return;
        }
        let stamp = AccessStamp {
            epoch: cx.epoch(),
            event: e as u32,
            marked: !plain,
            valid: true,
        };
        let write = written.is_some();
        if !race_free {
            let first = cell(&mut cx, id)
                .history
                .latest_conflict(me, !plain, write)
                .unwrap_or(e);
            cell(&mut cx, id).raced = true;
            report_race(&mut cx, Target::Prim(id.into()), first, e);
        }
        let now = *cx.clock();
        let c = cell(&mut cx, id);
        c.history.record(&now, stamp, write);
        if let Some(v) = written {
            c.raw = v;
        }
    });
    stop_if_fatal();
    result
}

/// An exchange under loom, as C11 operations: the RMW with the ordering of
/// its suffix, a failed compare-and-exchange a relaxed load. A fully
/// ordered one is a `SeqCst` RMW followed, on success, by a `SeqCst` fence
/// (the kernel's trailing `smp_mb()`); an `xchg()`, which always succeeds,
/// also gets the leading fence. A successful `cmpxchg()` gets none, since
/// C11 has no fence conditional on the outcome of a later operation: a
/// store before it is ordered before its store (release) and before every
/// access after it (the trailing fence), but not before its own load.
fn loom_exchange(
    lc: &LoomCell,
    new: u64,
    expect: Option<u64>,
    order: RmwOrder,
) -> (u64, Option<u64>) {
    let success = match order {
        RmwOrder::Relaxed => MemOrder::Relaxed,
        RmwOrder::Acquire => MemOrder::Acquire,
        RmwOrder::Release => MemOrder::Release,
        RmwOrder::Full => MemOrder::SeqCst,
    };
    let full = order == RmwOrder::Full;
    let (old, written) = match expect {
        None => {
            if full {
                loom::sync::atomic::fence(MemOrder::SeqCst);
            }
            (lc.value.swap(new, success), Some(new))
        }
        Some(e) => match lc
            .value
            .compare_exchange(e, new, success, MemOrder::Relaxed)
        {
            Ok(old) => (old, Some(new)),
            Err(old) => (old, None),
        },
    };
    if full && written.is_some() {
        loom::sync::atomic::fence(MemOrder::SeqCst);
    }
    (old, written)
}

/// A value-returning RMW under loom: the C11 RMW of its suffix's ordering;
/// a fully ordered one is a `SeqCst` RMW between two `SeqCst` fences (the
/// kernel's `smp_mb()` before and after; it always succeeds, so the leading
/// fence is unconditional, unlike a `cmpxchg()`'s).
fn loom_fetch(lc: &LoomCell, op: FetchOp, order: RmwOrder) -> (u64, Option<u64>) {
    let c11 = match order {
        RmwOrder::Relaxed => MemOrder::Relaxed,
        RmwOrder::Acquire => MemOrder::Acquire,
        RmwOrder::Release => MemOrder::Release,
        RmwOrder::Full => MemOrder::SeqCst,
    };
    let full = order == RmwOrder::Full;
    if full {
        loom::sync::atomic::fence(MemOrder::SeqCst);
    }
    let old = match op {
        FetchOp::Add(d) => lc.value.fetch_add(d, c11),
        FetchOp::Or(m) => lc.value.fetch_or(m, c11),
        FetchOp::AndNot(m) => lc.value.fetch_and(!m, c11),
    };
    if full {
        loom::sync::atomic::fence(MemOrder::SeqCst);
    }
    (old, Some(op.apply(old)))
}

fn cell<'a>(cx: &'a mut Op<'_>, id: Prim<CellState>) -> &'a mut CellState {
    cx.state(id)
}

/// Load a cell within an operation: check its owner, record the event, check
/// for a race with the last write, apply the ordering's happens-before.
pub(crate) fn load(cx: &mut Op<'_>, id: Prim<CellState>, op: &'static str, ord: Ordering) -> u64 {
    let raw = cell(cx, id).raw;
    access(cx, id, op, ord, raw, false);
    raw
}

/// Store to a cell within an operation (see [`load`]).
pub(crate) fn store(
    cx: &mut Op<'_>,
    id: Prim<CellState>,
    op: &'static str,
    raw: u64,
    ord: Ordering,
) {
    access(cx, id, op, ord, raw, true);
}

/// An indivisible read-modify-write (`atomic_inc` and friends): one event,
/// checked as a write, returning the old value.
pub(crate) fn read_modify_write(
    cx: &mut Op<'_>,
    id: Prim<CellState>,
    op: &'static str,
    f: impl FnOnce(u64) -> u64,
) -> u64 {
    let (old, prior) = {
        let c = cell(cx, id);
        (c.raw, c.clock)
    };
    access(cx, id, op, Ordering::Relaxed, f(old), true);
    // A read-modify-write continues the release sequence of the store it
    // replaced (C11's release sequences; under the kernel model an RMW reads
    // the latest value in coherence order): whoever reads this value also
    // gets what that store published, e.g. a ioctl's `smp_mb__before_atomic();
    // atomic_dec()` still orders its accesses before a remover's poll when
    // another user's `atomic_inc()` came in between.
    cell(cx, id).clock.join(&prior);
    old
}

/// `xchg()`/`cmpxchg()` within an operation: one event; a failed
/// compare-and-exchange is a relaxed load, a successful exchange a write
/// whose load half acquires (`_acquire`, fully ordered) and store half
/// releases (`_release`, fully ordered), with a full fence's clock effects
/// before and after when fully ordered. As an RMW, it continues the
/// release sequence of the store it replaces: whoever acquires its value
/// also acquires what that store published.
pub(crate) fn exchange(
    cx: &mut Op<'_>,
    id: Prim<CellState>,
    op: &'static str,
    new: u64,
    expect: Option<u64>,
    order: RmwOrder,
) -> u64 {
    let old = cell(cx, id).raw;
    if expect.is_some_and(|e| e != old) {
        return load(cx, id, op, Ordering::Relaxed);
    }
    let full = order == RmwOrder::Full;
    if full {
        crate::kernel::barrier::acquire_fence(cx);
        crate::kernel::barrier::release_fence(cx);
    }
    let published = cell(cx, id).clock;
    if matches!(order, RmwOrder::Acquire | RmwOrder::Full) {
        cx.acquire(&published);
    } else {
        let me = cx.me;
        cx.w.tasks[me].observed_relaxed.join(&published);
    }
    let store_order = if matches!(order, RmwOrder::Release | RmwOrder::Full) {
        Ordering::AcquireRelease
    } else {
        Ordering::Relaxed
    };
    access(cx, id, op, store_order, new, true);
    cell(cx, id).clock.join(&published);
    if full {
        crate::kernel::barrier::acquire_fence(cx);
        crate::kernel::barrier::release_fence(cx);
    }
    old
}

fn access(
    cx: &mut Op<'_>,
    id: Prim<CellState>,
    op: &'static str,
    ord: Ordering,
    raw: u64,
    is_write: bool,
) {
    let display = cell(cx, id).display;
    let e = cx.record(op, Target::Prim(id.into()), Some(display(raw)));
    let owner = cx.w.prim(id).owner;
    if !cx.check_owner(owner, e) {
        return;
    }
    let me = cx.me;
    let marked = ord != Ordering::Plain;
    if cx.w.config.race_detection {
        let stamp = AccessStamp {
            epoch: cx.epoch(),
            event: e as u32,
            marked,
            valid: true,
        };
        let now = *cx.clock();
        let c = cell(cx, id);
        let racing = c.history.racing(&now, me, marked, is_write);
        c.history.record(&now, stamp, is_write);
        if let Some(first) = racing {
            report_race(cx, Target::Prim(id.into()), first, e);
        }
    }
    let published = cell(cx, id).clock;
    match (is_write, ord) {
        (false, Ordering::Plain) => {}
        (false, Ordering::Relaxed) => cx.w.tasks[me].observed_relaxed.join(&published),
        (false, Ordering::AcquireRelease) => cx.acquire(&published),
        (true, _) => {
            let clock = match ord {
                Ordering::Plain | Ordering::Relaxed => cx.w.tasks[me].fence_release,
                Ordering::AcquireRelease => *cx.clock(),
            };
            let c = cell(cx, id);
            c.raw = raw;
            c.clock = clock;
            if ord == Ordering::AcquireRelease {
                cx.w.tasks[me].clock.tick(me);
            }
        }
    }
}

/// Report a race on `target` (a cell, or an object's own memory) between
/// events `first` and `second`, once per pair of source sites.
fn report_race(cx: &mut Op<'_>, target: Target, first: usize, second: usize) {
    let sites = (target, cx.w.trace[first].site, cx.w.trace[second].site);
    if cx.w.race_signatures.contains(&sites) {
        return;
    }
    cx.w.race_signatures.push(sites);
    if cx.w.stop {
        // A fatal finding ended the execution: this one would be dropped
        // (see `World::report`), so it is not rendered.
        return;
    }
    cx.w.report_race(target, first, second);
}
