//! `unplug compare`: every scheme against every explorer.

use super::fuzz::run_workers;
use super::verify::verify_scheme;
use super::{explorer, parse_duration, parse_seed, scheme, Status};
use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use harness::engine::{severity, Budget, ExecConfig, Explorer, RunConfig, StopPolicy};
use harness::finding::FindingKind;
use scenarios::Scheme;
use serde::Serialize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Executions per cell by default: enough for every zoo bug under every
/// default explorer (see the README for the measured medians).
pub const DEFAULT_CELL_ITERATIONS: u64 = 60_000;

/// Output formats.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    /// An aligned terminal table.
    Table,
    /// A Markdown table.
    Md,
    /// JSON, one object per cell.
    Json,
}

/// Arguments of `unplug compare`.
#[derive(Args, Debug)]
pub struct CompareArgs {
    /// Explorers to compare (comma-separated: random, pct, pct-dN, portfolio, and
    /// loom, the bounded-exhaustive C11 backend at each scheme's declared bound).
    #[arg(
        long,
        default_value = "random,pct,pct-d2,portfolio,loom",
        value_delimiter = ','
    )]
    explorers: Vec<String>,
    /// Schemes to compare (comma-separated; default: the whole zoo).
    #[arg(long, value_delimiter = ',')]
    schemes: Vec<String>,
    /// Executions per cell (a cell stops early at its first fatal finding).
    #[arg(long, default_value_t = DEFAULT_CELL_ITERATIONS)]
    iterations: u64,
    /// Wall-time cap per cell.
    #[arg(long, value_parser = parse_duration, default_value = "30s")]
    time_per_cell: Duration,
    /// Base seed of every cell.
    #[arg(long, default_value = "0", value_parser = parse_seed)]
    seed: u64,
    /// Cells run in parallel (default: one per core).
    #[arg(long)]
    jobs: Option<usize>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

/// A column of the matrix.
#[derive(Clone, Debug)]
enum Column {
    /// A sequentially consistent explorer on shuttle.
    Shuttle(Explorer),
    /// The loom backend: every execution within the scheme's preemption
    /// bound, under the C11 memory model.
    Loom,
}

/// One cell of the matrix.
#[derive(Debug, Serialize)]
struct Cell {
    scheme: &'static str,
    explorer: String,
    /// `sc` or `c11`: the memory model the verdict holds under.
    model: &'static str,
    expected: Option<FindingKind>,
    verdict: Option<FindingKind>,
    /// Every kind seen.
    found: Vec<FindingKind>,
    matches: bool,
    executions: u64,
    executions_to_first: Option<u64>,
    seconds_to_first: Option<f64>,
    executions_per_second: f64,
}

fn verdict_name(v: Option<FindingKind>) -> String {
    v.map_or_else(|| "clean".into(), |k| k.to_string())
}

/// Run the command.
pub fn run(args: CompareArgs) -> Result<Status> {
    let explorers = args
        .explorers
        .iter()
        .map(|e| match e.as_str() {
            "loom" => Ok(Column::Loom),
            _ => explorer(e).map(Column::Shuttle),
        })
        .collect::<Result<Vec<_>>>()?;
    let schemes: Vec<&'static Scheme> = if args.schemes.is_empty() {
        scenarios::ALL.iter().collect()
    } else {
        args.schemes
            .iter()
            .map(|s| scheme(s))
            .collect::<Result<_>>()?
    };
    if args.iterations == 0 {
        bail!("--iterations must be at least 1");
    }
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let work: Vec<(&'static Scheme, Column)> = schemes
        .iter()
        .flat_map(|s| explorers.iter().map(move |e| (*s, e.clone())))
        .collect();
    let next = AtomicUsize::new(0);
    let cells: Mutex<Vec<(usize, Result<Cell>)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(work.len()) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((scheme, explorer)) = work.get(i) else {
                    break;
                };
                let cell = run_cell(scheme, explorer, &args);
                if let Ok(mut c) = cells.lock() {
                    c.push((i, cell));
                }
            });
        }
    });
    let mut cells = cells.into_inner().unwrap_or_default();
    cells.sort_by_key(|(i, _)| *i);
    let cells = cells
        .into_iter()
        .map(|(_, c)| c)
        .collect::<Result<Vec<_>>>()?;
    match args.format {
        Format::Table => print_table(&cells, false),
        Format::Md => print_table(&cells, true),
        Format::Json => println!("{}", serde_json::to_string_pretty(&cells)?),
    }
    // Fixed-depth PCT is in the matrix to show its blind spots: only the
    // default explorers must meet every expectation.
    let defaults_met = cells
        .iter()
        .filter(|c| !c.explorer.starts_with("pct-d"))
        .all(|c| c.matches);
    Ok(if defaults_met {
        Status::Clean
    } else {
        Status::Finding
    })
}

fn run_cell(scheme: &'static Scheme, column: &Column, args: &CompareArgs) -> Result<Cell> {
    let explorer = match column {
        Column::Shuttle(e) => e,
        Column::Loom => return loom_cell(scheme, args),
    };
    let run = RunConfig {
        explorer: explorer.clone(),
        seed: args.seed,
        budget: Budget {
            iterations: Some(args.iterations),
            time: Some(args.time_per_cell),
        },
        exec: ExecConfig::default(),
        stop: StopPolicy::FirstFatal,
        shard: (0, 1),
    };
    let stats = run_workers(scheme, scheme.default_workload, &run, 1, None)?;
    let verdict = stats.verdict();
    let first = verdict.and_then(|k| stats.first.get(&k));
    Ok(Cell {
        scheme: scheme.name,
        explorer: explorer.name(),
        model: "sc",
        expected: scheme.expected.sc,
        verdict,
        found: stats.first.keys().copied().collect(),
        matches: verdict == scheme.expected.sc,
        executions: stats.executions,
        executions_to_first: first.map(|h| h.executions),
        seconds_to_first: first.map(|h| h.elapsed.as_secs_f64()),
        executions_per_second: stats.rate(),
    })
}

/// The loom cell: a bounded-exhaustive run, capped by the cell's time.
fn loom_cell(scheme: &'static Scheme, args: &CompareArgs) -> Result<Cell> {
    let out = verify_scheme(
        scheme,
        scheme.default_workload,
        None,
        Some(args.time_per_cell),
    )?;
    let found_at = out.verdict.map(|_| out.executions);
    Ok(Cell {
        scheme: scheme.name,
        explorer: format!("loom-b{}", out.bound),
        model: "c11",
        expected: scheme.expected.c11,
        verdict: out.verdict,
        found: out.verdict.into_iter().collect(),
        matches: out.verdict == scheme.expected.c11,
        executions: out.executions,
        executions_to_first: found_at,
        seconds_to_first: out.verdict.map(|_| out.elapsed.as_secs_f64()),
        executions_per_second: out.executions as f64 / out.elapsed.as_secs_f64().max(1e-9),
    })
}

/// `ok`; `MISSED` when the expected bug was not reached (nothing, or only
/// something less severe, was found); `WRONG` for a false positive.
fn outcome(c: &Cell) -> &'static str {
    let rank = |v: Option<FindingKind>| v.map_or(u8::MAX, severity);
    if c.matches {
        "ok"
    } else if rank(c.verdict) > rank(c.expected) {
        "MISSED"
    } else {
        "WRONG"
    }
}

fn print_table(cells: &[Cell], markdown: bool) {
    let head = [
        "scheme",
        "expected",
        "explorer",
        "verdict",
        "ok",
        "execs to 1st",
        "time to 1st",
        "execs/s",
    ];
    let rows: Vec<[String; 8]> = cells
        .iter()
        .map(|c| {
            [
                c.scheme.to_string(),
                format!("{} ({})", verdict_name(c.expected), c.model),
                c.explorer.clone(),
                verdict_name(c.verdict),
                outcome(c).into(),
                c.executions_to_first
                    .map_or_else(|| format!("- (of {})", c.executions), |n| n.to_string()),
                c.seconds_to_first
                    .map_or_else(|| "-".into(), |s| format!("{:.1}ms", s * 1000.0)),
                format!("{:.0}", c.executions_per_second),
            ]
        })
        .collect();
    let widths: Vec<usize> = (0..head.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].len())
                .chain([head[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cols: &[String]| -> String {
        let cells: Vec<String> = cols
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        if markdown {
            format!("| {} |", cells.join(" | "))
        } else {
            cells.join("  ").trim_end().to_string()
        }
    };
    println!("{}", line(&head.map(String::from)));
    if markdown {
        let sep: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        println!("{}", line(&sep));
    }
    for r in &rows {
        println!("{}", line(r));
    }
}
