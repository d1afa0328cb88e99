//! Primitives as the world stores them: each primitive's state is a type of
//! its own, defined next to its operations (one file per primitive under
//! [`crate::kernel`], or outside this crate), stored type-erased in the
//! world and reached through a typed handle, [`Prim<S>`].
//!
//! A handle is only ever made by [`Op::add_prim`](super::Op::add_prim) for
//! a state of type `S`, so looking it up always finds an `S`: the type
//! check is one comparison of type ids, and no kernel file matches on other
//! primitives' states.

use super::{PrimSlot, World};
use crate::trace::PrimId;
use std::any::{Any, TypeId};
use std::fmt;
use std::marker::PhantomData;

/// The state of one primitive (a lock's holder, a refcount's count, a
/// completion's `done`, …), as the world stores it.
///
/// The two methods feed deadlock and hang reports, which describe what a
/// blocked task waits for; both have defaults.
pub trait PrimitiveState: AsAny + fmt::Debug {
    /// Who holds the primitive, for a report on a task blocked on it
    /// (`"held by remove"`, `"count 2"`); empty for nothing to say.
    fn describe_holders(&self, tasks: &TaskNames<'_>) -> String {
        let _ = tasks;
        String::new()
    }

    /// Whether a blocked attempt on the primitive is bookkeeping, hidden
    /// from race diagrams (e.g. a completion that only sequences a
    /// scenario's own tasks).
    fn quiet_wait(&self) -> bool {
        false
    }

    /// Become `new`, the state of a primitive of a later execution that
    /// reuses this one's box. A state holding vectors may keep their
    /// capacity (clearing them, as `new` would have them empty) instead of
    /// dropping them for `new`'s, so a scenario that makes the same
    /// primitives in every execution allocates none of it again.
    fn renew(&mut self, new: Self)
    where
        Self: Sized,
    {
        *self = new;
    }
}

/// For [`PrimitiveState::renew`]: make `new` hold its elements in `old`'s
/// buffer, so the buffer of a primitive of an earlier execution serves the
/// one that reuses its box (`old` is left with `new`'s former buffer,
/// dropped with the old state).
pub fn keep_capacity<T>(old: &mut Vec<T>, new: &mut Vec<T>) {
    old.clear();
    old.append(new);
    std::mem::swap(old, new);
}

/// `Any` access for [`PrimitiveState`]'s downcasts; implemented for every
/// `'static` type.
pub trait AsAny: Any {
    /// `self` as `&dyn Any`.
    fn as_any(&self) -> &dyn Any;
    /// `self` as `&mut dyn Any`.
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<T: Any> AsAny for T {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// A typed handle to a primitive whose state is an `S`: the index of its
/// slot in the world, valid for the execution that created it.
pub struct Prim<S> {
    id: PrimId,
    _state: PhantomData<fn() -> S>,
}

impl<S> Prim<S> {
    /// The handle of slot `id`; only the world makes handles, for slots it
    /// filled with an `S`.
    pub(crate) fn new(id: PrimId) -> Self {
        Prim {
            id,
            _state: PhantomData,
        }
    }

    /// The untyped id, as trace events name the primitive.
    pub fn id(self) -> PrimId {
        self.id
    }
}

impl<S> Clone for Prim<S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S> Copy for Prim<S> {}

impl<S> PartialEq for Prim<S> {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl<S> Eq for Prim<S> {}

impl<S> fmt::Debug for Prim<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Prim#{}", self.id.0)
    }
}

impl<S> From<Prim<S>> for PrimId {
    fn from(p: Prim<S>) -> PrimId {
        p.id
    }
}

/// A handle to host-side state of the kernel model for one execution: what
/// a model object keeps besides its primitives (a device's devres action
/// closures, a cdev's parent and inode list, the cdev a device number maps
/// to). It is no primitive — no events name it, it has no id in traces, and
/// making one shifts no primitive's id — but it lives in the world like
/// one, so the handle is a `Copy` index instead of an `Arc` allocated and
/// reference-counted in every execution, and its box is reused by the next
/// execution (see [`PrimitiveState::renew`]). Only touched inside steps or
/// between scheduling points, as the world is.
pub(crate) struct Host<S> {
    index: u32,
    _state: PhantomData<fn() -> S>,
}

impl<S> Host<S> {
    /// The handle of host slot `index`; only the world makes handles, for
    /// slots it filled with an `S`.
    pub(crate) fn new(index: u32) -> Self {
        Host {
            index,
            _state: PhantomData,
        }
    }

    pub(crate) fn index(self) -> usize {
        self.index as usize
    }
}

impl<S> Clone for Host<S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S> Copy for Host<S> {}

impl<S> PartialEq for Host<S> {
    fn eq(&self, other: &Self) -> bool {
        self.index == other.index
    }
}

impl<S> Eq for Host<S> {}

/// Task names, for [`PrimitiveState::describe_holders`].
pub struct TaskNames<'w> {
    pub(crate) w: &'w World,
}

impl TaskNames<'_> {
    /// The name of task `t` (`"?"` for no such task).
    pub fn name(&self, t: usize) -> &str {
        self.w.task_name(t)
    }
}

impl PrimSlot {
    /// Whether the primitive's state is an `S`.
    pub(crate) fn is<S: PrimitiveState>(&self) -> bool {
        self.state_type == TypeId::of::<S>()
    }
}

impl World {
    /// The state of primitive `p`.
    pub(crate) fn state<S: PrimitiveState>(&self, p: Prim<S>) -> &S {
        let slot = &self.prims[p.id.0 as usize];
        assert!(
            slot.is::<S>(),
            "a Prim<S> handle names a slot the world filled with an S"
        );
        // SAFETY: the slot's state was boxed as an `S` (`add_prim` records
        // its type in `state_type`, checked above).
        unsafe { &*(&*slot.state as *const dyn PrimitiveState).cast::<S>() }
    }

    /// The state of primitive `p`, to change.
    pub(crate) fn state_mut<S: PrimitiveState>(&mut self, p: Prim<S>) -> &mut S {
        let slot = &mut self.prims[p.id.0 as usize];
        assert!(
            slot.is::<S>(),
            "a Prim<S> handle names a slot the world filled with an S"
        );
        // SAFETY: as in `state`.
        unsafe { &mut *(&mut *slot.state as *mut dyn PrimitiveState).cast::<S>() }
    }
}
