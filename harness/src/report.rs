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
use crate::finding::{Access, AssertionKind, Detail, Finding};
use std::collections::BTreeSet;
use std::fmt::Write;

/// What the report says about where the execution came from.
#[derive(Clone, Debug)]
pub struct Header {
    /// The scheme's name.
    pub scheme: String,
    /// One line describing the workload (as command-line flags); empty for
    /// a scenario no workload shapes, and then not printed.
    pub workload: String,
    /// The exact command that replays this execution.
    pub replay: String,
    /// The memory model the verdict holds under.
    pub model: String,
}

/// How much of the trace to draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detailing {
    /// Only the tasks the finding involves, only events that matter, fitted
    /// to [`DEFAULT_WIDTH`] columns.
    Diagram,
    /// As `Diagram`, fitted to `width` columns: event texts and columns are
    /// narrowed, and when even that cannot fit the task columns the diagram
    /// becomes one event per line, named by task.
    Fitted {
        /// The terminal's width.
        width: usize,
    },
    /// Every task, every event (bookkeeping included), nothing cut.
    Full,
}

/// The width a [`Detailing::Diagram`] is fitted to.
pub const DEFAULT_WIDTH: usize = 100;

const RULE: &str = "==================================================================";
/// Widest a diagram column gets; longer event texts are cut.
const MAX_COLUMN: usize = 56;
/// Narrowest a task column is squeezed to before the diagram turns into a
/// list.
const MIN_COLUMN: usize = 16;
/// A run of more than this many rows of one task, none of them marked, is
/// cut to its first and last few with a count in between.
const MAX_RUN: usize = 8;
/// Rows a deadlock or hang diagram keeps (the last ones).
const MAX_ROWS: usize = 40;

/// Render the report of `finding` in `record`.
pub fn render(
    header: &Header,
    record: &ExecutionRecord,
    finding: &Finding,
    detailing: Detailing,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "unplug: {} in scheme {}", finding.kind, header.scheme);
    // A self-contained scenario (a probe, a litmus test) has no workload.
    if !header.workload.is_empty() {
        let _ = writeln!(out, "  workload: {}", header.workload);
    }
    let _ = writeln!(out);
    out.push_str(&diagram(record, finding, detailing));
    let _ = writeln!(out);
    let summary = summary(header, finding);
    match detailing {
        Detailing::Full => out.push_str(&summary),
        Detailing::Diagram => out.push_str(&fit_lines(&summary, DEFAULT_WIDTH)),
        Detailing::Fitted { width } => out.push_str(&fit_lines(&summary, width)),
    }
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
        Detail::DoubleFree {
            free, first_free, ..
        } => vec![
            (free.event, "<-- double-free"),
            (first_free.event, "<-- first freed here"),
        ],
        Detail::DataRace { first, second, .. } => {
            vec![(first.event, "<-- race"), (second.event, "<-- race")]
        }
        Detail::Leak { alloc, .. } => vec![(alloc.event, "<-- never freed")],
        Detail::LockHeldAtExit { held, last, .. } => held
            .iter()
            .map(|a| (a.event, "<-- never released"))
            .chain(last.iter().map(|l| (l.event, "<-- returned")))
            .collect(),
        Detail::Deadlock { holders, .. } => holders
            .iter()
            .flat_map(|h| {
                let taken = if h.exited.is_some() {
                    "<-- never released"
                } else {
                    "<-- holder"
                };
                std::iter::once((h.acquired.event, taken))
                    .chain(h.exited.iter().map(|l| (l.event, "<-- returned")))
            })
            .collect(),
        Detail::Invariant { at, .. } => vec![(at.event, "<-- invariant")],
        Detail::Assertion { at, .. } => vec![(at.event, "<-- assertion")],
        Detail::Hang { .. } => Vec::new(),
    }
}

/// The tasks a diagram shows: those the finding involves.
fn involved_tasks(record: &ExecutionRecord, finding: &Finding) -> BTreeSet<usize> {
    let by_name = |name: &str| record.tasks.iter().position(|t| t == name);
    let names: Vec<&str> = match &finding.detail {
        Detail::UseAfterRemoval { access, free, .. } => vec![&access.task, &free.task],
        Detail::DoubleFree {
            free, first_free, ..
        } => vec![&free.task, &first_free.task],
        Detail::DataRace { first, second, .. } => vec![&first.task, &second.task],
        Detail::Deadlock { waits, holders } => waits
            .iter()
            .map(|(t, _)| t.as_str())
            .chain(holders.iter().map(|h| h.acquired.task.as_str()))
            .collect(),
        Detail::LockHeldAtExit { task, .. } => vec![task.as_str()],
        Detail::Hang { live, .. } => live.iter().map(|(t, _)| t.as_str()).collect(),
        Detail::Leak { alloc, .. } => vec![&alloc.task],
        Detail::Invariant { at, .. } => vec![&at.task],
        // The final check of a litmus test runs in init after the joins:
        // every task is part of the story.
        Detail::Assertion { .. } => return (0..record.tasks.len()).collect(),
    };
    names.into_iter().filter_map(by_name).collect()
}

/// One line of a diagram before layout.
struct Row<'a> {
    task: usize,
    text: String,
    mark: Option<&'static str>,
    site: &'a str,
}

/// The file most sites are in, if naming it once in the column header and
/// only the line on each row saves room.
fn common_file(rows: &[Row]) -> Option<String> {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for r in rows {
        if let Some((file, _)) = r.site.rsplit_once(':') {
            match counts.iter_mut().find(|(f, _)| *f == file) {
                Some((_, n)) => *n += 1,
                None => counts.push((file, 1)),
            }
        }
    }
    counts
        .into_iter()
        .max_by_key(|&(_, n)| n)
        .filter(|&(_, n)| n > 1)
        .map(|(f, _)| f.to_string())
}

fn diagram(record: &ExecutionRecord, finding: &Finding, detailing: Detailing) -> String {
    let width = match detailing {
        Detailing::Diagram => Some(DEFAULT_WIDTH),
        Detailing::Fitted { width } => Some(width),
        Detailing::Full => None,
    };
    let marks = marked_events(finding);
    let involved = involved_tasks(record, finding);
    // Bookkeeping is shown only in full traces, unless the finding names it.
    let shown = |i: usize, e: &RenderedEvent| match detailing {
        Detailing::Full => true,
        Detailing::Diagram | Detailing::Fitted { .. } => {
            marks.iter().any(|&(m, _)| m == i)
                || (!e.minor && e.task != 0 && involved.contains(&e.task))
        }
    };
    let events: Vec<(usize, &RenderedEvent)> = record
        .events
        .iter()
        .enumerate()
        .filter(|(i, e)| shown(*i, e))
        .collect();
    let mut columns: Vec<usize> = events
        .iter()
        .map(|(_, e)| e.task)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if columns.is_empty() {
        columns = involved.iter().copied().collect();
    }
    let mark_of = |i: usize| marks.iter().find(|&&(m, _)| m == i).map(|&(_, m)| m);
    let mut rows: Vec<Row> = Vec::new();
    let mut elided = 0;
    let mut at = 0;
    while at < events.len() {
        // A long run of one task's unmarked events keeps its ends.
        let task = events[at].1.task;
        let run = events[at..]
            .iter()
            .take_while(|(i, e)| e.task == task && mark_of(*i).is_none())
            .count();
        let keep = |k: usize| width.is_none() || run <= MAX_RUN || k < 3 || k + 2 >= run;
        for (k, (i, e)) in events[at..at + run.max(1)].iter().enumerate() {
            if keep(k) {
                rows.push(Row {
                    task: e.task,
                    text: e.text.clone(),
                    mark: mark_of(*i),
                    site: &e.site,
                });
            } else if k == 3 {
                let n = run - 5;
                elided += n;
                rows.push(Row {
                    task,
                    text: format!("… {n} more events of {}", record.tasks[task]),
                    mark: None,
                    site: "",
                });
            }
        }
        at += run.max(1);
    }
    // A deadlock or hang is about how the tasks ended: of a long history,
    // its last rows, and the rows it marks (where a holder took its lock).
    let ends = matches!(
        finding.detail,
        Detail::Deadlock { .. } | Detail::Hang { .. }
    );
    if width.is_some() && ends && rows.len() > MAX_ROWS {
        let mut n = 0;
        let mut excess = rows.len() - MAX_ROWS;
        rows.retain(|r| {
            let drop = excess > 0 && r.mark.is_none();
            if drop {
                excess -= 1;
                n += 1;
            }
            !drop
        });
        elided += n;
        rows.insert(
            0,
            Row {
                task: columns[0],
                text: format!("… {n} earlier events"),
                mark: None,
                site: "",
            },
        );
    }
    let headers: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(cpu, &t)| format!(" CPU{cpu} ({})", record.tasks[t]))
        .collect();
    let mut out = match width {
        None => columns_layout(&rows, &columns, &headers, None).unwrap_or_default(),
        Some(w) => columns_layout(&rows, &columns, &headers, Some(w))
            .unwrap_or_else(|| list_layout(&rows, &columns, record, w)),
    };
    let hidden = record.events.len() - events.len();
    if width.is_some() && hidden + elided > 0 {
        let _ = writeln!(
            out,
            " ({} events of setup, bookkeeping and other tasks not shown; --full shows them)",
            hidden + elided
        );
    }
    out
}

/// The diagram as task columns; `None` if the columns cannot fit `width`.
fn columns_layout(
    rows: &[Row],
    columns: &[usize],
    headers: &[String],
    width: Option<usize>,
) -> Option<String> {
    let natural = columns_layout_with(rows, columns, headers, width, None);
    let (Some(_), Some(file)) = (width, common_file(rows)) else {
        return natural;
    };
    // Texts cut short to fit, counted by their ellipses.
    let cuts = |text: &Option<String>| text.as_ref().map(|t| t.matches('…').count());
    let short = columns_layout_with(rows, columns, headers, width, Some(&file));
    match (cuts(&natural), cuts(&short)) {
        (Some(n), Some(s)) if s < n => short,
        (None, Some(_)) => short,
        _ => natural,
    }
}

/// [`columns_layout`], with the sites in `file` shown by line alone.
fn columns_layout_with(
    rows: &[Row],
    columns: &[usize],
    headers: &[String],
    width: Option<usize>,
    file: Option<&str>,
) -> Option<String> {
    let column_of = |task: usize| columns.iter().position(|&t| t == task).unwrap_or(0);
    let short: Vec<Row> = rows
        .iter()
        .map(|r| Row {
            task: r.task,
            text: r.text.clone(),
            mark: r.mark,
            site: match (file, r.site.rsplit_once(':')) {
                (Some(f), Some((rf, line))) if f == rf => &r.site[r.site.len() - line.len() - 1..],
                _ => r.site,
            },
        })
        .collect();
    let rows = &short[..];
    let site_width = rows
        .iter()
        .map(|r| r.site.chars().count())
        .max()
        .unwrap_or(0);
    // Each column as wide as its widest event (and header), capped.
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count() + 1).collect();
    for r in rows {
        let c = column_of(r.task);
        let w = 1 + r.text.chars().count() + r.mark.map_or(0, |m| m.chars().count() + 2) + 2;
        widths[c] = widths[c].max(w.min(MAX_COLUMN + 3));
    }
    if let Some(total) = width {
        let budget = total.saturating_sub(site_width + 4);
        // A row's text may run on into the (empty) columns to its right,
        // so narrow the columns left of the last one first, then all.
        let last = widths.len().saturating_sub(1);
        while widths.iter().sum::<usize>() > budget {
            let (i, &w) = widths
                .iter()
                .enumerate()
                .filter(|&(i, &w)| i < last && w > MAX_COLUMN / 2)
                .max_by_key(|&(i, w)| (*w, i))
                .or_else(|| widths.iter().enumerate().max_by_key(|&(i, w)| (*w, i)))?;
            if w <= MIN_COLUMN {
                return None;
            }
            widths[i] = w - 1;
        }
    }
    let starts: Vec<usize> = widths
        .iter()
        .scan(0, |at, w| {
            let s = *at;
            *at += w;
            Some(s)
        })
        .collect();
    let mut out = String::new();
    let mut line = String::new();
    for (c, h) in headers.iter().enumerate() {
        line.push_str(&pad(h, widths[c]));
    }
    let header_line = line.trim_end().to_string();
    let mut deferred_header = None;
    match file {
        // Named once, above the column of lines.
        Some(f) => deferred_header = Some((header_line, f)),
        None => {
            let _ = writeln!(out, "{header_line}");
        }
    }
    let lines: Vec<(String, &str)> = rows
        .iter()
        .map(|r| {
            let c = column_of(r.task);
            let mark = r.mark.map(|m| format!("  {m}")).unwrap_or_default();
            let room = match width {
                // The text may run into the columns to its right (they
                // are empty on this row), up to the site column.
                Some(_) => widths[c..].iter().sum::<usize>() - 3 - mark.chars().count(),
                None => MAX_COLUMN,
            };
            let mut line = " ".repeat(starts[c] + 1);
            line.push_str(&cut(&r.text, room.max(8)));
            line.push_str(&mark);
            (line, r.site)
        })
        .collect();
    let total = lines
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0);
    if let Some((header_line, f)) = deferred_header {
        let _ = writeln!(out, " (# lines are in {f} where no file is named)");
        let _ = writeln!(out, "{header_line}");
    }
    for (line, site) in lines {
        if site.is_empty() {
            let _ = writeln!(out, "{line}");
        } else {
            let _ = writeln!(out, "{}  # {site}", pad(&line, total));
        }
    }
    Some(out)
}

/// The diagram as one event per line, for more tasks than fit side by
/// side: each line names its task.
fn list_layout(rows: &[Row], columns: &[usize], record: &ExecutionRecord, width: usize) -> String {
    let names: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(cpu, &t)| format!("CPU{cpu} ({})", record.tasks[t]))
        .collect();
    let label = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    let site_width = rows
        .iter()
        .map(|r| r.site.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    let _ = writeln!(out, " {} tasks, one event per line:", columns.len());
    for r in rows {
        let c = columns.iter().position(|&t| t == r.task).unwrap_or(0);
        let mark = r.mark.map(|m| format!("  {m}")).unwrap_or_default();
        let room = width.saturating_sub(label + site_width + 8 + mark.chars().count());
        let text = format!("{}{mark}", cut(&r.text, room.max(8)));
        let line = format!(" {}  {text}", pad(&names[c], label));
        if r.site.is_empty() {
            let _ = writeln!(out, "{line}");
        } else {
            let room = width.saturating_sub(site_width + 4);
            let _ = writeln!(out, "{}  # {}", pad(&line, room), r.site);
        }
    }
    out
}

/// Wrap every line longer than `width` at spaces, continuing it indented.
fn fit_lines(text: &str, width: usize) -> String {
    let mut out = String::new();
    for line in text.lines() {
        if line.chars().count() <= width {
            let _ = writeln!(out, "{line}");
            continue;
        }
        let lead = line.len() - line.trim_start().len();
        let indent = lead + 4;
        // The line's own indentation is kept: only its words are wrapped.
        let mut current = line[..lead].to_string();
        for word in line[lead..].split(' ') {
            let next = current.chars().count() + 1 + word.chars().count();
            if !current.trim().is_empty() && next > width {
                let _ = writeln!(out, "{}", current.trim_end());
                current = " ".repeat(indent);
            } else if !current.trim().is_empty() {
                current.push(' ');
            }
            current.push_str(word);
        }
        let _ = writeln!(out, "{}", current.trim_end());
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
    let mut line = format!("  {} by task {} at {}", a.op, a.task, a.site);
    for c in &a.called_from {
        line.push_str(&format!("\n    called from {c}"));
    }
    line
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
        Detail::DoubleFree {
            object,
            free,
            first_free,
            alloc,
        } => {
            let _ = writeln!(out, "BUG: KASAN: double-free in {}", free.site);
            let _ = writeln!(out, "Free of {object} by task {}:", free.task);
            let _ = writeln!(out, "{}", access_line(free));
            let _ = writeln!(out);
            let _ = writeln!(out, "Allocated by task {}:", alloc.task);
            let _ = writeln!(out, "{}", access_line(alloc));
            let _ = writeln!(out);
            let _ = writeln!(out, "Freed by task {}:", first_free.task);
            let _ = writeln!(out, "{}", access_line(first_free));
        }
        Detail::Deadlock { waits, holders } => {
            let _ = writeln!(out, "INFO: deadlock: every live task is blocked");
            for (task, what) in waits {
                let _ = writeln!(out, "  task {task} blocked in {what}");
            }
            if !holders.is_empty() {
                let _ = writeln!(out);
                let _ = writeln!(out, "Locks waited on are held by:");
            }
            for h in holders {
                let _ = writeln!(
                    out,
                    "  {} by task {}: {} at {}",
                    h.lock, h.acquired.task, h.acquired.op, h.acquired.site
                );
                let recursive = waits.iter().any(|(t, what)| {
                    *t == h.acquired.task && what.contains(&format!("(&{})", h.lock))
                });
                if recursive {
                    let _ = writeln!(
                        out,
                        "    task {} waits for it itself: recursive locking",
                        h.acquired.task
                    );
                }
                if let Some(last) = &h.exited {
                    let _ = writeln!(
                        out,
                        "    task {} returned without releasing it after {} at {}",
                        h.acquired.task, last.op, last.site
                    );
                }
            }
        }
        Detail::LockHeldAtExit {
            task,
            context,
            held,
            last,
        } => {
            // lockdep: "WARNING: lock held when returning to user space!"
            // from lockdep_sys_exit(), "BUG: task still has locks held!"
            // from debug_check_no_locks_held() at do_exit().
            if context == "exited" {
                let _ = writeln!(out, "BUG: {task} still has locks held!");
            } else {
                let _ = writeln!(out, "WARNING: lock held when returning to user space!");
                let _ = writeln!(
                    out,
                    "{task} is leaving the kernel with locks still held ({context})"
                );
            }
            let plural = if held.len() == 1 { "lock" } else { "locks" };
            let _ = writeln!(out, "{} {plural} held by {task}:", held.len());
            for (i, a) in held.iter().enumerate() {
                let _ = writeln!(out, " #{i}: {} at {}", a.op, a.site);
            }
            if let Some(last) = last {
                let _ = writeln!(out);
                let _ = writeln!(out, "Last step before the return:");
                let _ = writeln!(out, "{}", access_line(last));
            }
        }
        Detail::Hang { steps, live } => {
            let _ = writeln!(
                out,
                "INFO: hang: no progress within {steps} scheduling steps"
            );
            for (task, what) in live {
                let _ = writeln!(out, "  task {task} {what}");
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
        Detail::Assertion {
            kind,
            condition,
            observed,
            at,
        } => {
            match kind {
                AssertionKind::Bug => {
                    let _ = writeln!(out, "kernel BUG at {}!", at.site);
                }
                AssertionKind::Warn => {
                    let _ = writeln!(out, "WARNING: task {} at {}", at.task, at.site);
                }
                AssertionKind::Exists => {
                    let _ = writeln!(out, "LITMUS: exists clause observed at {}", at.site);
                }
                AssertionKind::NullDeref => {
                    let _ = writeln!(out, "BUG: kernel NULL pointer dereference at {}", at.site);
                }
            }
            if !condition.is_empty() {
                let _ = writeln!(out, "  condition: {condition}");
            }
            if !observed.is_empty() {
                let _ = writeln!(out, "  observed:  {observed}");
            }
            let _ = writeln!(out, "{}", access_line(at));
        }
    }
    let _ = writeln!(out, "Memory model: {}", header.model);
    let _ = writeln!(out, "{RULE}");
    out
}
