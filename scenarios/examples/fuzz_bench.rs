//! Executions and time to the first fatal finding, per explorer, over many
//! seeds, on the fuzz targets' workloads: the explorer half of
//! `fuzz/bench.sh` (the libFuzzer half runs the fuzz binaries).
//!
//! ```text
//! cargo run --release -p unplug --example fuzz_bench -- [SEEDS] [TARGET:CAP ...]
//! ```
//!
//! Prints one tab-separated line per (target, explorer): target, explorer,
//! seeds, seeds that found, median executions, median seconds. A seed that
//! misses within CAP executions counts as infinitely slow, so the median is
//! `>CAP` when half the seeds or more miss.

use harness::engine::{explore, Explorer, RunConfig};
use std::process::ExitCode;
use unplug::fuzz_target;

/// The median of `values` where `None` is "missed" (slower than any hit).
fn median(mut values: Vec<Option<f64>>) -> Option<f64> {
    values.sort_by(|a, b| match (a, b) {
        (Some(x), Some(y)) => x.total_cmp(y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    let n = values.len();
    if n == 0 {
        return None;
    }
    // Lower median for an even count: with 10 seeds, the 5th fastest.
    values[(n - 1) / 2]
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let seeds: u64 = match args.next().map(|s| s.parse()) {
        None => 10,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("usage: fuzz_bench [SEEDS] [TARGET:CAP ...]");
            return ExitCode::from(2);
        }
    };
    let mut plan: Vec<(String, u64)> = Vec::new();
    for a in args {
        let parsed = a
            .split_once(':')
            .and_then(|(t, c)| Some((t.to_string(), c.parse().ok()?)));
        match parsed {
            Some(p) => plan.push(p),
            None => {
                eprintln!("bad TARGET:CAP '{a}'");
                return ExitCode::from(2);
            }
        }
    }
    if plan.is_empty() {
        plan = vec![
            ("srcu_single_drain".into(), 200_000),
            ("check_outside_lock".into(), 200_000),
            ("srcu_single_drain_hard".into(), 250_000),
        ];
    }
    let explorers = [
        Explorer::Random,
        Explorer::Pct { depth: None },
        Explorer::Pct { depth: Some(3) },
        Explorer::Pct { depth: Some(4) },
    ];
    println!("target\texplorer\tseeds\tfound\tmedian_execs\tmedian_secs\texecs_per_sec");
    for (name, cap) in &plan {
        let Some(target) = fuzz_target(name) else {
            eprintln!("unknown fuzz target '{name}'");
            return ExitCode::from(2);
        };
        let scenario = target.scheme.scenario(target.workload);
        for explorer in &explorers {
            let mut execs = Vec::new();
            let mut secs = Vec::new();
            let (mut total_execs, mut total_secs) = (0u64, 0f64);
            for seed in 1..=seeds {
                let run = RunConfig::until_first_fatal(explorer.clone(), seed, *cap);
                let stats = match explore(&scenario, &run, None) {
                    Ok(s) => s,
                    Err(e) => {
                        eprintln!("{name}: {e}");
                        return ExitCode::from(2);
                    }
                };
                total_execs += stats.executions;
                total_secs += stats.elapsed.as_secs_f64();
                let hit = stats
                    .first
                    .iter()
                    .filter(|(k, _)| k.is_fatal())
                    .map(|(_, h)| *h)
                    .min_by_key(|h| h.executions);
                execs.push(hit.map(|h| h.executions as f64));
                secs.push(hit.map(|h| h.elapsed.as_secs_f64()));
            }
            let found = execs.iter().filter(|e| e.is_some()).count();
            let show = |m: Option<f64>, miss: String| m.map_or(miss, |v| format!("{v:.3}"));
            println!(
                "{name}\t{}\t{seeds}\t{found}\t{}\t{}\t{:.0}",
                explorer.name(),
                median(execs).map_or(format!(">{cap}"), |v| format!("{v:.0}")),
                show(median(secs), "-".into()),
                total_execs as f64 / total_secs.max(1e-9)
            );
        }
    }
    ExitCode::SUCCESS
}
