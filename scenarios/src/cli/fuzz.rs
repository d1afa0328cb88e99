//! `unplug fuzz SCHEME|all`: explore, print one report per distinct finding,
//! save each failing schedule to the corpus.

use super::{
    explorer, parse_duration, parse_seed, scheme, seed_header, ExecArgs, ReportArgs, Status,
    WorkloadArgs,
};
use anyhow::{bail, Context, Result};
use clap::Args;
use harness::engine::{
    explore, severity, Budget, Explorer, Progress, RunConfig, RunStats, StopPolicy,
};
use harness::report::render_execution;
use indicatif::{ProgressBar, ProgressStyle};
use scenarios::replay::entry_for;
use scenarios::shard::parse_shard;
use scenarios::{Scheme, Workload};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Executions per scheme when neither `--iterations` nor `--time` is given.
pub const DEFAULT_ITERATIONS: u64 = 100_000;

/// Arguments of `unplug fuzz`.
#[derive(Args, Debug)]
pub struct FuzzArgs {
    /// A scheme name (see `unplug list`), or `all`.
    scheme: String,
    /// random, pct (depth ladder), pct-dN (fixed depth N), or portfolio (random and pct alternating).
    #[arg(long, default_value = "portfolio")]
    explorer: String,
    /// Base seed; execution i runs with a seed derived from it (execution 0 with the seed itself).
    #[arg(long, default_value = "0", value_parser = parse_seed)]
    seed: u64,
    /// Executions per scheme (default 100000 unless --time is given).
    #[arg(long)]
    iterations: Option<u64>,
    /// Wall-time budget per scheme, e.g. 30s, 2m.
    #[arg(long, value_parser = parse_duration)]
    time: Option<Duration>,
    /// Parallel workers (threads), each on its own share of the execution seeds.
    #[arg(long, default_value_t = 1)]
    workers: u64,
    /// Run only shard K of N (K/N, 1-based): N machines never repeat each other's executions.
    #[arg(long, value_parser = parse_shard, default_value = "1/1")]
    shard: (u64, u64),
    /// Stop at the first execution with a fatal finding.
    #[arg(long)]
    stop_at_first: bool,
    /// Where failing schedules are saved.
    #[arg(long, default_value = "corpus")]
    corpus: PathBuf,
    /// Do not save failing schedules.
    #[arg(long)]
    no_save: bool,
    #[command(flatten)]
    report: ReportArgs,
    #[command(flatten)]
    workload: WorkloadArgs,
    #[command(flatten)]
    exec: ExecArgs,
}

/// Run the command.
pub fn run(args: FuzzArgs) -> Result<Status> {
    let schemes: Vec<&'static Scheme> = if args.scheme == "all" {
        scenarios::ALL.iter().collect()
    } else {
        vec![scheme(&args.scheme)?]
    };
    let explorer = explorer(&args.explorer)?;
    if !(1..=64).contains(&args.workers) {
        bail!("--workers must be between 1 and 64");
    }
    if args.iterations == Some(0) {
        bail!("--iterations must be at least 1");
    }
    args.exec.config()?;
    // Validate every workload before spending any time.
    let workloads = schemes
        .iter()
        .map(|s| args.workload.apply(s))
        .collect::<Result<Vec<_>>>()?;
    let mut status = Status::Clean;
    for (s, w) in schemes.into_iter().zip(workloads) {
        if fuzz_scheme(&args, s, w, &explorer)? {
            status = Status::Finding;
        }
    }
    Ok(status)
}

/// Run every worker of one scheme and merge what they found.
pub fn run_workers(
    scheme: &Scheme,
    workload: Workload,
    run: &RunConfig,
    workers: u64,
    progress: Option<Progress>,
) -> Result<RunStats> {
    let scenario = scheme.scenario(workload);
    let per_worker = |w: u64| RunConfig {
        budget: Budget {
            // Split the iterations; the first workers take the remainder.
            iterations: run
                .budget
                .iterations
                .map(|n| n / workers + u64::from(w < n % workers)),
            time: run.budget.time,
        },
        shard: (run.shard.0 + w * run.shard.1, run.shard.1 * workers),
        ..run.clone()
    };
    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let cfg = per_worker(w);
                let scenario = Arc::clone(&scenario);
                let progress = progress.clone();
                scope.spawn(move || explore(&scenario, &cfg, progress))
            })
            .collect();
        handles.into_iter().map(|h| h.join()).collect()
    });
    let mut merged = RunStats::default();
    for r in results {
        match r {
            Ok(Ok(stats)) => merged.merge(stats),
            Ok(Err(e)) => return Err(e).context(format!("scheme {}", scheme.name)),
            Err(_) => bail!("a worker of scheme {} panicked", scheme.name),
        }
    }
    // Parallel workers finish in any order: report in a deterministic one.
    merged
        .distinct
        .sort_by_key(|(_, r)| (r.worst().map(|f| severity(f.kind)), r.index));
    Ok(merged)
}

fn progress_bar(total: Option<u64>, scheme: &str) -> ProgressBar {
    let pb = match total {
        Some(n) => ProgressBar::new(n),
        None => ProgressBar::no_length(),
    };
    let style = ProgressStyle::with_template(
        "{prefix:>26} [{elapsed_precise}] {wide_bar} {pos}/{len} {per_sec} {msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    pb.set_style(style);
    pb.set_prefix(scheme.to_string());
    pb
}

/// Fuzz one scheme; true if anything was found.
fn fuzz_scheme(
    args: &FuzzArgs,
    scheme: &Scheme,
    workload: Workload,
    explorer: &Explorer,
) -> Result<bool> {
    let iterations = match (args.iterations, args.time) {
        (None, None) => Some(DEFAULT_ITERATIONS),
        (i, _) => i,
    };
    let run = RunConfig {
        explorer: explorer.clone(),
        seed: args.seed,
        budget: Budget {
            iterations,
            time: args.time,
        },
        exec: args.exec.config()?,
        stop: if args.stop_at_first {
            StopPolicy::FirstFatal
        } else {
            StopPolicy::Never
        },
        shard: args.shard,
    };
    let pb = progress_bar(iterations, scheme.name);
    let bar = pb.clone();
    let progress: Progress = Arc::new(move |_, _| bar.inc(256));
    let stats = run_workers(scheme, workload, &run, args.workers, Some(progress))?;
    pb.finish_and_clear();

    let detailing = args.report.detailing();
    let header = |seed| seed_header(scheme, &workload, explorer, seed, &args.exec);
    let mut printed = Vec::new();
    for (_, record) in &stats.distinct {
        if printed.contains(&record.index) {
            continue;
        }
        printed.push(record.index);
        println!(
            "{}",
            render_execution(&header(record.seed), record, detailing)
        );
        if !args.no_save {
            for f in &record.findings {
                let entry = entry_for(
                    scheme,
                    workload,
                    &explorer.name(),
                    Some(record.seed),
                    record,
                    f,
                );
                let path = entry.default_path(&args.corpus);
                if !path.exists() {
                    entry.save(&path)?;
                    eprintln!("unplug: saved {}", path.display());
                }
            }
        }
    }
    let kinds: Vec<String> = stats
        .first
        .iter()
        .map(|(k, h)| format!("{k} after {} executions", h.executions))
        .collect();
    eprintln!(
        "unplug: {}: {} executions in {:.1}s ({:.0}/s, {} worker(s)); {}",
        scheme.name,
        stats.executions,
        stats.elapsed.as_secs_f64(),
        stats.rate(),
        args.workers,
        if kinds.is_empty() {
            format!(
                "none in {} executions (SC, explorer {}, seeds from base {:#x}{})",
                stats.executions,
                explorer.name(),
                args.seed,
                if args.time.is_some() && iterations.is_none_or(|n| stats.executions < n) {
                    ", cut by the time cap"
                } else {
                    ""
                }
            )
        } else {
            kinds.join(", ")
        }
    );
    Ok(!stats.first.is_empty())
}
