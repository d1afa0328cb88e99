//! The skeleton's two variants under the workload that unbinds and rebinds
//! the device while a file of the first binding stays open, against the
//! workloads the classic knobs generate.
//!
//! Expectations are declared here; verdicts come from exploration with fixed
//! seeds.

use driver_crate::drivers::skel::REBIND_WORKLOAD;
use harness::engine::{explore, Budget, ExecConfig, Explorer, RunConfig, StopPolicy};
use harness::finding::FindingKind;
use unplug::{Scheme, Workload};

fn scheme(name: &str) -> &'static Scheme {
    driver_crate::SCHEMES
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("the crate has no scheme {name}"))
}

/// The verdict (most severe finding) of `iterations` portfolio executions,
/// the whole budget run.
fn verdict(s: &Scheme, wl: &Workload, seed: u64, iterations: u64) -> Option<FindingKind> {
    let cfg = RunConfig {
        explorer: Explorer::Portfolio,
        seed,
        budget: Budget {
            iterations: Some(iterations),
            time: None,
        },
        exec: ExecConfig::default(),
        stop: StopPolicy::Never,
        shard: (0, 1),
    };
    explore(&s.scenario(wl.clone()), &cfg, None)
        .expect("the crate's scenarios never panic")
        .verdict()
}

/// The static state's re-initialised count is found on each of 10 seeds
/// within 2,000 executions once the device is rebound under an open file
/// and opened again: the second open's `kref_get()` finds zero.
#[test]
fn rebinding_under_an_open_file_finds_the_static_kref() {
    let s = scheme("skel-static-kref");
    for seed in 1..=10 {
        assert_eq!(
            verdict(s, &REBIND_WORKLOAD, seed, 2_000),
            Some(FindingKind::UseAfterRemoval),
            "seed {seed}"
        );
    }
}

/// Workloads the knobs generate, on one device (the static variant
/// supports one), never rebind: within 10 seeds × 5,000 executions each,
/// the broken variant is as clean as the correct one.
#[test]
fn no_generated_workload_reaches_it() {
    let s = scheme("skel-static-kref");
    let generated = [
        Workload::knobs(2, 1, false, 1, 0),
        Workload::knobs(4, 2, false, 1, 0),
        Workload::knobs(3, 1, true, 1, 2),
    ];
    for wl in &generated {
        for seed in 1..=10 {
            assert_eq!(
                verdict(s, wl, seed, 5_000),
                None,
                "{} seed {seed}",
                wl.flags()
            );
        }
    }
}

/// The skeleton itself keeps per-binding state: clean under the rebind
/// workload within 10 seeds × 5,000 executions.
#[test]
fn per_binding_state_survives_the_rebind() {
    let s = scheme("skel-kref");
    for seed in 1..=10 {
        assert_eq!(
            verdict(s, &REBIND_WORKLOAD, seed, 5_000),
            None,
            "seed {seed}"
        );
    }
}
