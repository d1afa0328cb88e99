//! Executions to the first fatal finding per base seed, on any scheme and
//! knob workload: the spread over seeds (median, minimum, maximum and the
//! ratio of the worst to the median) that `first_hits` gives for the
//! default workloads only, and, for the portfolio, which member ran the
//! finding execution and how many slow-task executions came before it.
//!
//! `cargo run --release -p unplug --example seed_spread -- EXPLORER SCHEME USERS IOCTLS DEVICES REMOVE_WORK FIRST_SEED LAST_SEED BUDGET`
//!
//! For example the hard workload of `srcu-single-drain`:
//! `seed_spread portfolio srcu-single-drain 6 8 2 8 1 20 50000`.

use harness::engine::{
    calibrate_horizon, execution_seed, explore, Budget, ExecConfig, Explorer, RunConfig, StopPolicy,
};
use harness::scheduler::{portfolio_member, PortfolioMember, Scheduler, SlowTaskScheduler};
use std::process::ExitCode;
use unplug::workload::Workload;

const USAGE: &str = "usage: seed_spread EXPLORER SCHEME USERS IOCTLS DEVICES REMOVE_WORK FIRST_SEED LAST_SEED BUDGET";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() != 9 {
        return Err("nine arguments expected".into());
    }
    let explorer = Explorer::parse(&args[0]).ok_or("unknown explorer")?;
    let scheme = unplug::find(&args[1]).ok_or("unknown scheme")?;
    let n = |i: usize| -> Result<u64, String> {
        args[i]
            .parse()
            .map_err(|_| format!("not a number: {}", args[i]))
    };
    let knob = |i: usize| -> Result<u32, String> {
        u32::try_from(n(i)?).map_err(|_| format!("too large: {}", args[i]))
    };
    let workload = Workload::knobs(knob(2)?, knob(3)?, false, knob(4)?, knob(5)?);
    let (first, last, budget) = (n(6)?, n(7)?, n(8)?);
    let scenario = scheme.scenario(workload);
    let exec = ExecConfig::default();
    let horizon = calibrate_horizon(&scenario, exec).map_err(|e| e.to_string())?;
    let mut hits = Vec::new();
    for seed in first..=last {
        let run = RunConfig {
            explorer: explorer.clone(),
            seed,
            budget: Budget {
                iterations: Some(budget),
                time: None,
            },
            exec,
            stop: StopPolicy::FirstFatal,
            shard: (0, 1),
        };
        let stats = explore(&scenario, &run, None).map_err(|e| e.to_string())?;
        let Some(hit) = stats
            .first
            .iter()
            .filter(|(k, _)| k.is_fatal())
            .map(|(_, h)| h.executions)
            .min()
        else {
            println!("seed {seed}: - in {budget}");
            continue;
        };
        hits.push(hit);
        let index = hit - 1;
        let mut line = format!("seed {seed}: {hit}");
        if explorer == Explorer::Portfolio {
            let hit_seed = execution_seed(seed, index);
            let member = portfolio_member(hit_seed, index);
            let slow_before = (0..index)
                .filter(|&j| portfolio_member(execution_seed(seed, j), j) == PortfolioMember::Slow)
                .count();
            line += &format!(" by {member:?}, {slow_before} slow-task executions before");
            if member == PortfolioMember::Slow {
                let mut slow = SlowTaskScheduler::new(horizon);
                slow.begin(hit_seed);
                let (pick_at, sixteenths, _) = slow.plan();
                line += &format!(
                    " (victim picked at decision {pick_at}, log2(1/eps) {:.2})",
                    sixteenths as f64 / 16.0
                );
            }
        }
        println!("{line}");
    }
    hits.sort_unstable();
    let seeds = last.saturating_sub(first) + 1;
    if let (Some(&min), Some(&max)) = (hits.first(), hits.last()) {
        let median = hits[hits.len().div_ceil(2) - 1];
        println!(
            "{} {} found {}/{seeds}: median {median} min {min} max {max} max/median {:.1}",
            scheme.name,
            explorer.name(),
            hits.len(),
            max as f64 / median as f64
        );
    } else {
        println!("{} {} found 0/{seeds}", scheme.name, explorer.name());
    }
    Ok(())
}
