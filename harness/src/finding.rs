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
    /// Two conflicting plain accesses, at least one a write, unordered by
    /// happens-before.
    DataRace,
    /// Every live task blocked, none able to wake another.
    Deadlock,
    /// The step budget ran out: a livelock or an unbounded wait.
    Hang,
    /// The scenario ended with an object never freed.
    Leak,
    /// A scenario-defined invariant failed.
    Invariant,
    /// A scenario's own assertion fired: `BUG_ON()`, `WARN_ON()`, or a
    /// litmus test's `exists` clause observed after its threads joined.
    Assertion,
}

impl FindingKind {
    /// All kinds, in report order.
    pub const ALL: [FindingKind; 7] = [
        FindingKind::UseAfterRemoval,
        FindingKind::DataRace,
        FindingKind::Deadlock,
        FindingKind::Hang,
        FindingKind::Leak,
        FindingKind::Invariant,
        FindingKind::Assertion,
    ];

    /// The kebab-case name used on the command line and in corpus files.
    pub fn name(self) -> &'static str {
        match self {
            FindingKind::UseAfterRemoval => "use-after-removal",
            FindingKind::DataRace => "data-race",
            FindingKind::Deadlock => "deadlock",
            FindingKind::Hang => "hang",
            FindingKind::Leak => "leak",
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
    pub fn is_fatal(self) -> bool {
        !matches!(self, FindingKind::DataRace)
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
    },
    /// The budget of scheduling steps that ran out.
    Hang {
        /// Steps taken when the execution was cut off.
        steps: u64,
        /// Tasks still live, with what each was doing last.
        live: Vec<(String, String)>,
    },
    /// An object still allocated when the scenario ended.
    Leak {
        /// The object's name.
        object: String,
        /// Where it was allocated.
        alloc: Access,
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
            } => format!("{}:{object}:{}:{}", self.kind, access.site, free.site),
            Detail::DataRace {
                cell,
                first,
                second,
            } => {
                let (a, b) = if first.site <= second.site {
                    (&first.site, &second.site)
                } else {
                    (&second.site, &first.site)
                };
                format!("{}:{cell}:{a}:{b}", self.kind)
            }
            Detail::Deadlock { waits } => {
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
            Detail::Deadlock { waits } => {
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
