//! Findings: what an execution can prove wrong about a scheme.
//!
//! A finding is a value recorded in the world, never a panic: the execution
//! that found it stops cleanly at its next scheduling point (or, for a data
//! race, carries on so later findings of the same run are still seen).

use serde::{Deserialize, Serialize};
use std::fmt;

/// The kind of a finding; what verdicts and corpus entries are made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    /// An access to an object after removal freed it (KASAN's use-after-free).
    UseAfterRemoval,
    /// A second `kfree()` of an object already freed, or a put of a
    /// reference count whose last put already ran the release (KASAN's
    /// "double-free", refcount_t's "underflow; use-after-free").
    ///
    /// Ranked just below [`FindingKind::UseAfterRemoval`]: both corrupt the
    /// same freed object, and either is fatal, but a double free in these
    /// models is the removal path's own bookkeeping going wrong (a release
    /// run twice, an extra put), found without any racing file operation,
    /// while a use-after-removal is the race the schemes exist to close: a
    /// file operation reaching what removal freed. An execution ends at its
    /// first fatal finding, so the rank only orders verdicts across
    /// executions: a scheme showing both is reported by the file operation
    /// that outran removal.
    DoubleFree,
    /// Two conflicting plain accesses, at least one a write, unordered by
    /// happens-before.
    DataRace,
    /// Every live task blocked, none able to wake another.
    Deadlock,
    /// The step budget ran out: a livelock or an unbounded wait.
    Hang,
    /// The scenario ended with an object never freed.
    Leak,
    /// A task returned to user space from a file operation, or exited,
    /// holding a lock or inside an SRCU/RCU read-side critical section
    /// (lockdep's "lock held when returning to user space!" from
    /// `lockdep_sys_exit()`, and "still has locks held!" from
    /// `debug_check_no_locks_held()` in `do_exit()`).
    ///
    /// Its own kind, not a deadlock: a leaked lock is a bug whether or not
    /// anyone waits for it, and it is found at the return that leaked it,
    /// before (often long before) the wait that never ends. Like lockdep's
    /// warning it does not end the execution: the execution runs on, so the
    /// deadlock the leaked lock causes is found too, naming the exited
    /// holder.
    LockHeldAtExit,
    /// A scenario-defined invariant failed.
    Invariant,
    /// A scenario's own assertion fired: `BUG_ON()`, `WARN_ON()`, or a
    /// litmus test's `exists` clause observed after its threads joined.
    Assertion,
}

impl FindingKind {
    /// All kinds, in report order.
    pub const ALL: [FindingKind; 9] = [
        FindingKind::UseAfterRemoval,
        FindingKind::DoubleFree,
        FindingKind::DataRace,
        FindingKind::Deadlock,
        FindingKind::Hang,
        FindingKind::Leak,
        FindingKind::LockHeldAtExit,
        FindingKind::Invariant,
        FindingKind::Assertion,
    ];

    /// The kebab-case name used on the command line and in corpus files.
    pub fn name(self) -> &'static str {
        match self {
            FindingKind::UseAfterRemoval => "use-after-removal",
            FindingKind::DoubleFree => "double-free",
            FindingKind::DataRace => "data-race",
            FindingKind::Deadlock => "deadlock",
            FindingKind::Hang => "hang",
            FindingKind::Leak => "leak",
            FindingKind::LockHeldAtExit => "lock-held-at-exit",
            FindingKind::Invariant => "invariant",
            FindingKind::Assertion => "assertion",
        }
    }

    /// Parse a kebab-case name.
    pub fn from_name(name: &str) -> Option<FindingKind> {
        FindingKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Whether a finding of this kind ends its execution. A data race does
    /// not: like KCSAN, the model reports it and runs on, so that a scheme
    /// whose verdict is "data race only" is also shown free of removal bugs.
    /// Nor does a lock held at exit: lockdep warns and the kernel carries
    /// on, and what the leaked lock does next (a deadlock naming the exited
    /// holder) is part of the story.
    pub fn is_fatal(self) -> bool {
        !matches!(self, FindingKind::DataRace | FindingKind::LockHeldAtExit)
    }
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One access named by a finding: who, what and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Access {
    /// Index of the event in the execution's trace.
    pub event: usize,
    /// Name of the task that made it.
    pub task: String,
    /// The operation (`READ_ONCE`, `plain write`, `kfree`, …).
    pub op: String,
    /// Short `file:line` of the call site.
    pub site: String,
    /// When the access is made by a callback (a release run by the last
    /// put, a devm action run by the driver core): the operations that ran
    /// it, innermost first, each as `op at file:line`. The site alone would
    /// name the callback's own line, not the scheme's call that ran it.
    pub called_from: Vec<String>,
}

/// A task holding a lock that a deadlocked task waits on (lockdep's list
/// of held locks, per lock).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holder {
    /// The lock's name (`cxl_memdev_rwsem`).
    pub lock: String,
    /// Where the holder took it: its task, operation and site.
    pub acquired: Access,
    /// If the holder returned (to user space from a file operation, or out
    /// of the task) still holding the lock: its last step before that
    /// return, where the path that leaked the lock ended.
    pub exited: Option<Access>,
}

/// Which kind of scenario assertion fired.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssertionKind {
    /// `BUG_ON(cond)`: the kernel prints "kernel BUG at file:line!" and
    /// kills the task.
    Bug,
    /// `WARN_ON(cond)`: the kernel prints "WARNING: ... at file:line" and
    /// carries on; the model ends the execution all the same, so that the
    /// explorers report it with its schedule.
    Warn,
    /// A NULL pointer followed: the page-fault handler's oops. On x86,
    /// `page_fault_oops()` (arch/x86/mm/fault.c) has `show_fault_oops()`
    /// print "BUG: kernel NULL pointer dereference, address: …" for an
    /// address in the first page, then `oops_end()` kills the task.
    NullDeref,
    /// A litmus test's final condition (`exists (1:r0=1 /\ 1:r1=0)`) held
    /// on the observed values: the outcome the test asks about happened.
    Exists,
}

/// What a finding says, per kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Detail {
    /// `object` was accessed by `access` after `free` released it.
    UseAfterRemoval {
        /// The object's name, e.g. `cxlm`.
        object: String,
        /// The access to freed memory.
        access: Access,
        /// Where it was freed.
        free: Access,
        /// Where it was allocated.
        alloc: Access,
    },
    /// `object`, already freed by `first_free`, freed again by `free`.
    DoubleFree {
        /// The object's name (for a reference count, the count's name).
        object: String,
        /// The second free (or the put past zero).
        free: Access,
        /// The free (or the last put) that came first.
        first_free: Access,
        /// Where it was allocated (or its count initialised).
        alloc: Access,
    },
    /// `first` and `second` conflict on `cell` without happens-before.
    DataRace {
        /// The cell's name, e.g. `kobj.state_in_sysfs`.
        cell: String,
        /// The earlier access in execution order.
        first: Access,
        /// The later access, at which the race was detected.
        second: Access,
    },
    /// Each blocked task with what it waits for.
    Deadlock {
        /// `(task, "down_read(&cxl_memdev_rwsem) held for write by remove")`.
        waits: Vec<(String, String)>,
        /// Who holds what the blocked tasks wait on, and where they took it.
        holders: Vec<Holder>,
    },
    /// The budget of scheduling steps that ran out.
    Hang {
        /// Steps taken when the execution was cut off.
        steps: u64,
        /// Tasks still live, with what each was doing last: `waits in
        /// down_write(&sem) held for read by user0 (acquired at x.rs:45)`,
        /// `spins in …`, `waits on no lock; last step: …`.
        live: Vec<(String, String)>,
    },
    /// An object still allocated when the scenario ended.
    Leak {
        /// The object's name.
        object: String,
        /// Where it was allocated.
        alloc: Access,
    },
    /// Locks `task` still held when it returned to user space or exited.
    LockHeldAtExit {
        /// The task.
        task: String,
        /// Where it returned: `returning to user space from ioctl at
        /// workload.rs:163`, or `exiting`.
        context: String,
        /// The acquisition of each lock still held, oldest first.
        held: Vec<Access>,
        /// The task's last step before it returned: where the path that
        /// leaked the lock ended.
        last: Option<Access>,
    },
    /// A scenario-defined invariant failed.
    Invariant {
        /// The scenario's own words.
        message: String,
        /// Where it was checked.
        at: Access,
    },
    /// A scenario assertion fired.
    Assertion {
        /// `BUG_ON`, `WARN_ON` or an `exists` clause.
        kind: AssertionKind,
        /// The condition as the scenario wrote it (the `exists` clause of a
        /// litmus test), empty if the scenario gave none.
        condition: String,
        /// The values the condition was evaluated on (`1:r0=1 1:r1=0`),
        /// empty if none were given.
        observed: String,
        /// Where it was checked.
        at: Access,
    },
}

/// A finding: its kind, details, and the task at fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The kind of bug.
    pub kind: FindingKind,
    /// What exactly happened.
    pub detail: Detail,
}

impl Finding {
    /// A stable key that two executions hitting "the same bug" share: the
    /// kind and the sites involved, not the schedule. Used to print one
    /// report per distinct finding.
    pub fn signature(&self) -> String {
        match &self.detail {
            Detail::UseAfterRemoval {
                object,
                access,
                free,
                ..
            } => {
                let mut sig = String::new();
                let _ =
                    write_use_after_removal_signature(&mut sig, object, &access.site, &free.site);
                sig
            }
            Detail::DoubleFree {
                object,
                free,
                first_free,
                ..
            } => format!("{}:{object}:{}:{}", self.kind, free.site, first_free.site),
            Detail::DataRace {
                cell,
                first,
                second,
            } => {
                let mut sig = String::new();
                let _ = write_data_race_signature(&mut sig, cell, &first.site, &second.site);
                sig
            }
            Detail::Deadlock { waits, .. } => {
                // What each task waits in, without who holds it: the same
                // deadlock reached by other tasks is the same bug.
                let mut w: Vec<&str> = waits
                    .iter()
                    .map(|(_, what)| what.split(" [").next().unwrap_or(what))
                    .collect();
                w.sort_unstable();
                w.dedup();
                format!("{}:{}", self.kind, w.join("|"))
            }
            Detail::Hang { .. } => self.kind.to_string(),
            Detail::Leak { object, alloc } => format!("{}:{object}:{}", self.kind, alloc.site),
            Detail::LockHeldAtExit { held, .. } => {
                // Where the leaked locks were taken: the same leak reached
                // by another task, or returned from elsewhere, is the same
                // bug.
                let mut sites: Vec<&str> = held.iter().map(|a| a.site.as_str()).collect();
                sites.sort_unstable();
                sites.dedup();
                format!("{}:{}", self.kind, sites.join("|"))
            }
            Detail::Invariant { message, at } => format!("{}:{message}:{}", self.kind, at.site),
            Detail::Assertion { condition, at, .. } => {
                format!("{}:{condition}:{}", self.kind, at.site)
            }
        }
    }

    /// [`Finding::signature`] without line numbers (`x.rs:12` becomes
    /// `x.rs`): what a corpus entry must reproduce. Editing a scenario file
    /// moves lines; it does not make a recorded bug a different bug.
    pub fn stable_signature(&self) -> String {
        strip_line_numbers(&self.signature())
    }

    /// One line: `use-after-removal: cxlm accessed by ioctl0 at x.rs:12`.
    pub fn headline(&self) -> String {
        match &self.detail {
            Detail::UseAfterRemoval {
                object,
                access,
                free,
                ..
            } => format!(
                "use-after-removal of {object}: {} by {} at {} after {} by {} at {}",
                access.op, access.task, access.site, free.op, free.task, free.site
            ),
            Detail::DataRace {
                cell,
                first,
                second,
            } => format!(
                "data race on {cell}: {} by {} at {} vs {} by {} at {}",
                first.op, first.task, first.site, second.op, second.task, second.site
            ),
            Detail::DoubleFree {
                object,
                free,
                first_free,
                ..
            } => format!(
                "double-free of {object}: {} by {} at {} after {} by {} at {}",
                free.op, free.task, free.site, first_free.op, first_free.task, first_free.site
            ),
            Detail::Deadlock { waits, .. } => {
                let w: Vec<String> = waits
                    .iter()
                    .map(|(t, what)| format!("{t} in {what}"))
                    .collect();
                format!("deadlock: {}", w.join("; "))
            }
            Detail::Hang { steps, .. } => {
                format!("hang: no progress within {steps} scheduling steps")
            }
            Detail::Leak { object, alloc } => {
                format!(
                    "leak: {object} allocated by {} at {} was never freed",
                    alloc.task, alloc.site
                )
            }
            Detail::LockHeldAtExit {
                task,
                context,
                held,
                ..
            } => {
                let locks: Vec<String> = held
                    .iter()
                    .map(|a| format!("{} at {}", a.op, a.site))
                    .collect();
                format!(
                    "lock held at exit: {task} {context} holding {}",
                    locks.join(", ")
                )
            }
            Detail::Invariant { message, at } => {
                format!("invariant failed: {message} ({} at {})", at.task, at.site)
            }
            Detail::Assertion {
                kind,
                condition,
                observed,
                at,
            } => {
                let what = match kind {
                    AssertionKind::Bug => "BUG_ON",
                    AssertionKind::Warn => "WARN_ON",
                    AssertionKind::Exists => "exists",
                    AssertionKind::NullDeref => "NULL pointer dereference",
                };
                let mut s = what.to_string();
                if !condition.is_empty() {
                    s.push_str(&format!(" {condition}"));
                }
                s.push_str(&format!(" fired ({} at {})", at.task, at.site));
                if !observed.is_empty() {
                    s.push_str(&format!(": {observed}"));
                }
                s
            }
        }
    }
}

/// Remove the `:LINE` after every `.rs` in a signature.
pub fn strip_line_numbers(signature: &str) -> String {
    let mut out = String::with_capacity(signature.len());
    let mut rest = signature;
    while let Some(i) = rest.find(".rs:") {
        out.push_str(&rest[..i + 3]);
        rest = rest[i + 4..].trim_start_matches(|c: char| c.is_ascii_digit());
    }
    out.push_str(rest);
    out
}

/// Write the [`Finding::signature`] of a use-after-removal of `object`
/// accessed at `access` after its free at `free`. One writer for the
/// rendered finding and for the world's recorded one
/// ([`crate::world::World::any_new_signature`]), so the two cannot drift.
pub(crate) fn write_use_after_removal_signature(
    out: &mut impl fmt::Write,
    object: &str,
    access: &str,
    free: &str,
) -> fmt::Result {
    write!(
        out,
        "{}:{object}:{access}:{free}",
        FindingKind::UseAfterRemoval
    )
}

/// Write the [`Finding::signature`] of a data race on `cell` between the
/// accesses at sites `a` and `b`, in text order: the race found from either
/// end is the same race. Shared as [`write_use_after_removal_signature`] is.
pub(crate) fn write_data_race_signature(
    out: &mut impl fmt::Write,
    cell: &str,
    a: &str,
    b: &str,
) -> fmt::Result {
    let (a, b) = if a <= b { (a, b) } else { (b, a) };
    write!(out, "{}:{cell}:{a}:{b}", FindingKind::DataRace)
}

#[cfg(test)]
mod tests {
    use super::strip_line_numbers;

    #[test]
    fn line_numbers_are_stripped_and_nothing_else() {
        assert_eq!(
            strip_line_numbers("use-after-removal:mem0.cxlm:a.rs:33:b.rs:40"),
            "use-after-removal:mem0.cxlm:a.rs:b.rs"
        );
        assert_eq!(
            strip_line_numbers("deadlock:down_read(&sem)"),
            "deadlock:down_read(&sem)"
        );
    }
}
