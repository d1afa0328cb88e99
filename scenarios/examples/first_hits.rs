//! Executions to the expected SC finding, per scheme, explorer and base
//! seed: the measurements the verdict tests' budgets are set from.
//!
//! `cargo run --release --example first_hits -- [EXPLORER] [SEEDS] [BUDGET] [SCHEME…]`
//! (defaults: portfolio, 20 seeds from 0, 60000 executions, every zoo scheme
//! whose SC expectation is a fatal finding). Prints one line per scheme: the
//! executions to the first finding of the expected kind per seed (`-` when
//! not found within the budget), then the median, the 90th percentile
//! (nearest rank) and the maximum.

use harness::engine::{explore, Explorer, RunConfig};
use std::env;

fn main() {
    let mut args = env::args().skip(1);
    let explorer = args
        .next()
        .and_then(|e| Explorer::parse(&e))
        .unwrap_or(Explorer::Portfolio);
    let seeds: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(20);
    let budget: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(60_000);
    let names: Vec<String> = args.collect();
    for scheme in unplug::ALL {
        let Some(kind) = scheme.expected.sc else {
            continue;
        };
        if !kind.is_fatal() || (!names.is_empty() && !names.iter().any(|n| n == scheme.name)) {
            continue;
        }
        let scenario = scheme.scenario(scheme.default_workload.clone());
        let mut hits: Vec<Option<u64>> = Vec::new();
        for seed in 0..seeds {
            let run = RunConfig::until_first_fatal(explorer.clone(), seed, budget);
            let stats = match explore(&scenario, &run, None) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("{}: {e}", scheme.name);
                    return;
                }
            };
            hits.push(stats.first.get(&kind).map(|h| h.executions));
        }
        let mut found: Vec<u64> = hits.iter().flatten().copied().collect();
        found.sort_unstable();
        let rank = |p: f64| -> String {
            if found.len() < hits.len() {
                return "-".into();
            }
            let i = ((p * hits.len() as f64).ceil() as usize).clamp(1, hits.len()) - 1;
            found[i].to_string()
        };
        let cells: Vec<String> = hits
            .iter()
            .map(|h| h.map_or_else(|| "-".into(), |n| n.to_string()))
            .collect();
        println!(
            "{} {} found {}/{}: median {} p90 {} max {} | {}",
            scheme.name,
            explorer.name(),
            found.len(),
            hits.len(),
            rank(0.5),
            rank(0.9),
            found.last().map_or_else(|| "-".into(), |n| n.to_string()),
            cells.join(" ")
        );
    }
}
