//! Findings raised by the world itself: the record of an access for a
//! report, a fatal finding stopping the execution, and the deadlock and hang
//! reports that describe what each task waits for.

use super::{TaskNames, Wait, World, JOIN, SPIN};
use crate::finding::{Access, Detail, Finding, FindingKind};
use crate::trace::short_site;

impl World {
    /// An [`Access`] describing event `e`.
    pub(crate) fn access(&self, e: usize) -> Access {
        let ev = &self.trace[e];
        Access {
            event: e,
            task: self.task_name(ev.task).to_string(),
            op: self.event_text(ev),
            site: short_site(ev.site),
        }
    }

    /// Record a finding; a fatal one stops the execution at the next
    /// scheduling point.
    pub(crate) fn report(&mut self, finding: Finding) {
        if self.stop {
            return;
        }
        if finding.kind.is_fatal() {
            self.stop = true;
        }
        self.findings.push(finding);
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
        let waits = self
            .tasks
            .iter()
            .filter(|t| !t.finished)
            .filter_map(|t| {
                t.wait
                    .filter(|w| w.prim != JOIN)
                    .map(|w| (t.name.to_string(), self.describe_wait(w)))
            })
            .collect();
        self.report(Finding {
            kind: FindingKind::Deadlock,
            detail: Detail::Deadlock { waits },
        });
    }

    /// Record that the step budget ran out.
    pub(crate) fn report_hang(&mut self, steps: u64) {
        let live = self
            .tasks
            .iter()
            .filter(|t| !t.finished)
            .map(|t| {
                let doing = match (t.wait, t.last_event) {
                    (Some(w), _) => format!("waiting in {}", self.describe_wait(w)),
                    (None, Some(e)) => format!("spinning after {}", self.access(e).op),
                    (None, None) => "not started".to_string(),
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
