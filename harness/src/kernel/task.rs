//! Tasks: the user threads that open and ioctl, and the removal path.

use crate::backend::{backend, BackendKind, Spawned};
use crate::world;
use std::borrow::Cow;

/// A spawned task, to be joined.
pub struct Task {
    /// The runtime's handle.
    spawned: Spawned,
}

impl std::fmt::Debug for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Task").finish_non_exhaustive()
    }
}

/// Start a task named `name` running `f` (a user process calling `ioctl()`,
/// or the thread unbinding the driver). Everything the caller did before
/// happens-before everything `f` does.
pub fn spawn_task(name: impl Into<Cow<'static, str>>, f: impl FnOnce() + Send + 'static) -> Task {
    let name = name.into();
    super::rcu::domain();
    let clock = world::clock_for_spawn();
    let b = backend();
    // The native runtime takes `f` as it is, onto the child's stack:
    // `Backend::spawn`, a method of a trait object, needs it boxed, an
    // allocation and a free per spawn.
    let spawned = match b.kind() {
        BackendKind::Native => crate::backend::native::spawn(name, clock, f),
        _ => b.spawn(name, clock, Box::new(f)),
    };
    Task { spawned }
}

impl Task {
    /// Wait for the task to end; its history happens-before the caller's
    /// next operations.
    pub fn join(self) {
        world::joined(self.spawned.join());
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
    world::sys_exit(syscall, crate::trace::Site::caller());
}

/// Run `f` as a call named `op` made at `site`: every operation `f`
/// performs is reported as called from `op() at site`. For a helper that
/// runs a scheme's work later, in a closure, where `#[track_caller]` cannot
/// carry the scheme's line: the helper takes `Location::caller()` when the
/// scheme calls it and hands it here when the closure runs (the memdev
/// helpers' `probe_each()`). Records a bookkeeping event and takes no step,
/// so schedules are unchanged.
pub fn called_at<R>(
    site: &'static std::panic::Location<'static>,
    op: &'static str,
    f: impl FnOnce() -> R,
) -> R {
    let e = world::record_call(site, op);
    world::callback(e, f)
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

/// The running task's index in its execution (the model's `current`): an
/// interpreted scheme keys per-task state on it, such as the `struct file`
/// each user task has open.
pub fn current_task_index() -> usize {
    world::current_task()
}
