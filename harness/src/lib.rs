//! # unplug harness
//!
//! A deterministic concurrency explorer for device-removal-vs-ioctl races in
//! Linux-kernel-style drivers. Scenarios are written with kernel-named
//! primitives ([`kernel`]); the [`engine`] runs them on its own coroutine
//! runtime (or shuttle's) under seeded [`scheduler`]s, records a [`trace`], and reports
//! [`finding`]s — use-after-removal, data races, deadlocks, hangs, leaks —
//! as kernel-style [`report`]s whose schedules are saved to the [`corpus`].
//! The [`exhaustive`] backend runs the same scenarios under `loom::model`
//! (bounded-exhaustive, C11 memory model); [`backend`] holds the
//! runtimes (the native executor, the shuttle scheduler adapter and the
//! loom glue), and
//! [`world`] the model state and the step protocol every primitive is
//! written against.

#![warn(missing_docs)]

pub mod backend;
pub mod clock;
pub mod corpus;
pub mod engine;
pub mod exhaustive;
pub mod feedback;
pub mod finding;
pub mod kernel;
pub mod names;
pub mod protocol;
pub mod report;
pub mod runtime;
pub mod scheduler;
pub mod trace;
pub mod world;
