//! Executions to the first use-after-removal under shuttle's uniform random
//! walk (`UrwRandomScheduler`, as `shuttle::check_urw` runs it), over the
//! same scenario code the unplug explorers run, for the comparison tables
//! in `fuzz/README.md`:
//!
//! `cargo run --release --example urw_baseline [-- SEEDS CAP]`
//!
//! Shuttle's scheduler knows nothing of the model's parked tasks (they spin)
//! nor of findings (the execution runs on); the body checks the world's
//! findings when the scenario returns and ends the run at the first fatal
//! one.

use harness::engine::{last_execution_found, shuttle_baseline_body, ExecConfig};
use harness::finding::FindingKind;
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use unplug::fuzz_target;

thread_local! {
    static EXECUTIONS: Cell<u64> = const { Cell::new(0) };
}

/// A payload to stop shuttle's runner at the first finding.
struct Found;

fn executions_to_first(target: &str, seed: u64, cap: u64) -> Option<u64> {
    let t = fuzz_target(target).expect("a fuzz target");
    let body = shuttle_baseline_body(&t.scheme.scenario(t.workload), ExecConfig::default());
    EXECUTIONS.with(|c| c.set(0));
    let scheduler = shuttle::scheduler::UrwRandomScheduler::new_from_seed(seed, cap as usize);
    let mut config = shuttle::Config::new();
    config.silence_warnings = true;
    config.failure_persistence = shuttle::FailurePersistence::None;
    let runner = shuttle::Runner::new(scheduler, config);
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        runner.run(move || {
            body();
            EXECUTIONS.with(|c| c.set(c.get() + 1));
            let found = last_execution_found(FindingKind::UseAfterRemoval);
            if found {
                std::panic::panic_any(Found);
            }
        })
    }));
    match outcome {
        Err(p) if p.is::<Found>() => Some(EXECUTIONS.with(Cell::get)),
        _ => None,
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let seeds: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let cap: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(250_000);
    // Shuttle prints every caught panic; the runs end by panicking.
    std::panic::set_hook(Box::new(|_| {}));
    for target in [
        "check_outside_lock",
        "srcu_single_drain",
        "srcu_single_drain_hard",
    ] {
        let mut found: Vec<u64> = Vec::new();
        let mut cells = Vec::new();
        for seed in 1..=seeds {
            match executions_to_first(target, seed, cap) {
                Some(n) => {
                    found.push(n);
                    cells.push(n.to_string());
                }
                None => cells.push(format!(">{cap}")),
            }
        }
        // Misses count as slower than any hit.
        let mut all: Vec<u64> = found.clone();
        all.extend(std::iter::repeat_n(
            u64::MAX,
            (seeds as usize) - found.len(),
        ));
        all.sort_unstable();
        let median = all[(all.len() - 1) / 2];
        let median = if median == u64::MAX {
            format!(">{cap}")
        } else {
            median.to_string()
        };
        println!(
            "{target:<24} urw  found {}/{seeds}  median {median}  [{}]",
            found.len(),
            cells.join(" ")
        );
    }
}
