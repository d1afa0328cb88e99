//! The runtime facade: which runtime runs the current execution, and what the
//! loom runtime needs from the model.
//!
//! The kernel model is written once. Every model operation is a *step*
//! against the thread-local [`World`](crate::world::World); only the few
//! places where a step meets the runtime dispatch on the [`Backend`]:
//! the scheduling point before a step, the running task's id, spawn and join,
//! blocking, and — under loom only — the memory that loom's C11 model must
//! see.
//!
//! Under **shuttle** a step is one atomic, sequentially consistent action,
//! and happens-before is computed by the world's own vector clocks.
//!
//! Under **loom** a step starts with at most a couple of loom operations
//! (each one of loom's branch points), then runs its world update with no
//! further branch point, so it is still atomic in loom's execution order:
//!
//! * a primitive's step is one read-modify-write, with the ordering of that
//!   kernel operation (`down_read` acquires, `up_read` releases, `kref_get`
//!   is relaxed, …), on one loom word the primitive owns ([`LoomWord`]).
//!   Being an RMW, it reads the latest value, so the hand-over it models is
//!   exact: an acquire at that point acquires every release the world's
//!   order put before it, and nothing later. Steps on one primitive are
//!   therefore dependent for loom's partial-order reduction; steps on
//!   different primitives commute, as they do in the world.
//! * a memory cell owns a loom atomic whose loads return the value the
//!   execution reads — that is how store buffering becomes visible — and
//!   loom `UnsafeCell`s on which plain accesses are checked for races
//!   ([`LoomCell`]).
//! * an object owns a loom word that accesses load and `kfree` stores, so
//!   loom orders every access against the free both ways whenever they are
//!   not ordered by happens-before; the world then reports the access that
//!   comes after the free. Its memory is also a loom `UnsafeCell`
//!   (`LoomBody`) that plain accesses read or write and the free writes,
//!   together with the race-check cells of every memory cell embedded in it:
//!   loom reports an access that came before the free without being ordered
//!   before it as a data race.
//! * barriers are loom fences, which are not branch points: `smp_mb()` is a
//!   `SeqCst` fence, placed inside the step that executes it.

use crate::clock::MAX_TASKS;
use loom::cell::UnsafeCell;
use loom::sync::atomic::AtomicU64;
use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;
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

/// The most tasks an execution may have under loom: loom's own thread limit,
/// the main (init) task included.
pub const MAX_LOOM_TASKS: usize = loom::MAX_THREADS;

const _: () = assert!(
    MAX_LOOM_TASKS <= MAX_TASKS,
    "loom tasks must fit the world's clocks"
);

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
        shuttle::check_random(|| {}, 1);
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
