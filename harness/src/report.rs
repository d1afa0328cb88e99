//! Reports: a kernel commit message's race diagram, then a KASAN/KCSAN/
//! lockdep-style summary, then the command that replays it.
//!
//! ```text
//!  CPU0 (user1)                               CPU1 (remove)
//!  srcu_read_lock(cxl_memdev_srcu) = 0
//!                                             synchronize_srcu(cxl_memdev_srcu)
//!  read(mem1.cxlm)                  <-- BUG
//! ```
//!
//! A report is a pure function of the execution record and its header, so
//! replaying a schedule prints the same bytes every time.

use crate::engine::{ExecutionRecord, RenderedEvent};
use crate::finding::{Access, Detail, Finding};
use std::collections::BTreeSet;
use std::fmt::Write;

/// What the report says about where the execution came from.
#[derive(Clone, Debug)]
pub struct Header {
    /// The scheme's name.
    pub scheme: String,
    /// One line describing the workload (as command-line flags).
    pub workload: String,
    /// The exact command that replays this execution.
    pub replay: String,
    /// The memory model the verdict holds under.
    pub model: String,
}

/// How much of the trace to draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detailing {
    /// Only the tasks the finding involves, only events that matter.
    Diagram,
    /// Every task, every event (bookkeeping included).
    Full,
}

const RULE: &str = "==================================================================";
/// Widest a diagram column gets; longer event texts are cut.
const MAX_COLUMN: usize = 56;

/// Render the report of `finding` in `record`.
pub fn render(
    header: &Header,
    record: &ExecutionRecord,
    finding: &Finding,
    detailing: Detailing,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "unplug: {} in scheme {}", finding.kind, header.scheme);
    let _ = writeln!(out, "  workload: {}", header.workload);
    let _ = writeln!(out);
    out.push_str(&diagram(record, finding, detailing));
    let _ = writeln!(out);
    out.push_str(&summary(header, finding));
    let _ = writeln!(out);
    let _ = writeln!(out, "Replay: {}", header.replay);
    out
}

/// Render the reports of every finding of an execution, in the order found.
/// This is what `fuzz` prints per distinct execution and what `replay`
/// prints, so the two are byte-identical.
pub fn render_execution(header: &Header, record: &ExecutionRecord, detailing: Detailing) -> String {
    record
        .findings
        .iter()
        .map(|f| render(header, record, f, detailing))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The events the finding names, with the marker each gets in the diagram.
fn marked_events(finding: &Finding) -> Vec<(usize, &'static str)> {
    match &finding.detail {
        Detail::UseAfterRemoval { access, free, .. } => {
            vec![
                (access.event, "<-- use-after-removal"),
                (free.event, "<-- freed here"),
            ]
        }
        Detail::DataRace { first, second, .. } => {
            vec![(first.event, "<-- race"), (second.event, "<-- race")]
        }
        Detail::Leak { alloc, .. } => vec![(alloc.event, "<-- never freed")],
        Detail::Invariant { at, .. } => vec![(at.event, "<-- invariant")],
        Detail::Deadlock { .. } | Detail::Hang { .. } => Vec::new(),
    }
}

/// The tasks a diagram shows: those the finding involves.
fn involved_tasks(record: &ExecutionRecord, finding: &Finding) -> BTreeSet<usize> {
    let by_name = |name: &str| record.tasks.iter().position(|t| t == name);
    let names: Vec<&str> = match &finding.detail {
        Detail::UseAfterRemoval { access, free, .. } => vec![&access.task, &free.task],
        Detail::DataRace { first, second, .. } => vec![&first.task, &second.task],
        Detail::Deadlock { waits } => waits.iter().map(|(t, _)| t.as_str()).collect(),
        Detail::Hang { live, .. } => live.iter().map(|(t, _)| t.as_str()).collect(),
        Detail::Leak { alloc, .. } => vec![&alloc.task],
        Detail::Invariant { at, .. } => vec![&at.task],
    };
    names.into_iter().filter_map(by_name).collect()
}

fn diagram(record: &ExecutionRecord, finding: &Finding, detailing: Detailing) -> String {
    let marks = marked_events(finding);
    let involved = involved_tasks(record, finding);
    // Bookkeeping is shown only in full traces, unless the finding names it.
    let shown = |i: usize, e: &RenderedEvent| match detailing {
        Detailing::Full => true,
        Detailing::Diagram => {
            marks.iter().any(|&(m, _)| m == i)
                || (!e.minor && e.task != 0 && involved.contains(&e.task))
        }
    };
    let rows: Vec<(usize, &RenderedEvent)> = record
        .events
        .iter()
        .enumerate()
        .filter(|(i, e)| shown(*i, e))
        .collect();
    let mut columns: Vec<usize> = rows
        .iter()
        .map(|(_, e)| e.task)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if columns.is_empty() {
        columns = involved.iter().copied().collect();
    }
    let width = rows
        .iter()
        .map(|(_, e)| e.text.chars().count())
        .chain(columns.iter().map(|&t| record.tasks[t].len() + 7))
        .max()
        .unwrap_or(20)
        .min(MAX_COLUMN)
        + 2;
    let mut out = String::new();
    let mut line = String::new();
    for (cpu, &t) in columns.iter().enumerate() {
        line.push_str(&pad(&format!(" CPU{cpu} ({})", record.tasks[t]), width + 1));
    }
    let _ = writeln!(out, "{}", line.trim_end());
    let lines: Vec<(String, &str)> = rows
        .iter()
        .map(|(i, e)| {
            let col = columns.iter().position(|&t| t == e.task).unwrap_or(0);
            let mut line = " ".repeat(col * (width + 1) + 1);
            line.push_str(&cut(&e.text, width - 2));
            if let Some(&(_, mark)) = marks.iter().find(|&&(m, _)| m == *i) {
                line.push_str("  ");
                line.push_str(mark);
            }
            (line, e.site.as_str())
        })
        .collect();
    let total = lines
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0);
    for (line, site) in lines {
        let _ = writeln!(out, "{}  # {site}", pad(&line, total));
    }
    let hidden = record.events.len() - rows.len();
    if detailing == Detailing::Diagram && hidden > 0 {
        let _ = writeln!(
            out,
            " ({hidden} events of setup, bookkeeping and other tasks not shown; --full shows them)"
        );
    }
    out
}

fn pad(s: &str, width: usize) -> String {
    format!("{s:<width$}")
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

fn access_line(a: &Access) -> String {
    format!("  {} by task {} at {}", a.op, a.task, a.site)
}

fn summary(header: &Header, finding: &Finding) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{RULE}");
    match &finding.detail {
        Detail::UseAfterRemoval {
            object,
            access,
            free,
            alloc,
        } => {
            let _ = writeln!(out, "BUG: KASAN: use-after-removal in {}", access.site);
            let _ = writeln!(out, "Access to {object} by task {}:", access.task);
            let _ = writeln!(out, "{}", access_line(access));
            let _ = writeln!(out);
            let _ = writeln!(out, "Allocated by task {}:", alloc.task);
            let _ = writeln!(out, "{}", access_line(alloc));
            let _ = writeln!(out);
            let _ = writeln!(out, "Freed by task {}:", free.task);
            let _ = writeln!(out, "{}", access_line(free));
        }
        Detail::DataRace {
            cell,
            first,
            second,
        } => {
            let _ = writeln!(out, "BUG: KCSAN: data-race on {cell}");
            let _ = writeln!(out);
            let _ = writeln!(out, "{}", access_line(first));
            let _ = writeln!(out, "{}", access_line(second));
            let _ = writeln!(out);
            let _ = writeln!(
                out,
                "No happens-before orders these accesses, and at least one is a plain C access:"
            );
            // A free is a plain write of the whole object (as KCSAN checks a
            // slab free): marking the other access does not help, ordering
            // it before the free does.
            let advice = if first.op.contains("kfree") || second.op.contains("kfree") {
                "undefined under the kernel memory model (kfree() writes the whole object: order every \
                 access before the free, e.g. smp_store_release()/smp_load_acquire(), a lock, or \
                 a fully ordered atomic)."
            } else {
                "undefined under the kernel memory model (use READ_ONCE()/WRITE_ONCE(), or hold the lock)."
            };
            let _ = writeln!(out, "{advice}");
        }
        Detail::Deadlock { waits } => {
            let _ = writeln!(out, "INFO: deadlock: every live task is blocked");
            for (task, what) in waits {
                let _ = writeln!(out, "  task {task} blocked in {what}");
            }
        }
        Detail::Hang { steps, live } => {
            let _ = writeln!(
                out,
                "INFO: hang: no progress within {steps} scheduling steps"
            );
            for (task, what) in live {
                let _ = writeln!(out, "  task {task}: {what}");
            }
        }
        Detail::Leak { object, alloc } => {
            let _ = writeln!(out, "BUG: memory leak: {object} was never freed");
            let _ = writeln!(out, "Allocated by task {}:", alloc.task);
            let _ = writeln!(out, "{}", access_line(alloc));
        }
        Detail::Invariant { message, at } => {
            let _ = writeln!(out, "BUG: invariant failed: {message}");
            let _ = writeln!(out, "{}", access_line(at));
        }
    }
    let _ = writeln!(out, "Memory model: {}", header.model);
    let _ = writeln!(out, "{RULE}");
    out
}
