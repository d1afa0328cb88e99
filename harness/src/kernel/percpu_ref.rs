//! `struct percpu_ref`: a reference count with a "live" gate. After
//! `percpu_ref_kill()`, `percpu_ref_tryget_live()` fails and the release
//! callback runs when the last reference is put. This is the gate of the
//! original CXL ioctl path.
//!
//! The per-CPU fast path is modelled as one atomic counter: the kill's
//! switch to atomic mode (an RCU grace period in the kernel) is what makes
//! the per-CPU sums exact, so a single counter is its faithful abstraction.

use super::memory::Object;
use super::rwsem::misuse;
use crate::clock::VectorClock;
use crate::runtime::Ordering as MemOrder;
use crate::trace::{Target, Value};
use crate::world::{step, step_on, Op, Prim, PrimitiveState, TaskNames};
use std::borrow::Cow;
use std::sync::Arc;

/// A percpu_ref (`percpu_ref_init(&ref, release, 0)`: live, count 1).
#[derive(Clone)]
pub struct PercpuRef {
    id: Prim<PercpuRefState>,
    release: Arc<dyn Fn() + Send + Sync>,
}

/// Count (including the initial reference until kill), dead flag, clock.
#[derive(Debug, Default)]
pub(crate) struct PercpuRefState {
    pub(crate) count: i64,
    dead: bool,
    clock: VectorClock,
}

impl PrimitiveState for PercpuRefState {
    fn describe_holders(&self, _tasks: &TaskNames<'_>) -> String {
        format!("count {}", self.count)
    }
}

impl PercpuRef {
    /// `percpu_ref_init(&ref, release, 0)` on a ref embedded in `owner`.
    #[track_caller]
    pub fn new(
        name: impl Into<Cow<'static, str>>,
        owner: Option<Object>,
        release: impl Fn() + Send + Sync + 'static,
    ) -> Self {
        let name = name.into();
        let id = step(|cx| {
            cx.add_prim(
                name,
                owner.map(|o| o.id()),
                PercpuRefState {
                    count: 1,
                    dead: false,
                    clock: VectorClock::new(),
                },
            )
        });
        PercpuRef {
            id,
            release: Arc::new(release),
        }
    }
}

/// Drop one reference within an operation; true if it was the last.
fn put(cx: &mut Op<'_>, id: Prim<PercpuRefState>, e: usize) -> bool {
    let count = cx.state(id).count - 1;
    if count < 0 {
        misuse(cx, e, "percpu_ref_put() underflow");
        return false;
    }
    let mut clock = cx.state(id).clock;
    cx.release(&mut clock);
    let s = cx.state(id);
    s.count = count;
    s.clock = clock;
    if count == 0 {
        // The count reached zero: acquire what every earlier put released
        // before the release callback runs.
        cx.acquire(&clock);
        cx.loom_fence(MemOrder::Acquire);
    }
    count == 0
}

/// `percpu_ref_tryget_live(&ref)`: a reference, unless the ref was killed.
/// Orders nothing (a per-CPU increment under `rcu_read_lock()`).
#[track_caller]
pub fn percpu_ref_tryget_live(r: &PercpuRef) -> bool {
    step_on(r.id, MemOrder::Relaxed, |cx| {
        let s = cx.state(r.id);
        let ok = !s.dead;
        let e = cx.record(
            "percpu_ref_tryget_live",
            Target::Prim(r.id.into()),
            Some(Value::Bool(ok)),
        );
        let owner = cx.w.prim(r.id).owner;
        if !cx.check_owner(owner, e) || !ok {
            return false;
        }
        cx.state(r.id).count += 1;
        true
    })
}

/// `percpu_ref_put(&ref)`: the last put after a kill runs the release. A
/// release.
#[track_caller]
pub fn percpu_ref_put(r: &PercpuRef) {
    let last = step_on(r.id, MemOrder::Release, |cx| {
        let e = cx.record("percpu_ref_put", Target::Prim(r.id.into()), None);
        let owner = cx.w.prim(r.id).owner;
        cx.check_owner(owner, e) && put(cx, r.id, e)
    });
    if last {
        (r.release)();
    }
}

/// `percpu_ref_kill(&ref)`: closes the gate and drops the initial reference
/// (a put, so a release).
#[track_caller]
pub fn percpu_ref_kill(r: &PercpuRef) {
    let last = step_on(r.id, MemOrder::Release, |cx| {
        let e = cx.record("percpu_ref_kill", Target::Prim(r.id.into()), None);
        let owner = cx.w.prim(r.id).owner;
        if !cx.check_owner(owner, e) {
            return false;
        }
        cx.state(r.id).dead = true;
        put(cx, r.id, e)
    });
    if last {
        (r.release)();
    }
}
