//! `unplug fuzz SCHEME|all`: explore, print one report per distinct finding
//! and save its failing schedule to the corpus, each as soon as it is found.

use super::{
    catch_interrupts, emit, error_line, explorer, interrupt_flag, interrupted, parse_duration,
    parse_seed, record_header, scheme, ExecArgs, ReportArgs, Status, WorkloadArgs,
};
use crate::replay::entry_for;
use crate::shard::parse_shard;
use crate::{Scheme, Workload};
use anyhow::{bail, Context, Result};
use clap::Args;
use harness::corpus::{check_writable, Saved};
use harness::engine::{
    explore_with, run_single, severity, Budget, Drive, ExecConfig, ExecutionRecord, Explorer,
    Hooks, OnFinding, Progress, RunConfig, RunStats, StopPolicy,
};
use harness::finding::{Detail, FindingKind};
use harness::report::render_execution;
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// Executions per scheme when neither `--iterations` nor `--time` is given.
pub const DEFAULT_ITERATIONS: u64 = 100_000;

/// Arguments of `unplug fuzz`.
#[derive(Args, Debug)]
pub struct FuzzArgs {
    /// A scheme name (see `unplug list`), or `all`.
    scheme: String,
    /// random, pct (depth ladder), pct-dN (fixed depth N, 1-64), pos
    /// (partial-order sampling), cpos (POS re-drawing conflicting steps),
    /// surw (selectively uniform random walk), slow (random walk with one
    /// slowed task), guided (feedback-guided schedule fuzzing), adaptive
    /// (the portfolio's members with cpos and guided, shares adapting to new
    /// features; guided and adaptive findings replay from the printed
    /// schedule), or portfolio (slow, cpos, pct and random, picked per
    /// execution).
    #[arg(long, default_value = "portfolio")]
    explorer: String,
    /// Base seed, a u64 (decimal or 0x-hex); execution i runs with a seed
    /// derived from it (execution 0 with the seed itself).
    #[arg(long, default_value = "0", value_parser = parse_seed)]
    seed: u64,
    /// Executions per scheme, at least 1 (default 100000 unless --time is given).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    iterations: Option<u64>,
    /// Wall-time budget per scheme, e.g. 30s, 2m, 1h (at most 1000h).
    #[arg(long, value_parser = parse_duration)]
    time: Option<Duration>,
    /// Parallel workers (threads), 1-64, each on its own share of the
    /// execution seeds.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=64))]
    workers: u64,
    /// Run only shard K of N (K/N, 1-based): N machines never repeat each
    /// other's executions.
    #[arg(long, value_parser = parse_shard, default_value = "1/1")]
    shard: (u64, u64),
    /// Stop (every worker) at the first execution with a fatal finding.
    #[arg(long)]
    stop_at_first: bool,
    /// Where failing schedules are saved (created if missing; checked to
    /// be writable before the run). A finding the folder already holds with
    /// a schedule no larger is not saved again.
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
        crate::schemes::active().schemes.clone()
    } else {
        vec![scheme(&args.scheme)?]
    };
    let explorer = explorer(&args.explorer)?;
    args.exec.config()?;
    // Validate every workload, and the corpus folder, before spending any time.
    let workloads = schemes
        .iter()
        .map(|s| args.workload.apply(s))
        .collect::<Result<Vec<_>>>()?;
    if !args.no_save {
        check_writable(&args.corpus).context("--corpus")?;
    }
    catch_interrupts()?;
    let mut found = false;
    let mut failed = false;
    for (s, w) in schemes.into_iter().zip(workloads) {
        if interrupted() {
            break;
        }
        match fuzz_scheme(&args, s, w, &explorer) {
            Ok(Outcome::Found) => found = true,
            Ok(Outcome::Clean) => {}
            // The reader went away: nothing more can be shown.
            Ok(Outcome::OutputClosed { found: f }) => {
                found |= f;
                break;
            }
            Ok(Outcome::OutputFailed(e)) => {
                eprintln!("unplug: error: {}", error_line(&e));
                failed = true;
                break;
            }
            Err(e) => {
                // One scheme's failure (an entry that cannot be written,
                // say) does not cost the others their run.
                eprintln!("unplug: error: {}: {}", s.name, error_line(&e));
                failed = true;
            }
        }
    }
    if interrupted() {
        eprintln!(
            "unplug: interrupted; {}",
            if found {
                "the findings above were reported and saved as they were found"
            } else {
                "nothing found so far"
            }
        );
    }
    Ok(if failed {
        Status::BadInput
    } else if found {
        Status::Finding
    } else if interrupted() {
        Status::Interrupted
    } else {
        Status::Clean
    })
}

/// How one scheme's campaign ended.
enum Outcome {
    Clean,
    Found,
    /// Standard output was closed (`| head`); whether anything was found.
    OutputClosed {
        found: bool,
    },
    /// Standard output cannot be written (a full disk): no scheme can report.
    OutputFailed(anyhow::Error),
}

/// Run every worker of one scheme and merge what they found (the
/// [`Hooks::cancel`] flag is the process's interrupt flag).
pub fn run_workers(
    scheme: &Scheme,
    workload: Workload,
    run: &RunConfig,
    workers: u64,
    progress: Option<Progress>,
) -> Result<RunStats> {
    let hooks = Hooks {
        progress,
        cancel: Some(interrupt_flag()),
        ..Hooks::default()
    };
    run_workers_with(scheme, workload, run, workers, hooks)
}

/// [`run_workers`] with a campaign's hooks. The workers share a stop flag,
/// so a stop policy met by one stops them all, and an execution counter, so
/// first hits count every worker's executions.
pub fn run_workers_with(
    scheme: &Scheme,
    workload: Workload,
    run: &RunConfig,
    workers: u64,
    hooks: Hooks,
) -> Result<RunStats> {
    let scenario = scheme.scenario(workload);
    let hooks = Hooks {
        stop: Some(hooks.stop.unwrap_or_default()),
        executions: Some(hooks.executions.unwrap_or_default()),
        ..hooks
    };
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
                let hooks = hooks.clone();
                scope.spawn(move || explore_with(&scenario, &cfg, hooks))
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
        "{prefix:>24} [{elapsed_precise}] {bar:30} {pos}/{len} {per_sec} {msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    pb.set_style(style);
    pb.set_prefix(scheme.to_string());
    pb
}

/// Reports and saves findings as the workers find them.
struct Reporter {
    scheme: &'static Scheme,
    workload: Workload,
    explorer: Explorer,
    exec: ExecArgs,
    detailing: harness::report::Detailing,
    corpus: Option<PathBuf>,
    bar: ProgressBar,
    /// Signatures reported so far, across workers.
    seen: BTreeSet<String>,
    /// Ends the run early: set when the output is closed or an entry cannot
    /// be written.
    stop: Arc<AtomicBool>,
    output_closed: bool,
    /// Writing a report failed (other than a closed pipe).
    output_failed: bool,
    error: Option<anyhow::Error>,
}

impl Reporter {
    fn on_finding(&mut self, record: &ExecutionRecord, new: &[String]) {
        let new: Vec<&String> = new.iter().filter(|s| !self.seen.contains(*s)).collect();
        if new.is_empty() || self.output_closed || self.error.is_some() {
            return;
        }
        self.seen.extend(new.iter().map(|s| s.to_string()));
        if let Err(e) = self.report(record, &new) {
            self.error = Some(e);
            self.stop.store(true, Ordering::Relaxed);
        }
    }

    fn report(&mut self, record: &ExecutionRecord, new: &[&String]) -> Result<()> {
        let header = record_header(
            self.scheme,
            &self.workload,
            &self.explorer,
            record,
            &self.exec,
        );
        let text = render_execution(&header, record, self.detailing);
        let shown = self
            .bar
            .suspend(|| emit(&text))
            .inspect_err(|_| self.output_failed = true)?;
        if !shown {
            self.output_closed = true;
            self.stop.store(true, Ordering::Relaxed);
            return Ok(());
        }
        for f in &record.findings {
            if let Detail::Hang { steps, .. } = &f.detail {
                if *steps > self.exec.step_budget() {
                    self.note(&format!(
                        "no progress within {} steps; raise --step-budget if the workload is large",
                        self.exec.step_budget()
                    ));
                }
            }
        }
        let Some(corpus) = self.corpus.clone() else {
            return Ok(());
        };
        for f in &record.findings {
            if !new.iter().any(|s| **s == f.signature()) {
                continue;
            }
            if f.kind == FindingKind::Hang && !self.hangs_at_default_budget(record) {
                self.note(&format!(
                    "not saved: the hang does not reproduce at the default step budget ({})",
                    harness::engine::DEFAULT_STEP_BUDGET
                ));
                continue;
            }
            let explorer = record.replayed_by(&self.explorer);
            let entry = entry_for(
                self.scheme,
                self.workload.clone(),
                &explorer.name(),
                explorer.replays_from_seed().then_some(record.seed),
                record,
                f,
            );
            let message = match entry.save_new(&corpus)? {
                Saved::New(path) => format!("saved {}", path.display()),
                Saved::Smaller { path, previous } => format!(
                    "saved {} (a smaller schedule than {})",
                    path.display(),
                    previous.display()
                ),
                Saved::Known(path) => format!("already in the corpus: {}", path.display()),
            };
            self.note(&message);
        }
        Ok(())
    }

    /// A hang found under a raised or lowered step budget is only a hang if
    /// its schedule still runs out of steps at the default budget (a small
    /// budget cuts off executions that merely have many steps).
    fn hangs_at_default_budget(&self, record: &ExecutionRecord) -> bool {
        if self.exec.step_budget() == harness::engine::DEFAULT_STEP_BUDGET {
            return true;
        }
        let exec = ExecConfig {
            step_budget: harness::engine::DEFAULT_STEP_BUDGET,
            ..self.exec.config().unwrap_or_default()
        };
        run_single(
            &self.scheme.scenario(self.workload.clone()),
            &Drive::Choices(record.schedule.clone()),
            exec,
        )
        .is_ok_and(|run| {
            run.record
                .findings
                .iter()
                .any(|f| f.kind == FindingKind::Hang)
        })
    }

    fn note(&self, message: &str) {
        self.bar.suspend(|| eprintln!("unplug: {message}"));
    }
}

/// Fuzz one scheme.
fn fuzz_scheme(
    args: &FuzzArgs,
    scheme: &'static Scheme,
    workload: Workload,
    explorer: &Explorer,
) -> Result<Outcome> {
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
    let stop = Arc::new(AtomicBool::new(false));
    let reporter = Arc::new(Mutex::new(Reporter {
        scheme,
        workload: workload.clone(),
        explorer: explorer.clone(),
        exec: args.exec.clone(),
        detailing: args.report.detailing(),
        corpus: (!args.no_save).then(|| args.corpus.clone()),
        bar: pb.clone(),
        seen: BTreeSet::new(),
        stop: Arc::clone(&stop),
        output_closed: false,
        output_failed: false,
        error: None,
    }));
    let sink = Arc::clone(&reporter);
    let on_finding: OnFinding = Arc::new(move |record, new| {
        sink.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .on_finding(record, new)
    });
    let hooks = Hooks {
        progress: Some(progress),
        on_finding: Some(on_finding),
        cancel: Some(interrupt_flag()),
        stop: Some(stop),
        executions: Some(Arc::new(AtomicU64::new(0))),
    };
    let stats = run_workers_with(scheme, workload, &run, args.workers, hooks)?;
    pb.finish_and_clear();
    let mut reporter = reporter.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(e) = reporter.error.take() {
        if reporter.output_failed {
            return Ok(Outcome::OutputFailed(e));
        }
        return Err(e);
    }
    let found = !stats.first.is_empty();
    let kinds: Vec<String> = stats
        .first
        .iter()
        .map(|(k, h)| format!("{k} after {} executions", h.executions))
        .collect();
    eprintln!(
        "unplug: {}: {} executions in {:.1}s ({:.0}/s, {} worker(s)){}; {}",
        scheme.name,
        stats.executions,
        stats.elapsed.as_secs_f64(),
        stats.rate(),
        args.workers,
        if interrupted() { ", interrupted" } else { "" },
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
    Ok(if reporter.output_closed {
        Outcome::OutputClosed { found }
    } else if found {
        Outcome::Found
    } else {
        Outcome::Clean
    })
}
