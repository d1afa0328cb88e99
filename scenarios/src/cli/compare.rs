//! `unplug compare`: which scheme is correct? Every scheme against every
//! explorer, one row per scheme, with the scheme's overall verdict.

use super::fuzz::run_workers;
use super::verify::verify_verdict;
use super::{
    catch_interrupts, emit, explorer, interrupt_flag, interrupted, parse_duration, parse_seed,
    scheme, Status,
};
use crate::verdict::{expected_words, judge, Judgement, Model, Outcome, Verdict};
use crate::verify::DeepenConfig;
use crate::Scheme;
use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use harness::engine::{severity, Budget, ExecConfig, Explorer, RunConfig, StopPolicy};
use harness::finding::FindingKind;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Executions per sampling cell by default. Measured: the default explorers
/// (random, pct, portfolio) reach every SC bug of the zoo on base seeds
/// 0..19 within 47,647 executions (`cargo run --release --example
/// first_hits`); the budget leaves a margin over that.
pub const DEFAULT_CELL_ITERATIONS: u64 = 60_000;

/// Executions of the loom cell by default, over every bound it deepens to.
pub const DEFAULT_LOOM_EXECUTIONS: u64 = 10_000;

/// The table's width budget by default.
const WIDTH: usize = 100;

/// Output formats.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    /// An aligned terminal table.
    Table,
    /// A Markdown table.
    Md,
    /// JSON: every cell with its evidence, and each scheme's verdict.
    Json,
}

/// Arguments of `unplug compare`.
#[derive(Args, Debug)]
pub struct CompareArgs {
    /// Explorers to compare (comma-separated: random, pct, pct-dN, pos, cpos, surw, slow, guided, adaptive,
    /// portfolio, and loom, the bounded-exhaustive C11 backend).
    #[arg(
        long,
        default_value = "random,pct,pct-d2,portfolio,loom",
        value_delimiter = ','
    )]
    explorers: Vec<String>,
    /// Schemes to compare (comma-separated; default: the whole zoo).
    #[arg(long, value_delimiter = ',')]
    schemes: Vec<String>,
    /// Executions per sampling cell (a cell stops early at its first fatal finding).
    #[arg(long, default_value_t = DEFAULT_CELL_ITERATIONS)]
    iterations: u64,
    /// Executions of each loom cell, over every preemption bound it deepens to.
    #[arg(long, default_value_t = DEFAULT_LOOM_EXECUTIONS)]
    loom_executions: u64,
    /// Opt-in wall-time cap per cell: a cell it cuts says so and is never a match.
    #[arg(long, value_parser = parse_duration)]
    time_per_cell: Option<Duration>,
    /// Base seed of every sampling cell.
    #[arg(long, default_value = "0", value_parser = parse_seed)]
    seed: u64,
    /// Cells run in parallel (default: one per core).
    #[arg(long)]
    jobs: Option<usize>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Add each cell's executions per second (wall-clock figures).
    #[arg(long)]
    wide: bool,
}

/// A column of the matrix.
#[derive(Clone, Debug)]
enum Column {
    /// A sequentially consistent explorer (on the selected runtime).
    Shuttle(Explorer),
    /// The loom backend, deepening the preemption bound, under C11.
    Loom,
}

impl Column {
    fn name(&self) -> String {
        match self {
            Column::Shuttle(e) => e.name(),
            Column::Loom => "loom".into(),
        }
    }

    /// The default explorer (portfolio) and loom decide the exit status:
    /// they are what `fuzz` and `verify` run. The other sampling explorers
    /// are baselines the portfolio is built from, shown to compare against
    /// (fixed-depth PCT to show its blind spot); a miss within their budget
    /// says something about them, not about the scheme.
    fn decides_exit(&self) -> bool {
        matches!(self, Column::Loom | Column::Shuttle(Explorer::Portfolio))
    }

    /// Whether the column can decide the exit status when no deciding
    /// column was asked for (everything but fixed-depth PCT).
    fn may_decide(&self) -> bool {
        !matches!(self, Column::Shuttle(Explorer::Pct { depth: Some(_) }))
    }
}

/// One cell of the matrix, as JSON shows it.
#[derive(Debug, Serialize)]
struct Cell {
    scheme: &'static str,
    explorer: String,
    /// The expected verdict under the cell's model, in words.
    expected: String,
    /// What exploration showed, with its evidence.
    verdict: Verdict,
    /// The verdict held against the expectation.
    judgement: Judgement,
    /// Whether a mismatch in this cell fails the run.
    decides_exit: bool,
    /// Executions per second (`--wide` only: a wall-clock figure).
    #[serde(skip_serializing_if = "Option::is_none")]
    executions_per_second: Option<f64>,
}

/// A scheme's row: its overall verdict.
#[derive(Debug, Serialize)]
struct Row {
    scheme: &'static str,
    /// In plain words.
    verdict: String,
    /// Whether any cell found anything.
    any_finding: bool,
}

/// The whole JSON document.
#[derive(Debug, Serialize)]
struct Document<'a> {
    cells: &'a [Cell],
    schemes: &'a [Row],
    no_finding_anywhere: Vec<&'static str>,
    exit_status: u8,
}

/// Run the command.
pub fn run(args: CompareArgs) -> Result<Status> {
    let columns = args
        .explorers
        .iter()
        .map(|e| match e.as_str() {
            "loom" => Ok(Column::Loom),
            _ => explorer(e).map(Column::Shuttle),
        })
        .collect::<Result<Vec<_>>>()?;
    let mut schemes: Vec<&'static Scheme> = if args.schemes.is_empty() {
        crate::schemes::active().schemes.clone()
    } else {
        args.schemes
            .iter()
            .map(|s| scheme(s))
            .collect::<Result<_>>()?
    };
    if args.iterations == 0 || args.loom_executions == 0 {
        bail!("--iterations and --loom-executions must be at least 1");
    }
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let mut work: Vec<(usize, &'static Scheme, Column)> = schemes
        .iter()
        .flat_map(|s| columns.iter().map(move |c| (*s, c.clone())))
        .enumerate()
        .map(|(i, (s, c))| (i, s, c))
        .collect();
    // The loom cells are the long ones: start them first so that the other
    // cells fill in around them.
    work.sort_by_key(|(i, _, c)| (!matches!(c, Column::Loom), *i));
    let bar = ProgressBar::new(work.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("compare [{elapsed_precise}] {bar:40} {pos}/{len} cells")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    // Ctrl-C: a sampling cell stops at its next execution (and says it was
    // cut short), no new cell starts, and the rows already complete are
    // printed.
    catch_interrupts()?;
    let next = AtomicUsize::new(0);
    let cells: Mutex<Vec<(usize, Result<Cell>)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(work.len()) {
            scope.spawn(|| loop {
                if interrupted() {
                    break;
                }
                let n = next.fetch_add(1, Ordering::Relaxed);
                let Some((i, scheme, column)) = work.get(n) else {
                    break;
                };
                let cell = run_cell(scheme, column, &args);
                bar.inc(1);
                if let Ok(mut c) = cells.lock() {
                    c.push((*i, cell));
                }
            });
        }
    });
    bar.finish_and_clear();
    let mut cells = cells.into_inner().unwrap_or_default();
    cells.sort_by_key(|(i, _)| *i);
    let mut cells = cells
        .into_iter()
        .map(|(_, c)| c)
        .collect::<Result<Vec<_>>>()?;
    let cells_wanted = schemes.len() * columns.len();
    let was_interrupted = interrupted();
    let cut_short = |c: &Cell| c.verdict.time_capped || c.verdict.interrupted;
    let cells_complete = cells.iter().filter(|c| !cut_short(c)).count();
    if was_interrupted {
        // What each interrupted cell had shown when it stopped: its evidence
        // so far, never a verdict.
        for c in cells.iter().filter(|c| c.verdict.interrupted) {
            eprintln!(
                "unplug: compare: {} / {} interrupted: {}",
                c.scheme, c.explorer, c.verdict
            );
        }
        // Only the schemes whose every cell ran to its end.
        let done = |s: &&Scheme| {
            cells
                .iter()
                .filter(|c| c.scheme == s.name && !cut_short(c))
                .count()
                == columns.len()
        };
        schemes.retain(done);
        cells.retain(|c| schemes.iter().any(|s| s.name == c.scheme));
    }
    // Without portfolio or loom among the columns, the baselines asked for
    // decide the exit status themselves.
    if !columns.iter().any(Column::decides_exit) {
        for c in &mut cells {
            c.decides_exit = columns
                .iter()
                .find(|col| col.name() == c.explorer)
                .is_some_and(Column::may_decide);
        }
    }
    let rows: Vec<Row> = schemes
        .iter()
        .map(|s| row(s, cells.iter().filter(|c| c.scheme == s.name)))
        .collect();
    let failed = cells.iter().any(|c| {
        c.decides_exit && !matches!(c.judgement, Judgement::Match | Judgement::NotApplicable)
    });
    let status = if failed {
        Status::Finding
    } else if was_interrupted {
        Status::Interrupted
    } else {
        Status::Clean
    };
    if was_interrupted {
        eprintln!(
            "unplug: compare interrupted: {} of {cells_wanted} cells complete; the table shows the {} scheme(s) whose cells all finished",
            cells_complete,
            schemes.len()
        );
    }
    let names: Vec<String> = columns.iter().map(Column::name).collect();
    if was_interrupted && schemes.is_empty() {
        return Ok(status);
    }
    let text = match args.format {
        Format::Table => render_table(&names, &schemes, &cells, &rows, &args, false),
        Format::Md => render_table(&names, &schemes, &cells, &rows, &args, true),
        Format::Json => {
            let doc = Document {
                cells: &cells,
                schemes: &rows,
                no_finding_anywhere: rows
                    .iter()
                    .filter(|r| !r.any_finding)
                    .map(|r| r.scheme)
                    .collect(),
                exit_status: status as u8,
            };
            serde_json::to_string_pretty(&doc)?
        }
    };
    // A reader that went away (`| head`) ends the command quietly with the
    // status of what it found.
    emit(text.trim_end())?;
    Ok(status)
}

fn run_cell(scheme: &'static Scheme, column: &Column, args: &CompareArgs) -> Result<Cell> {
    let started = Instant::now();
    let verdict = match column {
        Column::Shuttle(explorer) => {
            let run = RunConfig {
                explorer: explorer.clone(),
                seed: args.seed,
                budget: Budget {
                    iterations: Some(args.iterations),
                    time: args.time_per_cell,
                },
                exec: ExecConfig::default(),
                stop: StopPolicy::FirstFatal,
                shard: (0, 1),
            };
            let workload = scheme.default_workload.clone();
            let stats = run_workers(scheme, workload.clone(), &run, 1, None)?;
            let stopped_at_fatal = stats.first.keys().any(|k| k.is_fatal());
            let cut = stats.executions < args.iterations && !stopped_at_fatal;
            // Ctrl-C ends the run at its next execution, as a time cap does.
            let stopped_by_user = cut && interrupted();
            let time_capped = cut && !stopped_by_user;
            let mut verdict =
                Verdict::from_run(&stats, &explorer.name(), args.seed, time_capped, |seed| {
                    let record = stats
                        .distinct
                        .iter()
                        .map(|(_, r)| r)
                        .find(|r| r.seed == seed);
                    match record {
                        Some(r) => super::replay_command(scheme, &workload, explorer, r, ""),
                        None => format!(
                            "{} replay --scheme {} --explorer {} --seed {seed:#018x} {}",
                            super::program(),
                            scheme.name,
                            explorer.name(),
                            super::workload_flags(scheme, &workload)
                        ),
                    }
                    .trim_end()
                    .to_string()
                });
            verdict.interrupted = stopped_by_user;
            verdict
        }
        Column::Loom => {
            let config = DeepenConfig {
                executions: args.loom_executions,
                time: args.time_per_cell,
                // Ctrl-C stops loom between two executions, as it stops the
                // sampling cells.
                cancel: Some(interrupt_flag()),
                ..DeepenConfig::default()
            };
            verify_verdict(scheme, scheme.default_workload.clone(), &config, &|_, _| {})?.0
        }
    };
    let elapsed = started.elapsed().as_secs_f64().max(1e-9);
    let judgement = judge(&verdict, scheme);
    Ok(Cell {
        scheme: scheme.name,
        explorer: column.name(),
        expected: expected_words(&scheme.expected, verdict.model),
        executions_per_second: args.wide.then(|| verdict.executions as f64 / elapsed),
        verdict,
        judgement,
        decides_exit: column.decides_exit(),
    })
}

/// The most severe finding kind of `cells`, if any found one.
fn worst<'a>(cells: impl Iterator<Item = &'a Cell>) -> Option<FindingKind> {
    cells
        .filter_map(|c| c.verdict.found().map(|f| f.kind))
        .min_by_key(|k| severity(*k))
}

fn kind_words(kind: FindingKind) -> &'static str {
    match kind {
        FindingKind::DataRace => "data race only",
        k => k.name(),
    }
}

/// The overall verdict of a scheme, in plain words, from its cells.
fn row<'a>(scheme: &'static Scheme, cells: impl Iterator<Item = &'a Cell> + Clone) -> Row {
    let sc_cells = cells.clone().filter(|c| c.verdict.model == Model::Sc);
    let loom = cells.clone().find(|c| c.verdict.model == Model::C11);
    let sc = worst(sc_cells.clone());
    let c11 = loom.and_then(|c| c.verdict.found().map(|f| f.kind));
    let sc_runs: Vec<u64> = sc_cells.map(|c| c.verdict.executions).collect();
    let sc_none = if sc_runs.is_empty() {
        String::new()
    } else if sc_runs.iter().all(|n| *n == sc_runs[0]) && sc_runs.len() > 1 {
        format!(
            "no finding in {}×{} SC executions",
            sc_runs.len(),
            crate::verdict::thousands(sc_runs[0])
        )
    } else {
        format!(
            "no finding in {} SC executions",
            sc_runs.iter().sum::<u64>()
        )
    };
    // What the loom cell says when it found nothing, and whether that is
    // an answer at all.
    let loom_none = loom.map(|c| match &c.verdict.outcome {
        Outcome::Exhaustive {
            bound, whole_space, ..
        } => {
            if *whole_space {
                ("in every execution under C11".to_string(), true)
            } else {
                (format!("at ≤ {bound} preemptions complete"), true)
            }
        }
        Outcome::Incomplete { .. } => ("no C11 answer (loom cut short)".into(), false),
        Outcome::Unexplorable { .. } => ("C11 not explored (loom cannot model it)".into(), false),
        _ => (String::new(), true),
    });
    let verdict = match (sc, c11, loom_none) {
        (Some(a), Some(b), _) if a == b => kind_words(a).to_string(),
        (Some(a), Some(b), _) => format!("{} under SC; {} under C11", kind_words(a), kind_words(b)),
        (Some(a), None, None) => kind_words(a).to_string(),
        (Some(a), None, Some((words, true))) => {
            format!("{} under SC; none under C11 {words}", kind_words(a))
        }
        (Some(a), None, Some((words, false))) => format!("{} under SC; {words}", kind_words(a)),
        (None, Some(b), _) if sc_runs.is_empty() => format!("{} under C11", kind_words(b)),
        (None, Some(b), _) => format!("correct under SC; {} under C11", kind_words(b)),
        (None, None, None) => sc_none,
        (None, None, Some((words, true))) if sc_runs.is_empty() => format!("no finding {words}"),
        (None, None, Some((words, false))) if sc_runs.is_empty() => words,
        (None, None, Some((words, true))) => format!("{sc_none} and {words}"),
        (None, None, Some((words, false))) => format!("{sc_none}; {words}"),
    };
    Row {
        scheme: scheme.name,
        verdict,
        any_finding: sc.is_some() || c11.is_some(),
    }
}

/// The mark a cell carries: `!` mismatch, `?` no answer.
fn mark(c: &Cell) -> &'static str {
    match c.judgement {
        Judgement::Match | Judgement::NotApplicable => "",
        Judgement::Mismatch(_) => "!",
        Judgement::Inconclusive(_) => "?",
    }
}

fn cell_text(c: &Cell) -> String {
    let mut s = format!("{}{}", c.verdict.short(), mark(c));
    if let Some(rate) = c.executions_per_second {
        s.push_str(&format!(" {:.0}/s", rate));
    }
    s
}

/// Break `text` into lines of at most `width` characters at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split(' ') {
        let last = lines.last_mut().map_or(0, |l| l.chars().count());
        if last > 0 && last + 1 + word.chars().count() > width {
            lines.push(String::new());
        }
        if let Some(l) = lines.last_mut() {
            if !l.is_empty() {
                l.push(' ');
            }
            l.push_str(word);
        }
    }
    lines
}

fn pad(s: &str, w: usize) -> String {
    let n = s.chars().count();
    format!("{s}{}", " ".repeat(w.saturating_sub(n)))
}

fn render_table(
    columns: &[String],
    schemes: &[&'static Scheme],
    cells: &[Cell],
    rows: &[Row],
    args: &CompareArgs,
    markdown: bool,
) -> String {
    let mut out = String::new();
    let mut head: Vec<String> = vec!["scheme".into()];
    head.extend(columns.iter().cloned());
    head.push("verdict".into());
    let body: Vec<Vec<String>> = schemes
        .iter()
        .zip(rows)
        .map(|(s, r)| {
            let mut line = vec![s.name.to_string()];
            line.extend(cells.iter().filter(|c| c.scheme == s.name).map(cell_text));
            line.push(r.verdict.clone());
            line
        })
        .collect();
    let n = head.len();
    let widths: Vec<usize> = (0..n)
        .map(|i| {
            body.iter()
                .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                .chain([head[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    if markdown {
        let line = |cols: &[String]| -> String {
            let padded: Vec<String> = cols.iter().zip(&widths).map(|(c, w)| pad(c, *w)).collect();
            format!("| {} |", padded.join(" | "))
        };
        outln(&mut out, &line(&head));
        let sep: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        outln(&mut out, &line(&sep));
        for r in &body {
            outln(&mut out, &line(r));
        }
        out.push('\n');
    } else {
        // The verdict column takes what the table leaves of the width and
        // wraps onto continuation lines; when too little is left, each
        // verdict goes on its own line under its row.
        let used: usize = widths[..n - 1].iter().map(|w| w + 2).sum();
        let room = WIDTH.saturating_sub(used);
        let below = room < 16;
        let indent = " ".repeat(used);
        for r in std::iter::once(&head).chain(&body) {
            let fixed: String = r[..n - 1]
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{}  ", pad(c, *w)))
                .collect();
            let wrapped = wrap(&r[n - 1], room);
            // A verdict that needs more than two lines of the column reads
            // better as a line of its own under the row's cells.
            let under = below || wrapped.len() > 2;
            if under {
                outln(&mut out, fixed.trim_end());
                let lead = format!("{}→ ", " ".repeat(widths[0] + 2));
                let hang = " ".repeat(lead.chars().count());
                let lines = wrap(&r[n - 1], WIDTH.saturating_sub(hang.len()).max(20));
                for (i, part) in lines.iter().enumerate() {
                    let lead = if i == 0 { &lead } else { &hang };
                    outln(&mut out, format!("{lead}{part}").trim_end());
                }
                continue;
            }
            for (i, part) in wrapped.iter().enumerate() {
                let lead = if i == 0 {
                    fixed.as_str()
                } else {
                    indent.as_str()
                };
                outln(&mut out, format!("{lead}{part}").trim_end());
            }
        }
        out.push('\n');
    }
    let quiet: Vec<&str> = rows
        .iter()
        .filter(|r| !r.any_finding)
        .map(|r| r.scheme)
        .collect();
    let para = |out: &mut String, text: &str| {
        if markdown {
            // A paragraph of its own: Markdown joins adjacent lines.
            outln(out, &format!("{text}\n"));
            return;
        }
        for l in wrap(text, WIDTH) {
            outln(out, &l);
        }
    };
    if quiet.is_empty() {
        para(&mut out, "Every scheme had a finding in some column.");
    } else {
        para(
            &mut out,
            &format!("No finding anywhere: {}.", quiet.join(", ")),
        );
    }
    let issues: Vec<&Cell> = cells
        .iter()
        .filter(|c| !matches!(c.judgement, Judgement::Match | Judgement::NotApplicable))
        .collect();
    for c in &issues {
        let why = match &c.judgement {
            Judgement::Mismatch(w) => format!("mismatch: {w}"),
            Judgement::Inconclusive(w) => format!("no answer: {w}"),
            _ => String::new(),
        };
        let note = if c.decides_exit {
            ""
        } else {
            " (shown, does not fail the run)"
        };
        para(
            &mut out,
            &format!(
                "{} {}{}: {why}{note}",
                mark(c),
                c.scheme,
                format_args!(" / {}", c.explorer)
            ),
        );
    }
    out.push('\n');
    let budget = sampling_budget_words(args);
    let has = |p: &dyn Fn(&str) -> bool| columns.iter().any(|c| p(c));
    let sampling: Vec<&String> = columns
        .iter()
        .filter(|c| *c != "loom" && !c.starts_with("pct-d"))
        .collect();
    let fixed = has(&|c| c.starts_with("pct-d"));
    let loom = has(&|c| c == "loom");
    let legend = [
        "Cells: UAR use-after-removal, race data race, dlock deadlock (dfree double-free, held lock held at exit), then the executions to the first one (bN: at N preemptions); \"none N\": no finding in N executions; \"none ≤b\": loom explored every execution within b preemptions and found nothing. ! differs from the expectation (`unplug list`); ? cut short by a budget or time cap, never a match.".to_string(),
        sampling_legend(&sampling, &budget),
        "pct-dN (pct-d2 by default): PCT at a fixed depth, shown on purpose: a fixed depth is blind to deeper bugs (srcu-single-drain); its mismatches do not fail the run.".into(),
        format!("loom: bounded-exhaustive, every execution within b preemptions, b = 1, 2, ... until a finding or {} executions.", args.loom_executions),
        "SC: sequential consistency, data races by happens-before (the sampling explorers). C11: the C11 memory model, where a relaxed store may be seen late (loom).".into(),
        "Exit status 0 when portfolio and loom meet every expectation, else 1 (with neither asked for: every column but pct-dN).".into(),
    ];
    let shown = [true, !sampling.is_empty(), fixed, loom, true, true];
    for (l, show) in legend.iter().zip(shown) {
        if show {
            para(&mut out, l);
        }
    }
    out
}

/// Append `line` and a newline to `out`.
fn outln(out: &mut String, line: &str) {
    out.push_str(line);
    out.push('\n');
}

/// The legend line of the sampling columns shown: what each explorer is
/// (the portfolio's members and shares as the scheduler draws them), their
/// budget, and which of them are baselines.
fn sampling_legend(columns: &[&String], budget: &str) -> String {
    let what: Vec<String> = columns
        .iter()
        .map(|c| format!("{c} ({})", explorer_words(c)))
        .collect();
    let baselines: Vec<&str> = columns
        .iter()
        .filter(|c| c.as_str() != "portfolio")
        .map(|c| c.as_str())
        .collect();
    let mut line = format!(
        "{}: {}, {budget}.",
        what.join(", "),
        if columns.len() == 1 {
            "a sampling explorer"
        } else {
            "sampling explorers"
        }
    );
    if columns.iter().any(|c| c.as_str() == "portfolio") && !baselines.is_empty() {
        line.push_str(&format!(
            " {} {}: {} misses are shown and do not fail the run.",
            baselines.join(", "),
            if baselines.len() == 1 {
                "is a baseline"
            } else {
                "are baselines"
            },
            if baselines.len() == 1 { "its" } else { "their" }
        ));
    }
    line
}

/// What a sampling explorer is, in a few words.
fn explorer_words(name: &str) -> String {
    match Explorer::parse(name) {
        Some(Explorer::Portfolio) => {
            let e = harness::scheduler::PORTFOLIO_ESCALATION;
            let members: Vec<&str> = harness::scheduler::PortfolioMember::ALL
                .iter()
                .map(|m| member_words(*m))
                .collect();
            let sixteenths = |s: [u64; 4]| {
                let parts: Vec<String> = s.iter().map(u64::to_string).collect();
                parts.join(":")
            };
            format!(
                "the default explorer: each execution runs one of {}, at shares in sixteenths {} for executions 0-{}, {} up to {}, then moving to {} by execution {}",
                members.join(", "),
                sixteenths(e.probe),
                e.probe_end - 1,
                sixteenths(e.shallow),
                e.shallow_end,
                sixteenths(e.settled),
                e.shallow_end + e.ramp
            )
        }
        Some(Explorer::Random) => "uniform random walk".into(),
        Some(Explorer::Pct { depth: None }) => format!(
            "PCT, depth ladder 1-{}",
            harness::scheduler::PctDepth::LADDER_MAX
        ),
        Some(Explorer::Pct { depth: Some(d) }) => format!("PCT at depth {d}"),
        Some(Explorer::Pos) => "partial-order sampling".into(),
        Some(Explorer::Cpos) => "conflict-aware partial-order sampling".into(),
        Some(Explorer::Slow) => "random walk with one slowed task".into(),
        Some(Explorer::Surw) => "selectively uniform random walk".into(),
        Some(Explorer::Guided) => "feedback-guided schedule fuzzing".into(),
        Some(Explorer::Adaptive) => {
            "the portfolio's members with cpos and guided, adaptive shares".into()
        }
        None => "unknown".into(),
    }
}

/// A portfolio member, in words, with the explorer name that runs it alone.
fn member_words(m: harness::scheduler::PortfolioMember) -> &'static str {
    use harness::scheduler::PortfolioMember as M;
    match m {
        M::Slow => "the slow-task walk (slow)",
        M::Cpos => "conflict-aware POS (cpos)",
        M::Pct => "ladder PCT (pct)",
        M::Random => "the random walk (random)",
    }
}

fn sampling_budget_words(args: &CompareArgs) -> String {
    let mut s = format!(
        "{} executions per cell from base seed {:#x}, stopping at the first fatal finding",
        args.iterations, args.seed
    );
    if let Some(t) = args.time_per_cell {
        s.push_str(&format!(", time cap {t:?} per cell"));
    }
    s
}
