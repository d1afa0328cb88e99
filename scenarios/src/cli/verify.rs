//! `unplug verify SCHEME|all`: bounded-exhaustive exploration under loom's
//! C11 memory model.

use super::{parse_duration, scheme, ReportArgs, Status, WorkloadArgs};
use anyhow::Result;
use clap::Args;
use harness::exhaustive::ExhaustiveConfig;
use harness::report::{render_execution, Header};
use scenarios::verify::{verify_with, VerifyOutcome};
use scenarios::{Scheme, Workload};
use std::time::Duration;

/// Arguments of `unplug verify`.
#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// A scheme name (see `unplug list`), or `all`.
    scheme: String,
    /// Preemption bound (default: the bound each scheme declares, 2 unless its bug needs more).
    #[arg(long)]
    preemptions: Option<usize>,
    /// Wall-time cap per scheme (the result then says "incomplete").
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

/// Verify one scheme under `workload`.
pub fn verify_scheme(
    scheme: &Scheme,
    workload: Workload,
    preemptions: Option<usize>,
    time: Option<Duration>,
) -> Result<VerifyOutcome> {
    let config = ExhaustiveConfig {
        preemption_bound: preemptions.unwrap_or_else(|| scheme.loom_bound()),
        time,
        ..ExhaustiveConfig::default()
    };
    Ok(verify_with(scheme, workload, &config)?)
}

/// Run the command.
pub fn run(args: VerifyArgs) -> Result<Status> {
    let schemes: Vec<&'static Scheme> = if args.scheme == "all" {
        scenarios::ALL.iter().collect()
    } else {
        vec![scheme(&args.scheme)?]
    };
    let workloads = schemes
        .iter()
        .map(|s| args.workload.apply(s))
        .collect::<Result<Vec<_>>>()?;
    let detailing = args.report.detailing();
    let mut status = Status::Clean;
    for (s, w) in schemes.into_iter().zip(workloads) {
        let out = verify_scheme(s, w, args.preemptions, args.time)?;
        if let Some(record) = &out.record {
            let bound_flag = args
                .preemptions
                .map_or_else(String::new, |p| format!(" --preemptions {p}"));
            let header = Header {
                scheme: s.name.to_string(),
                workload: w.flags(),
                replay: format!("unplug verify {}{bound_flag} {}", s.name, w.flags()),
                model: c11_model(out.bound),
            };
            println!("{}", render_execution(&header, record, detailing));
            status = Status::Finding;
        }
        let verdict = out
            .verdict
            .map_or_else(|| "clean".to_string(), |k| k.to_string());
        let expected = s
            .expected
            .c11
            .map_or_else(|| "clean".to_string(), |k| k.to_string());
        eprintln!(
            "unplug: {}: {verdict} (expected {expected}{}) after {} executions in {:.2}s, preemption bound {}{}",
            s.name,
            if out.verdict == s.expected.c11 { ", ok" } else { ", MISMATCH" },
            out.executions,
            out.elapsed.as_secs_f64(),
            out.bound,
            if out.complete || out.verdict.is_some_and(|k| k.is_fatal()) {
                ""
            } else {
                ", incomplete: time budget ran out"
            }
        );
    }
    Ok(status)
}
