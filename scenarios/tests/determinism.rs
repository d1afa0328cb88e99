//! Executions are pure functions of (scheme, workload, explorer, seed), and
//! a recorded schedule replays to the same trace.

use harness::engine::{execution_seed, run_single, Drive, ExecConfig, Explorer};

fn trace(scheme: &str, drive: &Drive) -> harness::engine::ExecutionRecord {
    let s = unplug::find(scheme).expect("in the zoo");
    run_single(
        &s.scenario(s.default_workload.clone()),
        drive,
        ExecConfig::default(),
    )
    .expect("runs")
    .record
}

#[test]
fn the_same_seed_gives_the_same_trace() {
    for explorer in [
        Explorer::Random,
        Explorer::Pct { depth: None },
        Explorer::Portfolio,
    ] {
        for seed in [1, 2, 0xdead_beef] {
            let drive = Drive::Seed {
                explorer: explorer.clone(),
                seed,
            };
            let a = trace("srcu-single-drain", &drive);
            let b = trace("srcu-single-drain", &drive);
            assert_eq!(a.events, b.events, "{explorer} seed {seed}");
            assert_eq!(a.findings, b.findings);
            assert_eq!(a.schedule, b.schedule);
        }
    }
}

#[test]
fn different_seeds_explore_different_interleavings() {
    let schedules: std::collections::BTreeSet<Vec<u8>> = (0..20)
        .map(|i| {
            trace(
                "flag-under-write-lock",
                &Drive::Seed {
                    explorer: Explorer::Random,
                    seed: execution_seed(0, i),
                },
            )
            .schedule
        })
        .collect();
    assert!(
        schedules.len() > 10,
        "only {} distinct schedules in 20 seeds",
        schedules.len()
    );
}

#[test]
fn a_recorded_schedule_replays_to_the_same_trace() {
    for seed in 0..50 {
        let by_seed = trace(
            "lock-cycle-before-clear",
            &Drive::Seed {
                explorer: Explorer::Random,
                seed,
            },
        );
        let by_choices = trace(
            "lock-cycle-before-clear",
            &Drive::Choices(by_seed.schedule.clone()),
        );
        assert_eq!(by_seed.events, by_choices.events, "seed {seed}");
        assert_eq!(by_seed.findings, by_choices.findings, "seed {seed}");
    }
}
