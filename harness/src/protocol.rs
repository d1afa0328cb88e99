//! The step protocol: how a primitive is written. Everything here is public,
//! so a primitive (a kernel lock, a refcount, a driver's own handshake) can
//! live in a crate of its own, as one file, the way each file of
//! [`crate::kernel`] does.
//!
//! # A step
//!
//! Every operation of the kernel model is one *step* of the running task:
//! first a *scheduling point*, where the explorer may run any other enabled
//! task (or end the execution), then the operation's effect on the world —
//! its state change, its trace event, its race checks, its findings — with
//! no interleaving at all. A step is therefore atomic and sequentially
//! consistent under shuttle; under loom it is atomic in loom's execution
//! order, and its memory ordering is the one named by [`step_on`].
//!
//! * [`step`]: an operation nothing in another task can race with or
//!   observe (creating a primitive, bookkeeping).
//! * [`step_on`]: an operation on one primitive, with the memory ordering
//!   of the kernel operation (`Acquire` for a lock, `Release` for an unlock,
//!   `Relaxed` for a plain counter increment, `AcqRel` for a value-returning
//!   RMW). Under loom the step is one read-modify-write of a word the
//!   primitive owns, with that ordering, so steps on one primitive are
//!   ordered for loom's partial-order reduction and steps on different
//!   primitives commute. Under shuttle the ordering is not used: the
//!   happens-before the race detector sees comes from the clocks below.
//! * [`step_blocking`]: an operation that may have to wait (`down()`,
//!   `mutex_lock()`, `wait_for_completion()`). Its attempt is retried, each
//!   time as one step, until it returns `Some`. While it returns `None` the
//!   task is *parked* on the primitive: the explorer does not run it until
//!   another task calls [`Op::wake_all`] on that primitive (under loom the
//!   task's thread parks and the wake unparks it). When every live task is
//!   parked the execution ends with a deadlock finding, naming what each
//!   task waits for ([`PrimitiveState::describe_holders`]).
//!
//! # State
//!
//! A primitive's state is a type of its own implementing
//! [`PrimitiveState`]. [`Op::add_prim`] stores it in the world and returns a
//! typed handle, [`Prim<S>`], which is `Copy` and names the primitive for
//! the rest of the execution; [`Op::state`] reaches the state through it.
//! A primitive embedded in an allocation (`struct my_dev { struct
//! semaphore sem; … }`) names that allocation as its owner: a step on it
//! after the allocation is freed is a use-after-removal, which
//! [`Op::check_owner`] reports.
//!
//! # Happens-before
//!
//! Each task has a vector clock ([`Op::clock`]); plain memory accesses are
//! race-checked against them. A primitive that orders tasks keeps a
//! [`VectorClock`] in its state: a releasing operation calls
//! [`Op::release`] into it (the task's history so far happens-before whoever
//! acquires it), an acquiring one calls [`Op::acquire`] from it. A primitive
//! that keeps no clock orders nothing, and the race detector will say so.
//!
//! # Held locks
//!
//! A lock calls [`Op::hold`] in the step that takes it (with the event that
//! step recorded) and [`Op::unhold`] in the step that releases it, keeping
//! lockdep's per-task stack of held locks: a deadlock report then names the
//! task holding each lock waited on and where it took it, and a lock still
//! held when a file operation returns to user space or a task exits is a
//! `lock-held-at-exit` finding.
//!
//! # Events and findings
//!
//! Each operation records one trace event ([`Op::record`], or
//! [`Op::record_minor`] for bookkeeping): reports draw their race diagrams
//! from the trace, and findings name events by index ([`Op::access`]). A
//! misuse the kernel would catch (`BUG_ON`, a refcount underflow) is
//! raised with [`Op::report`] as a [`Finding`]; findings are values, never
//! panics, and a fatal one ends the execution at the next scheduling point.

pub use crate::backend::Ordering;
pub use crate::clock::VectorClock;
pub use crate::finding::{Access, Detail, Finding, FindingKind};
pub use crate::trace::{ObjectId, PrimId, Target, Value};
pub use crate::world::{step, step_blocking, step_on, Op, Prim, PrimitiveState, TaskNames};
