//! `struct kref` / `refcount_t`: the last put runs the release, ordered after
//! every earlier put (the kernel's `refcount_dec_and_test` is a release, and
//! the final decrement an acquire).
//!
//! A `kref_get()` that finds the count at zero is a use-after-free, not a
//! broken invariant: the last put already ran (or is running) the release,
//! which frees the object. `refcount_inc()` in lib/refcount.c saturates and
//! warns "refcount_t: addition on 0; use-after-free" (`REFCOUNT_ADD_UAF`),
//! and the model reports it as a use-after-removal naming that last put.

use super::memory::Object;
use super::rwsem::misuse;
use crate::clock::VectorClock;
use crate::finding::{Detail, Finding, FindingKind};
use crate::runtime::Ordering as MemOrder;
use crate::trace::{Target, Value};
use crate::world::{step, step_on, Op, Prim, PrimitiveState, TaskNames};
use std::borrow::Cow;

/// A reference count (`kref_init()` leaves it at 1).
#[derive(Clone, Copy, Debug)]
pub struct Kref {
    id: Prim<RefcountState>,
}

/// The count and the clock the puts published.
#[derive(Debug, Default)]
pub(crate) struct RefcountState {
    pub(crate) count: i64,
    release: VectorClock,
    /// The `kref_init()` event (where the count was "allocated").
    init_event: usize,
    /// The put that took the count to zero, once one has.
    zero_event: Option<usize>,
}

impl PrimitiveState for RefcountState {
    fn describe_holders(&self, _tasks: &TaskNames<'_>) -> String {
        format!("count {}", self.count)
    }
}

impl Kref {
    /// The count's primitive (for steps that touch it with another one).
    pub(crate) fn id(&self) -> Prim<RefcountState> {
        self.id
    }

    /// `kref_init(&obj->kref)`: a count of 1, embedded in `owner`.
    #[track_caller]
    pub fn new(name: impl Into<Cow<'static, str>>, owner: Option<Object>) -> Self {
        let name = name.into();
        step(|cx| {
            let init_event = cx.record_minor("kref_init", Target::None, Some(Value::Int(1)));
            let id = cx.add_prim(
                name,
                owner.map(|o| o.id()),
                RefcountState {
                    count: 1,
                    release: VectorClock::new(),
                    init_event,
                    zero_event: None,
                },
            );
            cx.w.trace[init_event].target = Target::Prim(id.into());
            Kref { id }
        })
    }
}

/// `kref_get(&k)`: relaxed, like `refcount_inc()`.
#[track_caller]
pub fn kref_get(k: &Kref) {
    step_on(k.id, MemOrder::Relaxed, |cx| {
        let count = cx.state(k.id).count;
        let e = cx.record(
            "kref_get",
            Target::Prim(k.id.into()),
            Some(Value::Int(count + 1)),
        );
        let owner = cx.w.prim(k.id).owner;
        if !cx.check_owner(owner, e) {
            return;
        }
        if count <= 0 {
            return addition_on_zero(cx, k.id, e);
        }
        cx.state(k.id).count += 1;
    });
}

/// `refcount_inc()` on a zero count (`REFCOUNT_ADD_UAF` in lib/refcount.c):
/// the reference is taken on an object whose release already ran, so this
/// is a use-after-free of what the count guards, reported against the put
/// that took the count to zero.
fn addition_on_zero(cx: &mut Op<'_>, id: Prim<RefcountState>, e: usize) {
    let (init, zero) = {
        let s = cx.state(id);
        (s.init_event, s.zero_event)
    };
    let name = cx.w.prim(id).name.to_string();
    let detail = Detail::UseAfterRemoval {
        object: format!("{name} (refcount_t: addition on 0; use-after-free)"),
        access: cx.w.access(e),
        free: cx.w.access(zero.unwrap_or(init)),
        alloc: cx.w.access(init),
    };
    cx.w.report(Finding {
        kind: FindingKind::UseAfterRemoval,
        detail,
    });
}

/// A put (event `e`) of a count the put at event `zero` already took to
/// zero: the release ran, so this is a second release of what the count
/// guards — a double free. `refcount_dec_and_test()` on zero saturates and
/// warns "refcount_t: underflow; use-after-free" (`REFCOUNT_SUB_UAF` in
/// lib/refcount.c); with KASAN, the release it would run again frees the
/// object twice. Named after the object the count is embedded in (and its
/// free) when there is one, else after the count.
fn put_past_zero(cx: &mut Op<'_>, id: Prim<RefcountState>, e: usize, zero: usize) {
    let init = cx.state(id).init_event;
    let slot = cx.w.prim(id);
    let (object, first, alloc) = match slot.owner {
        Some(o) => {
            let obj = &cx.w.objects[o.0 as usize];
            (
                obj.name.to_string(),
                obj.free_event.unwrap_or(zero),
                obj.alloc_event,
            )
        }
        None => (
            format!("{} (refcount_t: underflow; use-after-free)", slot.name),
            zero,
            init,
        ),
    };
    let detail = Detail::DoubleFree {
        object,
        free: cx.w.access(e),
        first_free: cx.w.access(first),
        alloc: cx.w.access(alloc),
    };
    cx.w.report(Finding {
        kind: FindingKind::DoubleFree,
        detail,
    });
}

/// `kref_get_unless_zero(&k)`: takes a reference unless the count already
/// reached zero. Relaxed, like `refcount_inc_not_zero()`.
#[track_caller]
pub fn kref_get_unless_zero(k: &Kref) -> bool {
    inc_unless_zero(k, "kref_get_unless_zero")
}

/// `refcount_inc_not_zero(&r)` on the count of `k`: lib/refcount.c says it
/// provides no ordering on success (a relaxed cmpxchg loop; the caller
/// relies on a control dependency or on the lock protecting its lookup);
/// it fails once the count reached zero, the object then being on its way
/// to the release.
#[track_caller]
pub fn refcount_inc_not_zero(k: &Kref) -> bool {
    inc_unless_zero(k, "refcount_inc_not_zero")
}

#[track_caller]
fn inc_unless_zero(k: &Kref, op: &'static str) -> bool {
    step_on(k.id, MemOrder::Relaxed, |cx| inc_not_zero(cx, k, op))
}

/// `refcount_inc_not_zero()` inside a step that already holds whatever
/// orders it (e.g. `kobject_get_unless_zero()` under `cdev_lock` in
/// `chrdev_open()`), recorded as `op`.
pub(crate) fn inc_not_zero(cx: &mut Op<'_>, k: &Kref, op: &'static str) -> bool {
    let count = cx.state(k.id).count;
    let e = cx.record(op, Target::Prim(k.id.into()), Some(Value::Int(count)));
    let owner = cx.w.prim(k.id).owner;
    if !cx.check_owner(owner, e) || count <= 0 {
        return false;
    }
    cx.state(k.id).count += 1;
    true
}

/// `kref_put(&k, release)`: drops a reference; the last one calls `release`
/// (after this step, as its own operations). Returns whether it did.
///
/// `refcount_dec_and_test()` is a release, and the final decrement is
/// followed by an acquire barrier (`smp_acquire__after_ctrl_dep()`), so
/// the release callback runs after everything every earlier holder did.
#[track_caller]
pub fn kref_put(k: &Kref, release: impl FnOnce()) -> bool {
    let last = step_on(k.id, MemOrder::Release, |cx| {
        let count = cx.state(k.id).count - 1;
        let e = cx.record(
            "kref_put",
            Target::Prim(k.id.into()),
            Some(Value::Int(count)),
        );
        // A put past zero on a count whose release freed the object it is
        // embedded in: a double release. (Past zero on a count that is not
        // embedded in a freed object stays the underflow misuse below.)
        let freed_owner =
            cx.w.prim(k.id)
                .owner
                .is_some_and(|o| cx.w.objects[o.0 as usize].free_event.is_some());
        if let Some(zero) = cx.state(k.id).zero_event.filter(|_| freed_owner) {
            put_past_zero(cx, k.id, e, zero);
            return None;
        }
        let owner = cx.w.prim(k.id).owner;
        if !cx.check_owner(owner, e) {
            return None;
        }
        if count < 0 {
            misuse(cx, e, "kref_put() underflow");
            return None;
        }
        let mut clock = cx.state(k.id).release;
        cx.release(&mut clock);
        let s = cx.state(k.id);
        s.count = count;
        s.release = clock;
        if count == 0 {
            s.zero_event = Some(e);
            cx.acquire(&clock);
            cx.loom_fence(MemOrder::Acquire);
        }
        (count == 0).then_some(e)
    });
    // The release runs as operations of its own, each naming this put as
    // the one that ran it.
    if let Some(e) = last {
        crate::world::callback(e, release);
    }
    last.is_some()
}
