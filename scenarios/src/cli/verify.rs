//! `unplug verify SCHEME|all`: bounded-exhaustive exploration under loom's
//! C11 memory model, deepening the preemption bound.

use super::{
    catch_interrupts, emit, interrupt_flag, interrupted, parse_duration, scheme, ReportArgs,
    Status, WorkloadArgs,
};
use crate::verdict::{expected_words, judge, Cap, Judgement, Model, Outcome, Verdict};
use crate::verify::{deepen, DeepenConfig, DeepenEnd, Deepening, VerifyError, DEFAULT_EXECUTIONS};
use crate::{Scheme, Workload};
use anyhow::{bail, Result};
use clap::Args;
use harness::report::{render_execution, Header};
use indicatif::{ProgressBar, ProgressStyle};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Arguments of `unplug verify`.
#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// A scheme name (see `unplug list`), or `all`.
    scheme: String,
    /// Explore this preemption bound only (default: deepen 1, 2, 3, … until
    /// a finding, the whole state space, or the execution budget; the first
    /// bound with a finding settles the verdict).
    #[arg(long)]
    preemptions: Option<usize>,
    /// Keep deepening after a bound whose findings are only data races (or
    /// locks held at exit), looking for a fatal finding at a deeper bound
    /// (default: stop there; that bound was explored completely).
    #[arg(long)]
    all_bounds: bool,
    /// Executions per scheme, over every bound.
    #[arg(long, default_value_t = DEFAULT_EXECUTIONS)]
    executions: u64,
    /// Opt-in wall-time cap per scheme (a result it shapes says so and is
    /// never a match).
    #[arg(long, value_parser = parse_duration)]
    time: Option<Duration>,
    #[command(flatten)]
    report: ReportArgs,
    #[command(flatten)]
    workload: WorkloadArgs,
}

/// The model line of loom verdicts.
pub fn c11_model(bound: usize) -> String {
    format!("C11 (loom, every execution within {bound} preemptions)")
}

/// The command that shows a loom finding again: loom's exploration order is
/// deterministic, so the same bound finds the same execution.
pub fn verify_replay(scheme: &Scheme, workload: &Workload, bound: usize) -> String {
    format!(
        "{} verify {} --preemptions {bound} {}",
        super::program(),
        scheme.name,
        super::workload_flags(scheme, workload)
    )
    .trim_end()
    .to_string()
}

/// Deepen one scheme under `workload` and turn the result into a verdict.
/// A scheme loom cannot model (too many tasks) is a verdict saying so.
pub fn verify_verdict(
    scheme: &Scheme,
    workload: Workload,
    config: &DeepenConfig,
    progress: &dyn Fn(usize, u64),
) -> Result<(Verdict, Option<Deepening>)> {
    match deepen(scheme, workload.clone(), config, progress) {
        Ok(d) => Ok((
            Verdict::from_deepening(&d, |b| verify_replay(scheme, &workload, b)),
            Some(d),
        )),
        Err(
            e @ (VerifyError::TooManyUsers { .. }
            | VerifyError::Exhaustive(harness::exhaustive::ExhaustiveError::TooManyTasks {
                ..
            })),
        ) => Ok((
            Verdict::unexplorable(Model::C11, "loom", e.to_string()),
            None,
        )),
        Err(e) => Err(e.into()),
    }
}

/// Run the command.
pub fn run(args: VerifyArgs) -> Result<Status> {
    if args.executions == 0 {
        bail!("--executions must be at least 1");
    }
    let schemes: Vec<&'static Scheme> = if args.scheme == "all" {
        crate::schemes::active().schemes.clone()
    } else {
        vec![scheme(&args.scheme)?]
    };
    let workloads = schemes
        .iter()
        .map(|s| args.workload.apply(s))
        .collect::<Result<Vec<_>>>()?;
    let detailing = args.report.detailing();
    // Ctrl-C: loom stops before its next execution and the scheme's
    // evidence so far is printed; the schemes after it are not started.
    catch_interrupts()?;
    let mut status = Status::Clean;
    for (s, w) in schemes.into_iter().zip(workloads) {
        let counter = Arc::new(AtomicU64::new(0));
        let config = DeepenConfig {
            from: args.preemptions.unwrap_or(1),
            to: args.preemptions,
            executions: args.executions,
            time: args.time,
            counter: Some(Arc::clone(&counter)),
            cancel: Some(interrupt_flag()),
            past_first_finding: args.all_bounds,
        };
        let (verdict, deepening) = with_progress(s.name, &counter, |bar| {
            verify_verdict(s, w.clone(), &config, &|bound, _| {
                bar.set_message(format!("bound {bound}"));
            })
        })?;
        if let Outcome::Unexplorable { reason } = &verdict.outcome {
            bail!("{}: {reason}", s.name);
        }
        if let (Some(found), Some(d)) = (verdict.found(), &deepening) {
            if let Some(record) = d.worst().and_then(|r| r.record.as_ref()) {
                let bound = found.bound.unwrap_or_default();
                let header = Header {
                    scheme: s.name.to_string(),
                    workload: super::workload_flags(s, &w),
                    replay: found.replay.clone(),
                    model: c11_model(bound),
                };
                // A reader that went away (`| head`): end quietly, with
                // the status of what was found.
                if !emit(&render_execution(&header, record, detailing))? {
                    return Ok(Status::Finding);
                }
            }
        }
        if let Some(d) = &deepening {
            let bounds: Vec<String> = d
                .rounds
                .iter()
                .map(|r| {
                    let how = if r.complete {
                        "complete"
                    } else if r.capped == Some(Cap::Interrupted) {
                        "interrupted"
                    } else if r.verdict.is_some_and(|k| k.is_fatal()) {
                        "finding"
                    } else {
                        "cut short"
                    };
                    format!("{} ({how}, {} executions)", r.bound, r.executions)
                })
                .collect();
            eprintln!(
                "unplug: {}: bounds explored: {} in {:.2}s",
                s.name,
                bounds.join(", "),
                d.elapsed().as_secs_f64()
            );
            if let (DeepenEnd::FirstFinding, Some(last)) = (d.end, d.last()) {
                eprintln!(
                    "unplug: {}: stopped at bound {}, the smallest with a finding: it was explored completely, so no fatal finding is within it (--all-bounds looks deeper)",
                    s.name, last.bound
                );
            }
        }
        let judgement = judge(&verdict, s);
        let expected = expected_words(&s.expected, Model::C11);
        let (mark, hint) = match &judgement {
            Judgement::Match => ("matches the expectation".to_string(), String::new()),
            Judgement::Mismatch(why) => (
                format!("MISMATCH: {why}"),
                if args.preemptions.is_some() && verdict.found().is_none() {
                    "; run without --preemptions to deepen until a finding".into()
                } else {
                    String::new()
                },
            ),
            Judgement::Inconclusive(why) => (format!("INCONCLUSIVE: {why}"), String::new()),
            Judgement::NotApplicable => ("no verdict".into(), String::new()),
        };
        eprintln!(
            "unplug: {}: {verdict}\nunplug: {}: expected {expected} under C11: {mark}{hint}",
            s.name, s.name
        );
        if verdict.found().is_some() || (!judgement.is_match() && !verdict.interrupted) {
            status = Status::Finding;
        }
        if verdict.interrupted || interrupted() {
            eprintln!("unplug: verify interrupted");
            return Ok(if status == Status::Finding {
                Status::Finding
            } else {
                Status::Interrupted
            });
        }
    }
    Ok(status)
}

/// Run `f` with a progress line (bound, executions) on stderr when it is a
/// terminal; indicatif draws nothing otherwise.
fn with_progress<T>(name: &str, counter: &Arc<AtomicU64>, f: impl FnOnce(&ProgressBar) -> T) -> T {
    let bar = ProgressBar::no_length();
    let style =
        ProgressStyle::with_template("{prefix:>26} [{elapsed_precise}] {msg}: {pos} executions")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
    bar.set_style(style);
    bar.set_prefix(name.to_string());
    let done = AtomicBool::new(false);
    let out = std::thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                bar.set_position(counter.load(Ordering::Relaxed));
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        let out = f(&bar);
        done.store(true, Ordering::Relaxed);
        out
    });
    bar.finish_and_clear();
    out
}
