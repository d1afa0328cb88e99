//! Measure the loom backend: executions and wall time per scheme at
//! preemption bounds 2 and 3, with 2 and 3 users (each scheme's default
//! workload otherwise), as a Markdown table.
//!
//! ```text
//! cargo run --release --example loom_table -- [--budget SECS] [--scheme NAME]
//! ```
//!
//! `--budget` caps each run's wall time (default 300 s); a run cut off by it
//! is marked `>`. A run that ends at a finding explores only up to it.

use harness::exhaustive::ExhaustiveConfig;
use std::process::ExitCode;
use std::time::Duration;
use unplug::verify::{verify_with, VerifyOutcome};
use unplug::{Scheme, Workload};

struct Args {
    budget: Duration,
    scheme: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        budget: Duration::from_secs(300),
        scheme: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--budget" => {
                let secs: u64 = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or("--budget takes a number of seconds")?;
                args.budget = Duration::from_secs(secs);
            }
            "--scheme" => args.scheme = Some(it.next().ok_or("--scheme takes a scheme name")?),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

fn cell(out: &VerifyOutcome) -> String {
    let verdict = out.verdict.map_or("clean", |k| k.name());
    // A run ends early at a fatal finding; otherwise an incomplete run was
    // cut off by the budget and its counts are lower bounds.
    let ended_at_finding = out.verdict.is_some_and(|k| k.is_fatal());
    let cut = if out.complete || ended_at_finding {
        ""
    } else {
        ">"
    };
    format!(
        "{verdict}, {cut}{} ex, {cut}{:.2} s",
        out.executions,
        out.elapsed.as_secs_f64()
    )
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let schemes: Vec<&Scheme> = unplug::ALL
        .iter()
        .filter(|s| args.scheme.as_deref().is_none_or(|n| n == s.name))
        .collect();
    if schemes.is_empty() {
        eprintln!("error: no such scheme");
        return ExitCode::from(2);
    }
    let configs = [(2usize, 2u32), (3, 2), (2, 3), (3, 3)];
    print!("| scheme | expected (C11) |");
    for (bound, users) in configs {
        print!(" bound {bound}, {users} users |");
    }
    println!();
    println!("|---|---|{}", "---|".repeat(configs.len()));
    for s in schemes {
        print!(
            "| {} | {} |",
            s.name,
            s.expected.c11.map_or("clean", |k| k.name())
        );
        for (bound, users) in configs {
            let wl = Workload {
                users,
                ..s.default_workload.clone()
            };
            let config = ExhaustiveConfig {
                preemption_bound: bound,
                time: Some(args.budget),
                ..ExhaustiveConfig::default()
            };
            match verify_with(s, wl, &config) {
                Ok(out) => print!(" {} |", cell(&out)),
                Err(e) => print!(" error: {e} |"),
            }
        }
        println!();
    }
    ExitCode::SUCCESS
}
