//! The two runtimes an execution can run on, and what they share.
//!
//! The kernel model is written once. Every model operation is a *step*
//! against the thread-local world (see [`crate::world`]); only the few places
//! where a step meets the runtime depend on the [`Backend`]: the scheduling
//! point before a step, the running task's id, spawn and join, blocking, and
//! — under loom only — the memory that loom's C11 model must see.
//!
//! * [`shuttle`]: shuttle's coroutines under the engine's schedulers; a step
//!   is one atomic, sequentially consistent action, and happens-before is
//!   computed by the world's own vector clocks.
//! * [`loom`]: `loom::model`, bounded-exhaustive under the C11 memory model;
//!   a step starts with the loom operations that make it visible to loom.

pub mod loom;
pub mod shuttle;

use std::cell::Cell;
use std::panic;
use std::sync::Once;

pub use std::sync::atomic::Ordering;

/// The runtime an execution runs on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Backend {
    /// Shuttle coroutines under the engine's schedulers; sequential
    /// consistency, happens-before from the world's vector clocks.
    #[default]
    Shuttle,
    /// `loom::model`: bounded-exhaustive, C11 memory model.
    Loom,
}

thread_local! {
    static BACKEND: Cell<Backend> = const { Cell::new(Backend::Shuttle) };
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// The backend of the execution running on this thread.
pub fn backend() -> Backend {
    BACKEND.with(Cell::get)
}

pub(crate) fn set_backend(b: Backend) {
    BACKEND.with(|c| c.set(b));
}

/// The payload of the panic that ends a loom model run at a fatal finding
/// (loom has no other way to stop exploring). The finding itself is in the
/// world.
#[derive(Debug)]
pub(crate) struct StopExploring;

/// Run `f` with panic messages of this thread silenced: loom reports races,
/// branch overflows and our own stop requests by panicking, and those are
/// turned into findings, not printed.
pub(crate) fn quietly<R>(f: impl FnOnce() -> R) -> R {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        // Shuttle installs its own process-wide hook at its first run, and
        // that hook prints before calling the one it replaced: make sure it
        // is installed first, so that ours wraps it and silences it too.
        ::shuttle::check_random(|| {}, 1);
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                previous(info);
            }
        }));
    });
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            QUIET.with(|q| q.set(self.0));
        }
    }
    let _restore = Restore(QUIET.with(|q| q.replace(true)));
    f()
}

/// A panic payload as text.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "unknown panic".into())
}
