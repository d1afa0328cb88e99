//! Memory with lifetimes: objects that removal frees (KASAN-checked), and the
//! [`Plain`] cells embedded in them whose accesses are checked for data races.

use crate::clock::{Epoch, VectorClock, MAX_TASKS};
use crate::finding::{Detail, Finding, FindingKind};
use crate::runtime::{backend, new_word, Backend, LoomCell, Ordering as MemOrder};
use crate::trace::{ObjectId, PrimId, Target, Value};
use crate::world::{
    current_task, step, step_with, stop_if_fatal, with_world, LoomOp, ObjectSlot, Op, PrimState,
};
use std::borrow::Cow;
use std::marker::PhantomData;
use std::panic::Location;
use std::rc::Rc;

/// A model object: one heap allocation of the driver (`struct cxl_mem`,
/// `struct cxl_memdev`, …). Freeing it poisons it; any later access through
/// the model is a use-after-removal naming both sites.
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

    #[track_caller]
    fn touch(self, op: &'static str) {
        step_with(
            |_| LoomOp::Touch(self.id),
            |cx| {
                let e = cx.record(op, Target::Object(self.id), None);
                cx.check_owner(Some(self.id), e);
            },
        );
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
        alive: (backend() == Backend::Loom).then(new_word),
    });
    cx.w.trace[e].target = Target::Object(id);
    Object { id }
}

/// Free an object (`kfree()`); a second free is reported as a use-after-removal.
#[track_caller]
pub fn kfree(obj: Object) {
    step_with(|_| LoomOp::Free(obj.id), |cx| free_object(cx, obj, "kfree"));
}

pub(crate) fn free_object(cx: &mut Op<'_>, obj: Object, op: &'static str) {
    let e = cx.record(op, Target::Object(obj.id), None);
    if cx.check_owner(Some(obj.id), e) {
        cx.w.objects[obj.id.0 as usize].free_event = Some(e);
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

/// The last access of one kind to a cell: when, at which event, and whether
/// it was marked (`READ_ONCE` and friends never race with each other).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct AccessStamp {
    pub epoch: Epoch,
    pub event: u32,
    pub marked: bool,
    pub valid: bool,
}

/// A memory cell's state: its value, the clock its last release published,
/// and the access history the race detector needs (FastTrack-style: the last
/// write, and each task's last read since it).
#[derive(Debug)]
pub(crate) struct CellState {
    pub raw: u64,
    pub display: fn(u64) -> Value,
    /// Published by `smp_store_release` / `rcu_assign_pointer`, or by a
    /// relaxed store carrying its task's last fence.
    pub clock: VectorClock,
    pub last_write: AccessStamp,
    pub reads: [AccessStamp; MAX_TASKS],
    /// Under loom: the cell's value and race checks.
    pub loom: Option<Rc<LoomCell>>,
    /// Under loom: a race on this cell was reported in this execution, and
    /// loom's checking state for it is spent.
    pub raced: bool,
}

impl CellState {
    /// A cell's initial state.
    pub(crate) fn new(raw: u64, display: fn(u64) -> Value) -> Self {
        CellState {
            raw,
            display,
            clock: VectorClock::new(),
            last_write: AccessStamp::default(),
            reads: [AccessStamp::default(); MAX_TASKS],
            loom: (backend() == Backend::Loom).then(|| LoomCell::new(raw)),
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
    pub(crate) id: PrimId,
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
        let id = cx.w.add_prim(
            name,
            owner.map(|o| o.id),
            PrimState::Cell(CellState::new(init.encode(), T::display)),
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
pub(crate) fn cell_access(id: PrimId, op: &'static str, ord: Ordering, action: Action) -> u64 {
    match backend() {
        Backend::Shuttle => step(|cx| match action {
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
        }),
        Backend::Loom => loom_cell_access(Location::caller(), id, op, ord, action),
    }
}

/// A cell access under loom: the owner's liveness load and the access itself
/// are loom operations (branch points); loom's value is the one read; then,
/// with no further branch point, the race check and the world update.
fn loom_cell_access(
    site: &'static Location<'static>,
    id: PrimId,
    op: &'static str,
    ord: Ordering,
    action: Action,
) -> u64 {
    let (alive, lc) = with_world(|w| {
        let slot = w.prim(id);
        let alive = slot
            .owner
            .and_then(|o| w.objects[o.0 as usize].alive.clone());
        let PrimState::Cell(c) = &slot.state else {
            unreachable!("cell handles always name cells")
        };
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
    let already = with_world(|w| match &w.prim(id).state {
        PrimState::Cell(c) => c.raced,
        _ => unreachable!("cell handles always name cells"),
    });
    let race_free = already || lc.check(me, plain, written.is_some());
    with_world(|w| {
        let mut cx = Op { w, me, site };
        let display = cell(&mut cx, id).display;
        let e = cx.record(
            op,
            Target::Prim(id),
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
        if !race_free {
            let first =
                racing_partner(cell(&mut cx, id), me, plain, written.is_some()).unwrap_or(e);
            cell(&mut cx, id).raced = true;
            report_race(&mut cx, id, first, e);
        }
        let c = cell(&mut cx, id);
        match written {
            Some(v) => {
                c.raw = v;
                c.last_write = stamp;
                c.reads = [AccessStamp::default(); MAX_TASKS];
            }
            None => c.reads[me] = stamp,
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

/// The access loom's race check flagged the current one against: the latest
/// conflicting access by another task (a write, or a read if the current
/// access writes; at least one of the two plain).
fn racing_partner(c: &CellState, me: usize, plain: bool, write: bool) -> Option<usize> {
    let conflicts = |s: &AccessStamp| s.valid && s.epoch.task != me && (plain || !s.marked);
    let mut candidates: Vec<&AccessStamp> = vec![&c.last_write];
    if write {
        candidates.extend(c.reads.iter());
    }
    candidates
        .into_iter()
        .filter(|s| conflicts(s))
        .map(|s| s.event as usize)
        .max()
}

fn cell<'a>(cx: &'a mut Op<'_>, id: PrimId) -> &'a mut CellState {
    match &mut cx.w.prim_mut(id).state {
        PrimState::Cell(c) => c,
        _ => unreachable!("cell handles always name cells"),
    }
}

/// Load a cell within an operation: check its owner, record the event, check
/// for a race with the last write, apply the ordering's happens-before.
pub(crate) fn load(cx: &mut Op<'_>, id: PrimId, op: &'static str, ord: Ordering) -> u64 {
    let raw = cell(cx, id).raw;
    access(cx, id, op, ord, raw, false);
    raw
}

/// Store to a cell within an operation (see [`load`]).
pub(crate) fn store(cx: &mut Op<'_>, id: PrimId, op: &'static str, raw: u64, ord: Ordering) {
    access(cx, id, op, ord, raw, true);
}

/// An indivisible read-modify-write (`atomic_inc` and friends): one event,
/// checked as a write, returning the old value.
pub(crate) fn read_modify_write(
    cx: &mut Op<'_>,
    id: PrimId,
    op: &'static str,
    f: impl FnOnce(u64) -> u64,
) -> u64 {
    let old = cell(cx, id).raw;
    access(cx, id, op, Ordering::Relaxed, f(old), true);
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
    id: PrimId,
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

fn access(cx: &mut Op<'_>, id: PrimId, op: &'static str, ord: Ordering, raw: u64, is_write: bool) {
    let display = cell(cx, id).display;
    let e = cx.record(op, Target::Prim(id), Some(display(raw)));
    let owner = cx.w.prim(id).owner;
    if !cx.check_owner(owner, e) {
        return;
    }
    let me = cx.me;
    let marked = ord != Ordering::Plain;
    let epoch = cx.epoch();
    let stamp = AccessStamp {
        epoch,
        event: e as u32,
        marked,
        valid: true,
    };
    if cx.w.config.race_detection {
        let (last_write, reads) = {
            let c = cell(cx, id);
            (c.last_write, c.reads)
        };
        let now = cx.clock();
        let racing = if conflicts(now, last_write, marked) {
            Some(last_write)
        } else if is_write {
            reads
                .iter()
                .enumerate()
                .find(|&(t, r)| t != me && conflicts(now, *r, marked))
                .map(|(_, r)| *r)
        } else {
            None
        };
        if let Some(first) = racing {
            report_race(cx, id, first.event as usize, e);
        }
        if !is_write {
            cell(cx, id).reads[me] = stamp;
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
            c.last_write = stamp;
            c.reads = [AccessStamp::default(); MAX_TASKS];
            if ord == Ordering::AcquireRelease {
                cx.w.tasks[me].clock.tick(me);
            }
        }
    }
}

/// Whether an access by the task owning `now`, marked or not, conflicts with
/// the earlier access `then`: both exist, at least one is plain, and `then`
/// does not happen-before now.
fn conflicts(now: &VectorClock, then: AccessStamp, marked_now: bool) -> bool {
    then.valid && !(marked_now && then.marked) && !now.covers(then.epoch)
}

fn report_race(cx: &mut Op<'_>, id: PrimId, first: usize, second: usize) {
    let sites = (id, cx.w.trace[first].site, cx.w.trace[second].site);
    if cx.w.race_signatures.contains(&sites) {
        return;
    }
    cx.w.race_signatures.push(sites);
    let detail = Detail::DataRace {
        cell: cx.w.prim(id).name.to_string(),
        first: cx.w.access(first),
        second: cx.w.access(second),
    };
    cx.w.report(Finding {
        kind: FindingKind::DataRace,
        detail,
    });
}
