//! Tasks: the user threads that open and ioctl, and the removal path.

use crate::runtime::{backend, Backend};
use crate::world;
use std::borrow::Cow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A spawned task, to be joined.
#[derive(Debug)]
pub struct Task {
    /// The task's index in the world: filled in by the task itself when it
    /// starts under shuttle (its scheduler id), by its parent under loom.
    id: Arc<AtomicUsize>,
    handle: Handle,
}

/// The runtime's join handle.
#[derive(Debug)]
enum Handle {
    Shuttle(shuttle::thread::JoinHandle<()>),
    Loom(loom::thread::JoinHandle<()>),
}

/// Start a task named `name` running `f` (a user process calling `ioctl()`,
/// or the thread unbinding the driver). Everything the caller did before
/// happens-before everything `f` does.
pub fn spawn_task(name: impl Into<Cow<'static, str>>, f: impl FnOnce() + Send + 'static) -> Task {
    let name = name.into();
    super::rcu::domain();
    let clock = world::clock_for_spawn();
    match backend() {
        Backend::Shuttle => {
            let id = Arc::new(AtomicUsize::new(usize::MAX));
            let child_id = Arc::clone(&id);
            let handle = shuttle::thread::spawn(move || {
                let me = world::current_task();
                // The whole execution runs on one OS thread: no ordering is needed.
                child_id.store(me, Ordering::Relaxed);
                world::spawned(me, name, clock);
                if world::run_unless_stopped(f) {
                    world::task_finished();
                }
            });
            Task {
                id,
                handle: Handle::Shuttle(handle),
            }
        }
        Backend::Loom => {
            let child = world::reserve_loom_task(name, clock);
            let handle = loom::thread::spawn(move || {
                world::loom_task_started(child);
                f();
                world::task_finished();
            });
            Task {
                id: Arc::new(AtomicUsize::new(child)),
                handle: Handle::Loom(handle),
            }
        }
    }
}

impl Task {
    /// Wait for the task to end; its history happens-before the caller's
    /// next operations.
    pub fn join(self) {
        match self.handle {
            // A task cut off by a finding never returns; the execution stops
            // at the join's scheduling point instead, so the result is never
            // seen.
            Handle::Shuttle(h) => {
                let _ = h.join();
            }
            // A fatal finding ends the loom run by unwinding out of the
            // task that found it, so a join only ever sees a task that
            // returned.
            Handle::Loom(h) => {
                world::joining(true);
                let _ = h.join();
                world::joining(false);
            }
        }
        world::joined(self.id.load(Ordering::Relaxed));
    }
}

/// `lockdep_sys_exit()`: the check `exit_to_user_mode_prepare()` makes as a
/// system call returns to user space — a task may hold no lock, and be in
/// no SRCU/RCU read-side critical section, once the file operation it ran
/// (`syscall`, e.g. `"ioctl"`) has returned. Each lock still held (and not
/// reported before) is a [`crate::finding::FindingKind::LockHeldAtExit`]
/// finding naming where it was taken and the operation's last step. It
/// takes no step, so it changes no schedule; `chrdev_open()` and `__fput()`
/// make the same check after the driver's `open` and `release`.
#[track_caller]
pub fn lockdep_sys_exit(syscall: &str) {
    world::sys_exit(syscall, std::panic::Location::caller());
}

/// `cpu_relax()`: the body of a polling loop. The task does not run again
/// until another task has performed an operation, so a poll that cannot
/// succeed becomes a `Hang` rather than a scheduler spinning forever.
#[track_caller]
pub fn cpu_relax() {
    world::spin_wait();
}

/// `cond_resched()`: one step of unrelated work (a scheduling point that
/// changes nothing), e.g. the rest of a real driver's remove path.
#[track_caller]
pub fn cond_resched() {
    world::step(|cx| {
        cx.record_minor("cond_resched", crate::trace::Target::None, None);
    });
}
