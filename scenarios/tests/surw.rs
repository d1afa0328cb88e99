//! The selectively uniform random walk finds `srcu-single-drain`'s
//! use-after-removal on its default workload on every one of ten base
//! seeds: the reader must stay between loading the SRCU index and
//! incrementing its count across the first device's grace period, and
//! inside its critical section across the second's, which a walk whose
//! weights follow the tasks' remaining steps (the removal included) makes
//! likely enough.

use harness::engine::{explore, Budget, ExecConfig, Explorer, RunConfig, RunStats, StopPolicy};
use harness::finding::FindingKind;

/// Executions allowed per base seed: about four times the worst measured
/// over seeds 0..9 (`cargo run --release -p unplug --example first_hits --
/// surw 10 20000 srcu-single-drain`: median 114, maximum 767).
const BUDGET: u64 = 3_000;

/// The expected finding, declared here, not derived from the run.
const EXPECTED: FindingKind = FindingKind::UseAfterRemoval;

fn run(seed: u64) -> RunStats {
    let s = unplug::find("srcu-single-drain").expect("in the zoo");
    let cfg = RunConfig {
        explorer: Explorer::Surw,
        seed,
        budget: Budget {
            iterations: Some(BUDGET),
            time: None,
        },
        exec: ExecConfig::default(),
        stop: StopPolicy::FirstFatal,
        shard: (0, 1),
    };
    explore(&s.scenario(s.default_workload.clone()), &cfg, None)
        .expect("the zoo's scenarios never panic")
}

#[test]
fn surw_finds_the_single_drain_use_after_removal_on_ten_seeds() {
    for seed in 0..10 {
        let stats = run(seed);
        assert!(
            stats.first.contains_key(&EXPECTED),
            "seed {seed}: no {EXPECTED:?} in {} executions",
            stats.executions
        );
    }
}
