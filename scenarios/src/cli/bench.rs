//! `unplug bench`: unplug's explorers against shuttle's own schedulers
//! (`check_random`, `check_pct` at depths 3 and 4, `check_urw`) and loom, in
//! one run over the same scenario code, on `srcu-single-drain`'s default and
//! hard workloads: executions and seconds to the first use-after-removal
//! over many seeds, executions per second on one and two workers, each as a
//! ratio to shuttle's random walk, and a plot of the fraction of seeds that
//! found the bug against executions.
//!
//! Shuttle's schedulers run the engine's baseline body
//! ([`shuttle_baseline_body`]): the same kernel model and detectors, but a
//! parked task spins (a deadlock runs into shuttle's step bound), which is
//! how a shuttle user would run this model.

use super::{bench_fuzz, emit, explorer, Status};
use crate::{fuzz_target, FuzzTarget, Scheme};
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use harness::engine::{
    explore, last_execution_found, shuttle_baseline_body, Budget, ExecConfig, Explorer, RunConfig,
    ScenarioFn, StopPolicy,
};
use harness::finding::FindingKind;
use plotters::prelude::*;
use serde::Serialize;
use std::cell::Cell;
use std::mem::ManuallyDrop;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Output formats.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    /// An aligned terminal table.
    Table,
    /// A Markdown table (the README's performance section).
    Md,
    /// JSON, one object per row.
    Json,
}

/// Arguments of `unplug bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Seeds per (workload, explorer): seeds 1..=N.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(10..=1000))]
    seeds: u64,
    /// Small caps and rate samples: finishes in under two minutes on two cores.
    #[arg(long)]
    quick: bool,
    /// unplug explorers to run (comma-separated).
    #[arg(
        long,
        default_value = "portfolio,slow,pos,cpos,surw,guided,pct,random",
        value_delimiter = ','
    )]
    explorers: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Where to write the SVG plot (default: `target/unplug-bench.svg`
    /// under the current directory, else the temporary directory).
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Seed runs in parallel (default: one per core).
    #[arg(long)]
    jobs: Option<usize>,
}

/// Who explores.
#[derive(Clone, Debug)]
enum Contender {
    Unplug(Explorer),
    ShuttleRandom,
    ShuttlePct(usize),
    ShuttleUrw,
}

impl Contender {
    fn name(&self) -> String {
        match self {
            Contender::Unplug(e) => format!("unplug {}", e.name()),
            Contender::ShuttleRandom => "shuttle random".into(),
            Contender::ShuttlePct(d) => format!("shuttle pct-d{d}"),
            Contender::ShuttleUrw => "shuttle urw".into(),
        }
    }
}

/// A workload of the benchmark.
struct Bench {
    name: &'static str,
    scheme: &'static Scheme,
    scenario: ScenarioFn,
    /// Executions a seed may take before it counts as a miss.
    cap: u64,
    /// Wall time a seed may take before it counts as a miss.
    seed_time: Duration,
    /// Executions per rate sample.
    rate_sample: u64,
    /// Wall time a rate sample may take.
    rate_time: Duration,
}

/// One row of the table.
#[derive(Debug, Serialize)]
struct Row {
    workload: &'static str,
    explorer: String,
    seeds: u64,
    found: usize,
    cap: u64,
    /// Per seed: executions to the first use-after-removal, `None` for a miss.
    executions: Vec<Option<u64>>,
    /// Per seed: seconds to the first use-after-removal.
    seconds: Vec<Option<f64>>,
    median_executions: Option<f64>,
    min_executions: Option<f64>,
    max_executions: Option<f64>,
    median_seconds: Option<f64>,
    min_seconds: Option<f64>,
    max_seconds: Option<f64>,
    rate_1_worker: Option<f64>,
    rate_2_workers: Option<f64>,
    /// Ratios to shuttle random on the same workload (medians; rates).
    executions_vs_shuttle_random: Option<f64>,
    seconds_vs_shuttle_random: Option<f64>,
    rate_1_vs_shuttle_random: Option<f64>,
    rate_2_vs_shuttle_random: Option<f64>,
    /// The execution and second ratios are upper bounds: shuttle random
    /// missed at the median, so they are taken against its caps.
    ratios_are_upper_bounds: bool,
    note: Option<String>,
}

/// The lower median, minimum and maximum, a miss counting as slower than
/// any hit: `None` when the statistic falls on a miss.
fn stats(values: &[Option<f64>]) -> (Option<f64>, Option<f64>, Option<f64>) {
    let mut v: Vec<f64> = values.iter().map(|x| x.unwrap_or(f64::INFINITY)).collect();
    v.sort_by(f64::total_cmp);
    let finite = |x: f64| x.is_finite().then_some(x);
    match (v.first(), v.last()) {
        (Some(&lo), Some(&hi)) => (finite(v[(v.len() - 1) / 2]), finite(lo), finite(hi)),
        _ => (None, None, None),
    }
}

thread_local! {
    static EXECUTIONS: Cell<u64> = const { Cell::new(0) };
    /// Set by the body when the run should end: at the first finding, or
    /// when the wall-time cap is reached.
    static STOP: Cell<bool> = const { Cell::new(false) };
    /// Whether the run ended at a use-after-removal.
    static FOUND: Cell<bool> = const { Cell::new(false) };
}

/// One of shuttle's own schedulers, ended between executions when the
/// body asks: the run returns normally instead of panicking out of the
/// body, which shuttle would report as a failing test (on stderr, with
/// "test panicked in task ..." and its replay instructions).
struct Stoppable<S> {
    /// Never dropped: `RandomScheduler` prints its seed and how to replay
    /// it when dropped before its iteration cap (it takes that for a
    /// failing test), and the bench's runs end early by design. One
    /// scheduler of a few hundred bytes per run stays allocated.
    inner: ManuallyDrop<S>,
}

impl<S: shuttle::scheduler::Scheduler> shuttle::scheduler::Scheduler for Stoppable<S> {
    fn new_execution(&mut self) -> Option<shuttle::scheduler::Schedule> {
        if STOP.with(Cell::get) {
            return None;
        }
        self.inner.new_execution()
    }

    fn next_task(
        &mut self,
        runnable: &[&shuttle::scheduler::Task],
        current: Option<shuttle::scheduler::TaskId>,
        is_yielding: bool,
    ) -> Option<shuttle::scheduler::TaskId> {
        self.inner.next_task(runnable, current, is_yielding)
    }

    fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }
}

/// Run one of shuttle's own schedulers over the baseline body until its
/// iteration cap, `deadline`, or (with `stop_at_finding`) the first
/// use-after-removal: executions run, and whether it found one.
fn shuttle_run<S>(
    scheduler: S,
    scenario: &ScenarioFn,
    deadline: Instant,
    stop_at_finding: bool,
) -> (u64, bool)
where
    S: shuttle::scheduler::Scheduler + 'static,
{
    let body = shuttle_baseline_body(scenario, ExecConfig::default());
    EXECUTIONS.with(|c| c.set(0));
    STOP.with(|c| c.set(false));
    FOUND.with(|c| c.set(false));
    let runner = shuttle::Runner::new(
        Stoppable {
            inner: ManuallyDrop::new(scheduler),
        },
        shuttle_config(),
    );
    // The body runs on this thread (shuttle's tasks are coroutines on it),
    // so it reports to the scheduler and to this function through
    // thread-locals.
    runner.run(move || {
        body();
        EXECUTIONS.with(|c| c.set(c.get() + 1));
        if stop_at_finding && last_execution_found(FindingKind::UseAfterRemoval) {
            FOUND.with(|c| c.set(true));
            STOP.with(|c| c.set(true));
        }
        if Instant::now() >= deadline {
            STOP.with(|c| c.set(true));
        }
    });
    (EXECUTIONS.with(Cell::get), FOUND.with(Cell::get))
}

/// Executions to the first use-after-removal under one of shuttle's own
/// schedulers, `None` within the caps.
fn shuttle_first<S>(scheduler: S, scenario: &ScenarioFn, deadline: Instant) -> Option<u64>
where
    S: shuttle::scheduler::Scheduler + 'static,
{
    match shuttle_run(scheduler, scenario, deadline, true) {
        (n, true) => Some(n),
        _ => None,
    }
}

fn shuttle_config() -> shuttle::Config {
    let mut config = shuttle::Config::new();
    // Shuttle's schedulers know nothing of parked tasks: a deadlocked
    // execution spins until cut off. End it quietly and go on, as the
    // engine does with its step budget (a spinning step is a decision too).
    config.max_steps =
        shuttle::MaxSteps::ContinueAfter(harness::engine::DEFAULT_STEP_BUDGET as usize);
    config.silence_warnings = true;
    config.failure_persistence = shuttle::FailurePersistence::None;
    config
}

/// One seed of one contender: executions and seconds to the first
/// use-after-removal.
fn first_finding(c: &Contender, bench: &Bench, seed: u64) -> Result<Option<(u64, f64)>> {
    let start = Instant::now();
    let deadline = start + bench.seed_time;
    let cap = bench.cap as usize;
    let found = match c {
        Contender::Unplug(e) => {
            let run = RunConfig {
                explorer: e.clone(),
                seed,
                budget: Budget {
                    iterations: Some(bench.cap),
                    time: Some(bench.seed_time),
                },
                exec: ExecConfig::default(),
                stop: StopPolicy::FirstFatal,
                shard: (0, 1),
            };
            let stats = explore(&bench.scenario, &run, None)?;
            stats
                .first
                .get(&FindingKind::UseAfterRemoval)
                .map(|h| h.executions)
        }
        Contender::ShuttleRandom => shuttle_first(
            shuttle::scheduler::RandomScheduler::new_from_seed(seed, cap),
            &bench.scenario,
            deadline,
        ),
        Contender::ShuttlePct(d) => shuttle_first(
            shuttle::scheduler::PctScheduler::new_from_seed(seed, *d, cap),
            &bench.scenario,
            deadline,
        ),
        Contender::ShuttleUrw => shuttle_first(
            shuttle::scheduler::UrwRandomScheduler::new_from_seed(seed, cap),
            &bench.scenario,
            deadline,
        ),
    };
    Ok(found.map(|n| (n, start.elapsed().as_secs_f64())))
}

/// Executions per second of `c` on `workers` threads, each running its
/// share of the sample without stopping at findings, within the sample's
/// wall time.
fn rate(c: &Contender, bench: &Bench, workers: u64) -> Result<f64> {
    let n = bench.rate_sample;
    let start = Instant::now();
    let deadline = start + bench.rate_time;
    let results: Vec<Result<u64>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let scenario = Arc::clone(&bench.scenario);
                scope.spawn(move || -> Result<u64> {
                    let k = (n / workers) as usize;
                    let body = || -> Result<u64> {
                        Ok(match c {
                            Contender::Unplug(e) => {
                                let run = RunConfig {
                                    explorer: e.clone(),
                                    seed: 1,
                                    budget: Budget {
                                        iterations: Some(k as u64),
                                        time: Some(bench.rate_time),
                                    },
                                    exec: ExecConfig::default(),
                                    stop: StopPolicy::Never,
                                    shard: (w, workers),
                                };
                                explore(&scenario, &run, None)?.executions
                            }
                            Contender::ShuttleRandom => {
                                let s =
                                    shuttle::scheduler::RandomScheduler::new_from_seed(1 + w, k);
                                shuttle_run(s, &scenario, deadline, false).0
                            }
                            Contender::ShuttlePct(d) => {
                                let s =
                                    shuttle::scheduler::PctScheduler::new_from_seed(1 + w, *d, k);
                                shuttle_run(s, &scenario, deadline, false).0
                            }
                            Contender::ShuttleUrw => {
                                let s =
                                    shuttle::scheduler::UrwRandomScheduler::new_from_seed(1 + w, k);
                                shuttle_run(s, &scenario, deadline, false).0
                            }
                        })
                    };
                    body()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a rate worker panicked")))
            })
            .collect()
    });
    let mut total = 0;
    for r in results {
        total += r?;
    }
    Ok(total as f64 / start.elapsed().as_secs_f64().max(1e-9))
}

/// Run every seed of every contender on `bench`, `jobs` at a time.
fn measure(contenders: &[Contender], bench: &Bench, seeds: u64, jobs: usize) -> Result<Vec<Row>> {
    let work: Vec<(usize, u64)> = (0..contenders.len())
        .flat_map(|c| (1..=seeds).map(move |s| (c, s)))
        .collect();
    let next = AtomicUsize::new(0);
    let results = Mutex::new(vec![None; work.len()]);
    let failure = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(c, seed)) = work.get(i) else {
                    return;
                };
                match first_finding(&contenders[c], bench, seed) {
                    Ok(r) => {
                        if let Ok(mut all) = results.lock() {
                            all[i] = Some(r);
                        }
                    }
                    Err(e) => {
                        if let Ok(mut f) = failure.lock() {
                            f.get_or_insert(e);
                        }
                    }
                }
            });
        }
    });
    if let Some(e) = failure.into_inner().ok().flatten() {
        return Err(e);
    }
    let results = results
        .into_inner()
        .map_err(|_| anyhow::anyhow!("a bench worker panicked"))?;
    let mut rows = Vec::new();
    for (ci, c) in contenders.iter().enumerate() {
        let per_seed: Vec<Option<(u64, f64)>> = work
            .iter()
            .zip(&results)
            .filter(|((wc, _), _)| *wc == ci)
            .map(|(_, r)| r.flatten())
            .collect();
        let executions: Vec<Option<u64>> = per_seed.iter().map(|r| r.map(|(n, _)| n)).collect();
        let seconds: Vec<Option<f64>> = per_seed.iter().map(|r| r.map(|(_, s)| s)).collect();
        let (me, mine, maxe) = stats(
            &executions
                .iter()
                .map(|x| x.map(|n| n as f64))
                .collect::<Vec<_>>(),
        );
        let (ms, mins, maxs) = stats(&seconds);
        // Rates run one contender at a time, alone on the machine's cores.
        let rate_1 = rate(c, bench, 1)?;
        let rate_2 = rate(c, bench, 2)?;
        rows.push(Row {
            workload: bench.name,
            explorer: c.name(),
            seeds,
            found: executions.iter().flatten().count(),
            cap: bench.cap,
            executions,
            seconds,
            median_executions: me,
            min_executions: mine,
            max_executions: maxe,
            median_seconds: ms,
            min_seconds: mins,
            max_seconds: maxs,
            rate_1_worker: Some(rate_1),
            rate_2_workers: Some(rate_2),
            executions_vs_shuttle_random: None,
            seconds_vs_shuttle_random: None,
            rate_1_vs_shuttle_random: None,
            rate_2_vs_shuttle_random: None,
            ratios_are_upper_bounds: false,
            note: None,
        });
    }
    // Ratios to shuttle random; a miss-median makes its ratio unknown.
    let base = rows
        .iter()
        .find(|r| r.explorer == Contender::ShuttleRandom.name())
        .map(|r| {
            (
                r.median_executions,
                r.median_seconds,
                r.rate_1_worker,
                r.rate_2_workers,
            )
        });
    if let Some((be, bs, b1, b2)) = base {
        let ratio = |a: Option<f64>, b: Option<f64>| Some(a? / b?);
        for r in &mut rows {
            // Shuttle random missed at the median: the ratio is at most the
            // one against its cap.
            if be.is_none() && r.median_executions.is_some() {
                r.ratios_are_upper_bounds = true;
                r.executions_vs_shuttle_random = ratio(r.median_executions, Some(bench.cap as f64));
                r.seconds_vs_shuttle_random =
                    ratio(r.median_seconds, Some(bench.seed_time.as_secs_f64()));
                r.rate_1_vs_shuttle_random = ratio(r.rate_1_worker, b1);
                r.rate_2_vs_shuttle_random = ratio(r.rate_2_workers, b2);
                continue;
            }
            r.executions_vs_shuttle_random = ratio(r.median_executions, be);
            r.seconds_vs_shuttle_random = ratio(r.median_seconds, bs);
            r.rate_1_vs_shuttle_random = ratio(r.rate_1_worker, b1);
            r.rate_2_vs_shuttle_random = ratio(r.rate_2_workers, b2);
        }
    }
    Ok(rows)
}

/// The loom row: one bounded-exhaustive run (seeds do not apply).
fn loom_row(bench: &Bench, workload: crate::workload::Workload, time: Duration) -> Row {
    let mut row = Row {
        seeds: 1,
        ..loom_row_empty(bench, "loom")
    };
    let config = harness::exhaustive::ExhaustiveConfig {
        preemption_bound: bench.scheme.loom_bound(),
        time: Some(time),
        ..harness::exhaustive::ExhaustiveConfig::default()
    };
    match crate::verify::verify_with(bench.scheme, workload, &config) {
        Ok(out) => {
            let rate = out.executions as f64 / out.elapsed.as_secs_f64().max(1e-9);
            row.rate_1_worker = Some(rate);
            row.cap = out.executions;
            if out.verdict == Some(FindingKind::UseAfterRemoval) {
                let n = out.executions as f64;
                let s = out.elapsed.as_secs_f64();
                row.found = 1;
                row.executions = vec![Some(out.executions)];
                row.seconds = vec![Some(s)];
                (
                    row.median_executions,
                    row.min_executions,
                    row.max_executions,
                ) = (Some(n), Some(n), Some(n));
                (row.median_seconds, row.min_seconds, row.max_seconds) =
                    (Some(s), Some(s), Some(s));
            }
            row.note = Some(format!(
                "bounded-exhaustive (C11), preemption bound {}, {} executions, verdict {}",
                out.bound,
                out.executions,
                out.verdict
                    .map_or_else(|| "clean".into(), |k| k.to_string())
            ));
        }
        Err(e) => row.note = Some(format!("not run: {e}")),
    }
    row
}

/// The cargo fuzz row: libFuzzer runs out of process, `jobs` seeds at a
/// time, each for at most `time` (see [`bench_fuzz`]); skipped with a note
/// when cargo-fuzz is not installed.
fn cargo_fuzz_row(
    bench: &Bench,
    target: &FuzzTarget,
    bin: &std::result::Result<PathBuf, bench_fuzz::Skipped>,
    seeds: u64,
    jobs: usize,
    time: Duration,
    prebuilt: bool,
) -> Row {
    let mut row = loom_row_empty(bench, "cargo fuzz");
    let bin = match bin {
        Ok(bin) => bin,
        Err(e) => {
            row.note = Some(format!("skipped: {e}"));
            return row;
        }
    };
    let next = AtomicUsize::new(0);
    let results = Mutex::new(vec![None; seeds as usize]);
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= seeds as usize {
                    return;
                }
                let r = bench_fuzz::run(bin, target, i as u64 + 1, time);
                if let Ok(mut all) = results.lock() {
                    all[i] = Some(r);
                }
            });
        }
    });
    let runs: Vec<Option<bench_fuzz::FuzzRun>> = results.into_inner().unwrap_or_default();
    let hit = |r: &Option<bench_fuzz::FuzzRun>| match r {
        Some(bench_fuzz::FuzzRun::Hit(n, s)) => Some((*n, *s)),
        _ => None,
    };
    let executions: Vec<Option<u64>> = runs.iter().map(|r| hit(r).map(|(n, _)| n)).collect();
    let seconds: Vec<Option<f64>> = runs.iter().map(|r| hit(r).map(|(_, s)| s)).collect();
    let (me, mine, maxe) = stats(
        &executions
            .iter()
            .map(|x| x.map(|n| n as f64))
            .collect::<Vec<_>>(),
    );
    let (ms, mins, maxs) = stats(&seconds);
    let mut other_kinds: Vec<String> = Vec::new();
    let mut other = 0;
    for r in runs.iter().flatten() {
        if let bench_fuzz::FuzzRun::Other(kind) = r {
            other += 1;
            if !other_kinds.contains(&kind.to_string()) {
                other_kinds.push(kind.to_string());
            }
        }
    }
    row.seeds = seeds;
    row.found = executions.iter().flatten().count();
    row.executions = executions;
    row.seconds = seconds;
    row.median_executions = me;
    row.min_executions = mine;
    row.max_executions = maxe;
    row.median_seconds = ms;
    row.min_seconds = mins;
    row.max_seconds = maxs;
    let mut note = format!(
        "libFuzzer, stable (`-s none`), {} s per seed, out of process{}",
        time.as_secs(),
        if prebuilt {
            "; the fuzz binaries as last built (--quick does not rebuild them)"
        } else {
            ""
        }
    );
    if other > 0 {
        note.push_str(&format!(
            "; {other} seed(s) stopped first at another finding ({}: a fuzz target stops at its first), counted as misses",
            other_kinds.join(", ")
        ));
    }
    row.note = Some(note);
    row
}

fn loom_row_empty(bench: &Bench, name: &str) -> Row {
    Row {
        workload: bench.name,
        explorer: name.into(),
        seeds: 0,
        found: 0,
        cap: 0,
        executions: Vec::new(),
        seconds: Vec::new(),
        median_executions: None,
        min_executions: None,
        max_executions: None,
        median_seconds: None,
        min_seconds: None,
        max_seconds: None,
        rate_1_worker: None,
        rate_2_workers: None,
        executions_vs_shuttle_random: None,
        seconds_vs_shuttle_random: None,
        rate_1_vs_shuttle_random: None,
        rate_2_vs_shuttle_random: None,
        ratios_are_upper_bounds: false,
        note: None,
    }
}

fn num(x: Option<f64>, cap: u64) -> String {
    match x {
        Some(v) if v >= 100.0 => format!("{v:.0}"),
        Some(v) => format!("{v:.3}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .into(),
        None if cap > 0 => format!(">{cap}"),
        None => "-".into(),
    }
}

fn ratio(x: Option<f64>, bound: bool) -> String {
    let at_most = if bound { "<" } else { "" };
    x.map_or_else(|| "-".into(), |v| format!("{at_most}{v:.3}x"))
}

fn cells(r: &Row) -> Vec<String> {
    let secs = |x: Option<f64>| {
        x.map_or_else(
            || {
                if r.cap > 0 && r.seeds > 0 {
                    "miss".into()
                } else {
                    "-".into()
                }
            },
            |v| format!("{v:.3}"),
        )
    };
    vec![
        r.workload.to_string(),
        r.explorer.clone(),
        if r.seeds > 0 {
            format!("{}/{}", r.found, r.seeds)
        } else {
            "-".into()
        },
        format!(
            "{} [{}, {}]",
            num(r.median_executions, if r.seeds > 0 { r.cap } else { 0 }),
            num(r.min_executions, if r.seeds > 0 { r.cap } else { 0 }),
            num(r.max_executions, if r.seeds > 0 { r.cap } else { 0 })
        ),
        format!(
            "{} [{}, {}]",
            secs(r.median_seconds),
            secs(r.min_seconds),
            secs(r.max_seconds)
        ),
        num(r.rate_1_worker, 0),
        num(r.rate_2_workers, 0),
        ratio(r.executions_vs_shuttle_random, r.ratios_are_upper_bounds),
        ratio(r.seconds_vs_shuttle_random, r.ratios_are_upper_bounds),
        ratio(r.rate_1_vs_shuttle_random, false),
        ratio(r.rate_2_vs_shuttle_random, false),
    ]
}

const HEADER: [&str; 11] = [
    "workload",
    "explorer",
    "found",
    "executions median [min, max]",
    "seconds median [min, max]",
    "exec/s 1w",
    "exec/s 2w",
    "exec vs sr",
    "secs vs sr",
    "rate 1w vs sr",
    "rate 2w vs sr",
];

fn render_table(rows: &[Row], md: bool) -> String {
    let mut out = String::new();
    let body: Vec<Vec<String>> = rows.iter().map(cells).collect();
    if md {
        out.push_str(&format!("| {} |\n", HEADER.join(" | ")));
        out.push_str(&format!("|{}\n", "---|".repeat(HEADER.len())));
        for r in &body {
            out.push_str(&format!("| {} |\n", r.join(" | ")));
        }
    } else {
        let widths: Vec<usize> = (0..HEADER.len())
            .map(|i| {
                body.iter()
                    .map(|r| r[i].len())
                    .chain([HEADER[i].len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |out: &mut String, cols: Vec<String>| {
            let padded: Vec<String> = cols
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            out.push_str(padded.join("  ").trim_end());
            out.push('\n');
        };
        line(&mut out, HEADER.iter().map(|h| h.to_string()).collect());
        for r in body {
            line(&mut out, r);
        }
    }
    let notes: Vec<String> = rows
        .iter()
        .filter_map(|r| {
            r.note
                .as_ref()
                .map(|n| format!("{} / {}: {n}", r.workload, r.explorer))
        })
        .collect();
    if !notes.is_empty() {
        out.push('\n');
        for n in notes {
            out.push_str(&format!("{}{n}\n", if md { "* " } else { "" }));
        }
    }
    out
}

/// The plot: per workload, the fraction of seeds that found the bug within
/// `x` executions, one line per explorer.
fn plot(rows: &[Row], path: &std::path::Path) -> Result<()> {
    let workloads: Vec<&str> = {
        let mut w: Vec<&str> = rows.iter().map(|r| r.workload).collect();
        w.dedup();
        w
    };
    let root = SVGBackend::new(path, (1000, 420 * workloads.len() as u32)).into_drawing_area();
    root.fill(&WHITE)?;
    let panels = root.split_evenly((workloads.len(), 1));
    for (panel, workload) in panels.iter().zip(&workloads) {
        let series: Vec<&Row> = rows
            .iter()
            .filter(|r| r.workload == *workload && r.seeds > 0 && !r.executions.is_empty())
            .collect();
        let x_max = series
            .iter()
            .flat_map(|r| r.executions.iter().flatten().copied().chain([r.cap]))
            .max()
            .unwrap_or(10)
            .max(10) as f64;
        let mut chart = ChartBuilder::on(panel)
            .caption(
                format!("{workload}: fraction of seeds that found the use-after-removal"),
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(48)
            .build_cartesian_2d((1f64..x_max).log_scale(), 0f64..1.0)?;
        chart
            .configure_mesh()
            .x_desc("executions")
            .y_desc("fraction of seeds")
            .draw()?;
        for (i, r) in series.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            let mut hits: Vec<f64> = r.executions.iter().flatten().map(|&n| n as f64).collect();
            hits.sort_by(f64::total_cmp);
            let total = r.executions.len() as f64;
            let mut points = vec![(1.0, 0.0)];
            for (k, &x) in hits.iter().enumerate() {
                points.push((x.max(1.0), k as f64 / total));
                points.push((x.max(1.0), (k + 1) as f64 / total));
            }
            points.push((x_max, hits.len() as f64 / total));
            chart
                .draw_series(LineSeries::new(points, color.stroke_width(2)))?
                .label(r.explorer.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
    }
    root.present()?;
    Ok(())
}

fn default_plot_path() -> PathBuf {
    let target = PathBuf::from("target");
    if target.is_dir() {
        target.join("unplug-bench.svg")
    } else {
        std::env::temp_dir().join("unplug-bench.svg")
    }
}

/// Run the command.
pub fn run(args: BenchArgs) -> Result<Status> {
    let contenders: Vec<Contender> = args
        .explorers
        .iter()
        .map(|e| explorer(e).map(Contender::Unplug))
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .chain([
            Contender::ShuttleRandom,
            Contender::ShuttlePct(3),
            Contender::ShuttlePct(4),
            Contender::ShuttleUrw,
        ])
        .collect();
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    // The benchmark is the zoo's: a driver crate's program has its own
    // registry, without these targets.
    let target = |name: &str| {
        fuzz_target(name).with_context(|| {
            format!(
                "no fuzz target {name}: bench measures the explorers on the zoo's srcu-single-drain; run it from unplug itself"
            )
        })
    };
    let default = target("srcu_single_drain")?;
    let hard = target("srcu_single_drain_hard")?;
    // (cap, seconds per seed) per workload, rate sample and its seconds.
    let (default_cap, hard_cap, seed_time, sample, rate_time, loom_time) = if args.quick {
        (5_000, 10_000, 0.5, 20_000, 0.4, Duration::from_secs(5))
    } else {
        (
            100_000,
            300_000,
            30.0,
            100_000,
            3.0,
            Duration::from_secs(60),
        )
    };
    // libFuzzer's seconds per seed: it starts a process and grows a corpus,
    // so it gets more than the in-process explorers' per-seed time.
    let fuzz_time = Duration::from_secs(if args.quick { 2 } else { 60 });
    let fuzz_bin = bench_fuzz::build(args.quick);
    // loom's runs end by panicking with a private payload (a finding stops
    // `loom::model`), and the panic hook would print each; shuttle's runs
    // end between executions (`Stoppable`) and print nothing.
    // `UNPLUG_BENCH_DEBUG` keeps the hook, to see a scenario's own panic.
    // Shuttle installs its own hook (printing "Task failed, serializing
    // schedule") once, at its first run, around whatever hook is set then:
    // run an empty model first, so that the hook replaced here is shuttle's
    // and no later run wraps the silent one.
    shuttle::check_random(|| {}, 1);
    let hook = std::panic::take_hook();
    if std::env::var_os("UNPLUG_BENCH_DEBUG").is_none() {
        std::panic::set_hook(Box::new(|_| {}));
    }
    let mut rows = Vec::new();
    let started = Instant::now();
    for (name, t, cap) in [
        ("default", &default, default_cap),
        ("hard", &hard, hard_cap),
    ] {
        let bench = Bench {
            name,
            scheme: t.scheme,
            scenario: t.scheme.scenario(t.workload.clone()),
            cap,
            seed_time: Duration::from_secs_f64(seed_time),
            rate_sample: sample,
            rate_time: Duration::from_secs_f64(rate_time),
        };
        let measured = measure(&contenders, &bench, args.seeds, jobs);
        let measured = match measured {
            Ok(m) => m,
            Err(e) => {
                std::panic::set_hook(hook);
                return Err(e);
            }
        };
        rows.extend(measured);
        rows.push(cargo_fuzz_row(
            &bench, t, &fuzz_bin, args.seeds, jobs, fuzz_time, args.quick,
        ));
        if name == "default" {
            rows.push(loom_row(&bench, t.workload.clone(), loom_time));
        } else {
            let mut r = loom_row_empty(&bench, "loom");
            r.note = Some("not run: the hard workload has more tasks than loom's thread limit (loom::MAX_THREADS)".into());
            rows.push(r);
        }
    }
    std::panic::set_hook(hook);
    let mut text = match args.format {
        Format::Json => serde_json::to_string_pretty(&rows)?,
        Format::Md => render_table(&rows, true),
        Format::Table => render_table(&rows, false),
    };
    if !matches!(args.format, Format::Json) {
        text.push('\n');
        text.push_str(&format!(
            "sr: shuttle random on the same workload. Seeds 1..={}; a seed that has not found \
             the use-after-removal within its cap ({default_cap} executions on the default \
             workload, {hard_cap} on the hard one) or {seed_time} s is a miss, counted as \
             slower than any hit; `<` marks a ratio against shuttle random's cap (it missed \
             at the median). Rates: {rate_time} s or {sample} executions per sample, findings \
             included.",
            args.seeds
        ));
    }
    // A reader that went away (`| head`) still gets the plot written.
    emit(text.trim_end())?;
    let path = args.plot.unwrap_or_else(default_plot_path);
    plot(&rows, &path).with_context(|| format!("writing the plot to {}", path.display()))?;
    eprintln!(
        "unplug bench: {} seeds per cell, {:.0}s; plot written to {}",
        args.seeds,
        started.elapsed().as_secs_f64(),
        path.display()
    );
    Ok(Status::Clean)
}
