//! # The scheme zoo
//!
//! Each scheme is one candidate synchronisation between a character
//! device's ioctl path and its removal path, written as a short driver model
//! with kernel-named primitives (one file each under [`schemes`]), plus the
//! verdict it is *expected* to get. The expectation is a declared value that
//! tests compare exploration against; the tool never echoes it as a result.
//!
//! [`workload`] runs a scheme: devices, user tasks that open, ioctl and
//! release, and a removal task. [`verify`] runs a scheme bounded-exhaustively
//! under loom. [`cli`] is the `unplug` command over any [`Registry`]: a
//! driver author's own crate calls [`cli::main`] with its schemes.

#![warn(missing_docs)]

pub mod check;
pub mod cli;
pub mod fuzz;
pub mod kc;
pub mod litmus;
pub mod minimize;
pub mod probes;
pub mod replay;
pub mod schemes;
pub mod shard;
pub mod verdict;
pub mod verify;
pub mod workload;

pub use fuzz::{fuzz_target, fuzz_targets, FuzzTarget};
/// The engine and kernel model (package `unplug-harness`), re-exported so a
/// driver crate can depend on `unplug` alone.
pub use harness;
pub use minimize::minimize;
pub use schemes::{find, registry, Body, Expected, Registry, Scheme, ALL};
pub use workload::Workload;
