//! Findings raised by the world itself: the record of an access for a
//! report, a fatal finding stopping the execution, and the deadlock and hang
//! reports that describe what each task waits for.

use super::{PrimId, TaskNames, Wait, World, JOIN, SPIN};
use crate::finding::{
    write_data_race_signature, write_use_after_removal_signature, Access, Detail, Finding,
    FindingKind,
};
use crate::trace::{short_site, ObjectId, ShortSite, Target};
use std::fmt::Write as _;

/// A finding as the world records it. The kinds an execution finds at
/// nearly every run of a broken scheme (a data race, a use-after-removal)
/// are kept as the events and ids that identify them: their text (object
/// names, each access's operation and call chain) is rendered only when a
/// caller reads the findings, which the engine does for an execution whose
/// finding is new to the run. Rarer kinds are rendered when raised.
#[derive(Clone, Debug)]
pub(crate) enum Recorded {
    /// A [`Detail::DataRace`] on `target` between events `first` and `second`.
    DataRace {
        /// The cell or object raced on.
        target: Target,
        /// The earlier access.
        first: usize,
        /// The later access, at which the race was detected.
        second: usize,
    },
    /// A [`Detail::UseAfterRemoval`] of `object` at event `access`.
    UseAfterRemoval {
        /// The freed object.
        object: ObjectId,
        /// The access to freed memory.
        access: usize,
        /// Its `kfree()`.
        free: usize,
        /// Its allocation.
        alloc: usize,
    },
    /// Any other finding, rendered when raised (boxed: a rendered finding
    /// is many times the size of the others, and rare).
    Rendered(Box<Finding>),
}

impl Recorded {
    /// The kind of the finding.
    pub(crate) fn kind(&self) -> FindingKind {
        match self {
            Recorded::DataRace { .. } => FindingKind::DataRace,
            Recorded::UseAfterRemoval { .. } => FindingKind::UseAfterRemoval,
            Recorded::Rendered(f) => f.kind,
        }
    }
}

impl World {
    /// An [`Access`] describing event `e`.
    pub(crate) fn access(&self, e: usize) -> Access {
        let ev = &self.trace[e];
        Access {
            event: e,
            task: self.task_name(ev.task).to_string(),
            op: self.event_text(ev),
            site: short_site(ev.site),
            called_from: self.call_chain(ev.caller),
        }
    }

    /// The operations that ran the callback an event belongs to, innermost
    /// first: `kref_put(&mem0.kobj.kref) -> 0 at scheme.rs:60`.
    fn call_chain(&self, mut caller: Option<usize>) -> Vec<String> {
        let mut chain = Vec::new();
        while let Some(c) = caller {
            let ev = &self.trace[c];
            chain.push(format!(
                "{} at {}",
                self.event_text(ev),
                short_site(ev.site)
            ));
            caller = ev.caller;
        }
        chain
    }

    /// Record a finding; a fatal one stops the execution at the next
    /// scheduling point.
    pub(crate) fn report(&mut self, finding: Finding) {
        self.record(Recorded::Rendered(Box::new(finding)));
    }

    /// Record a data race on `target` between events `first` and `second`,
    /// to be rendered if read (see [`Recorded`]).
    pub(crate) fn report_race(&mut self, target: Target, first: usize, second: usize) {
        self.record(Recorded::DataRace {
            target,
            first,
            second,
        });
    }

    /// Record an access (event `access`) to `object` after its free, to be
    /// rendered if read (see [`Recorded`]); `free` is the event that freed it.
    pub(crate) fn report_use_after_removal(
        &mut self,
        object: ObjectId,
        access: usize,
        free: usize,
    ) {
        let alloc = self.objects[object.0 as usize].alloc_event;
        self.record(Recorded::UseAfterRemoval {
            object,
            access,
            free,
            alloc,
        });
    }

    /// See [`World::report`].
    fn record(&mut self, finding: Recorded) {
        if self.stop {
            return;
        }
        if finding.kind().is_fatal() {
            self.stop = true;
        }
        self.findings.push(finding);
        // A finding read before this one was raised is read again whole.
        self.rendered.take();
    }

    /// The kinds of the execution's findings, in the order raised, without
    /// rendering them.
    pub fn finding_kinds(&self) -> impl Iterator<Item = FindingKind> + '_ {
        self.findings.iter().map(Recorded::kind)
    }

    /// The findings of the execution so far, rendered at the first read
    /// after the last one was raised.
    pub fn findings(&self) -> &[Finding] {
        self.rendered
            .get_or_init(|| self.findings.iter().map(|r| self.render(r)).collect())
    }

    /// The text of a recorded finding: what [`World::report`] would have
    /// been given for it at the time it was raised.
    fn render(&self, r: &Recorded) -> Finding {
        let detail = match *r {
            Recorded::Rendered(ref f) => return (**f).clone(),
            Recorded::DataRace {
                target,
                first,
                second,
            } => Detail::DataRace {
                cell: self.target_name(target).into_owned(),
                first: self.access(first),
                second: self.access(second),
            },
            Recorded::UseAfterRemoval {
                object,
                access,
                free,
                alloc,
            } => Detail::UseAfterRemoval {
                object: self.object_name(object).to_string(),
                access: self.access(access),
                free: self.access(free),
                alloc: self.access(alloc),
            },
        };
        Finding {
            kind: r.kind(),
            detail,
        }
    }

    /// Whether `known` returns false for the [`Finding::signature`] of any
    /// of the execution's findings: whether the execution found something
    /// new to the caller. The signatures of the recorded kinds are written
    /// into a buffer the world keeps, so an execution finding only what
    /// the run already knows allocates nothing.
    pub fn any_new_signature(&mut self, mut known: impl FnMut(&str) -> bool) -> bool {
        let mut bufs = std::mem::take(&mut self.signature_bufs);
        let new = self.findings.iter().any(|r| {
            self.write_signature(r, &mut bufs);
            !known(&bufs[0])
        });
        self.signature_bufs = bufs;
        new
    }

    /// Write `r`'s [`Finding::signature`] into `bufs[0]`, through the
    /// writers [`Finding::signature`] uses; the other two hold its sites.
    fn write_signature(&self, r: &Recorded, bufs: &mut [String; 3]) {
        let [sig, a, b] = bufs;
        sig.clear();
        let site = |buf: &mut String, event: usize| {
            buf.clear();
            // Writing into a String cannot fail.
            let _ = write!(buf, "{}", ShortSite(self.trace[event].site));
        };
        let _ = match *r {
            Recorded::Rendered(ref f) => {
                sig.push_str(&f.signature());
                Ok(())
            }
            Recorded::DataRace {
                target,
                first,
                second,
            } => {
                site(a, first);
                site(b, second);
                write_data_race_signature(sig, &self.target_name(target), a, b)
            }
            Recorded::UseAfterRemoval {
                object,
                access,
                free,
                ..
            } => {
                site(a, access);
                site(b, free);
                write_use_after_removal_signature(sig, self.object_name(object), a, b)
            }
        };
    }

    /// Describe what task `t` is blocked on, naming who holds it.
    pub(crate) fn describe_wait(&self, wait: Wait) -> String {
        if wait.prim == SPIN {
            return format!("{} (spinning)", wait.op);
        }
        if wait.prim == JOIN {
            return wait.op.to_string();
        }
        let slot = self.prim(wait.prim);
        let holders = slot.state.describe_holders(&TaskNames { w: self });
        if holders.is_empty() {
            format!("{}(&{})", wait.op, slot.name)
        } else {
            format!("{}(&{}) [{holders}]", wait.op, slot.name)
        }
    }

    /// Record that every live task is blocked: a deadlock, or a hang if
    /// any of them is spinning (it polls, but nothing can change).
    pub(crate) fn report_deadlock(&mut self, steps: u64) {
        if self.spinning > 0 {
            return self.report_hang(steps);
        }
        let blocked: Vec<(String, Wait)> = self
            .tasks
            .iter()
            .filter(|t| !t.finished)
            .filter_map(|t| {
                t.wait
                    .filter(|w| w.prim != JOIN)
                    .map(|w| (t.name.to_string(), w))
            })
            .collect();
        let waits = blocked
            .iter()
            .map(|(t, w)| (t.clone(), self.describe_wait(*w)))
            .collect();
        // Each lock waited on once, with every task holding it.
        let mut locks: Vec<PrimId> = blocked.iter().map(|(_, w)| w.prim).collect();
        locks.sort_unstable();
        locks.dedup();
        let holders = locks
            .into_iter()
            .filter(|&p| p != SPIN)
            .flat_map(|p| self.holders(p))
            .collect();
        self.report(Finding {
            kind: FindingKind::Deadlock,
            detail: Detail::Deadlock { waits, holders },
        });
    }

    /// What a task blocked in `wait` waits for, for a hang report: the
    /// primitive, who holds it, and where each holder took it (from the
    /// held locks lockdep keeps), as `down_write(&sem) held for read by
    /// user0 (acquired at scheme.rs:45)`.
    fn describe_blocked(&self, me: &str, wait: Wait) -> String {
        if wait.prim == SPIN {
            return format!(
                "spins in {}, polling what no other task can change",
                wait.op
            );
        }
        if wait.prim == JOIN {
            return format!("waits in {}", wait.op);
        }
        let slot = self.prim(wait.prim);
        let state = slot.state.describe_holders(&TaskNames { w: self });
        let mut parts: Vec<String> = state
            .split("; ")
            .filter(|p| !p.is_empty())
            // The waiter itself queued (`writer queued: user1`) says
            // nothing the first words do not.
            .filter(|p| !p.strip_suffix(me).is_some_and(|r| r.ends_with("queued: ")))
            .map(str::to_string)
            .collect();
        let holders = self.holders(wait.prim);
        if !holders.is_empty() {
            let sites = if let [h] = holders.as_slice() {
                format!("acquired at {}", h.acquired.site)
            } else {
                let each: Vec<String> = holders
                    .iter()
                    .map(|h| format!("{} at {}", h.acquired.task, h.acquired.site))
                    .collect();
                format!("acquired by {}", each.join(", "))
            };
            // After the words that name the holders (`held for read by
            // user0`), or, for a primitive whose state names no task (an
            // SRCU domain's counts), as words of their own.
            let names = |p: &str, task: &str| p.split([' ', ',']).any(|w| w == task);
            match parts
                .iter_mut()
                .find(|p| holders.iter().any(|h| names(p, &h.acquired.task)))
            {
                Some(p) => p.push_str(&format!(" ({sites})")),
                None => {
                    let mut tasks: Vec<&str> =
                        holders.iter().map(|h| h.acquired.task.as_str()).collect();
                    tasks.dedup();
                    parts.push(format!("held by {} ({sites})", tasks.join(", ")));
                }
            }
        }
        let mut text = format!("waits in {}(&{})", wait.op, slot.name);
        if !parts.is_empty() {
            text.push(' ');
            text.push_str(&parts.join("; "));
        }
        text
    }

    /// Record that the step budget ran out: each live task with what it
    /// waits for and who holds it, or the last step it ran.
    pub(crate) fn report_hang(&mut self, steps: u64) {
        let live = self
            .tasks
            .iter()
            .filter(|t| !t.finished)
            .map(|t| {
                let doing = match (t.wait, t.last_event) {
                    (Some(w), _) => self.describe_blocked(&t.name, w),
                    // Runnable, or joining a task (joins are not modelled
                    // as waits under shuttle).
                    (None, Some(e)) => {
                        format!("waits on no lock; last step: {}", self.access(e).op)
                    }
                    (None, None) => "recorded no step".to_string(),
                };
                (t.name.to_string(), doing)
            })
            .collect();
        self.report(Finding {
            kind: FindingKind::Hang,
            detail: Detail::Hang { steps, live },
        });
    }
}
