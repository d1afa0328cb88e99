//! Every scheme of the zoo reaches its declared expected verdict under the
//! default explorers, within the default compare budget, by exploration.
//!
//! The expectation is the scheme's declared `expected.sc`; the verdict is
//! computed from what the explorers find. A fixed seed makes each run a pure
//! function of the code, so these tests are deterministic.

use harness::engine::{explore, Budget, ExecConfig, Explorer, RunConfig, RunStats, StopPolicy};
use harness::finding::FindingKind;
use scenarios::{Scheme, ALL};

/// The per-cell budget of `unplug compare`.
const BUDGET: u64 = 60_000;

fn run(scheme: &Scheme, explorer: Explorer, seed: u64) -> RunStats {
    let cfg = RunConfig {
        explorer,
        seed,
        budget: Budget {
            iterations: Some(BUDGET),
            time: None,
        },
        exec: ExecConfig::default(),
        stop: StopPolicy::FirstFatal,
        shard: (0, 1),
    };
    explore(&scheme.scenario(scheme.default_workload), &cfg, None)
        .expect("the zoo's scenarios never panic")
}

fn check(explorer: Explorer) {
    let mut wrong = Vec::new();
    for scheme in ALL {
        let stats = run(scheme, explorer.clone(), 0);
        if stats.verdict() != scheme.expected.sc {
            wrong.push(format!(
                "{}: expected {:?}, {} found {:?} in {} executions",
                scheme.name,
                scheme.expected.sc,
                explorer.name(),
                stats.first.keys().collect::<Vec<_>>(),
                stats.executions
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "verdicts differ from expectations:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn random_reaches_every_expected_verdict() {
    check(Explorer::Random);
}

#[test]
fn pct_depth_ladder_reaches_every_expected_verdict() {
    check(Explorer::Pct { depth: None });
}

#[test]
fn portfolio_reaches_every_expected_verdict() {
    check(Explorer::Portfolio);
}

#[test]
fn data_race_schemes_race_on_the_registered_flag_and_never_use_after_removal() {
    for name in ["srcu-plain-flag", "bool-then-lock-cycle"] {
        let scheme = scenarios::find(name).expect("in the zoo");
        let stats = run(scheme, Explorer::Portfolio, 7);
        assert_eq!(
            stats.executions, BUDGET,
            "{name}: a race-only scheme runs its whole budget"
        );
        assert_eq!(
            stats.first.keys().copied().collect::<Vec<_>>(),
            vec![FindingKind::DataRace],
            "{name}: only data races"
        );
        let (_, record) = &stats.distinct[0];
        let race = &record.findings[0];
        let harness::finding::Detail::DataRace {
            cell,
            first,
            second,
        } = &race.detail
        else {
            panic!("{name}: not a data race: {}", race.headline());
        };
        assert!(
            cell.ends_with("kobj.state_in_sysfs"),
            "{name}: raced on {cell}"
        );
        let tasks = [first.task.as_str(), second.task.as_str()];
        assert!(
            tasks.contains(&"remove"),
            "{name}: the store in cdev_device_del() is one side"
        );
        assert!(
            tasks.iter().any(|t| t.starts_with("user")),
            "{name}: the ioctl's load is the other side"
        );
    }
}

#[test]
fn pct_at_fixed_depth_two_is_blind_to_the_deep_srcu_bug() {
    // The reason the default PCT uses a depth ladder: the single-drain bug
    // needs a reader stalled across a whole grace period, which two
    // priority change points cannot arrange.
    let scheme = scenarios::find("srcu-single-drain").expect("in the zoo");
    let fixed = run(scheme, Explorer::Pct { depth: Some(2) }, 0);
    assert_eq!(fixed.verdict(), None, "depth 2 should not reach it");
    let ladder = run(scheme, Explorer::Pct { depth: None }, 0);
    assert_eq!(ladder.verdict(), Some(FindingKind::UseAfterRemoval));
}
