//! Every scheme of the zoo reaches its declared SC verdict — kind and
//! object — under the default explorers, by exploration, over many seeds.
//!
//! The expectation is the scheme's declared `expected` value; the verdict is
//! computed from what the explorers find, and [`judge`] holds one against the
//! other. Fixed seeds make each run a pure function of the code.
//!
//! **Budgets.** A scheme with a bug is checked on base seeds 0..10 for each
//! default explorer, with a per-scheme budget of four times that explorer's
//! 90th percentile measured for executions to the first finding, at least
//! 100. Measured with
//! `cargo run --release --example first_hits -- EXPLORER 20 200000` (base
//! seeds 0..19, nearest-rank P90): see [`P90`]. Executions to a first
//! finding are close to geometric, so a seed needs more than four times the
//! P90 with probability about 10^-4; the largest measured on those seeds
//! was 2.4 times it (`srcu-no-synchronize`, pct, seed 16: 107 against a
//! P90 of 79). The default explorer is also held to compare's per-cell
//! budget on the deepest bug (20 seeds, below).

use harness::engine::{explore, Explorer, RunConfig, RunStats};
use harness::finding::FindingKind;
use unplug::verdict::{expected_words, judge, Judgement, Model, Outcome, Verdict};
use unplug::{Scheme, ALL};

/// The per-cell budget of `unplug compare`.
const COMPARE_BUDGET: u64 = 60_000;

/// Executions to the first expected finding, P90 over base seeds 0..19, per
/// scheme: (random, pct, portfolio). The portfolio's escalation makes its
/// early executions shallow-first: its column was measured with it.
const P90: &[(&str, [u64; 3])] = &[
    ("unsynchronized", [15, 4, 3]),
    ("lock-cycle-before-clear", [1122, 2401, 79]),
    ("srcu-no-synchronize", [22, 79, 24]),
    ("synchronize-before-clear", [1217, 1469, 213]),
    ("check-outside-lock", [21, 37, 28]),
    ("srcu-single-drain", [101501, 55224, 1451]),
    ("nested-down-read", [10, 22, 9]),
    ("synchronize-under-mutex", [8, 21, 16]),
    ("percpu-ref-bare-cdev", [29, 2, 6]),
    ("bare-cdev-open-devref", [14, 3, 3]),
    ("open-unchecked", [51, 46, 49]),
];

/// Four times the explorer's measured P90 for `scheme`, at least 100; for a
/// scheme whose P90 is not measured yet, compare's per-cell budget (the
/// budget `unplug compare` judges it with). Measure it with
/// `cargo run --release --example first_hits -- EXPLORER 20 200000 SCHEME`
/// and add it to [`P90`] to keep the test fast.
fn budget_for(scheme: &str, explorer: &Explorer) -> u64 {
    let column = match explorer {
        Explorer::Random => 0,
        Explorer::Pct { .. } => 1,
        _ => 2,
    };
    match P90.iter().find(|(n, _)| *n == scheme) {
        Some((_, p90)) => (4 * p90[column]).max(100),
        None => COMPARE_BUDGET,
    }
}

fn run(scheme: &Scheme, explorer: &Explorer, seed: u64, budget: u64) -> RunStats {
    let cfg = RunConfig::until_first_fatal(explorer.clone(), seed, budget);
    explore(
        &scheme.scenario(scheme.default_workload.clone()),
        &cfg,
        None,
    )
    .expect("the zoo's scenarios never panic")
}

fn verdict(scheme: &Scheme, explorer: &Explorer, seed: u64, budget: u64) -> Verdict {
    let stats = run(scheme, explorer, seed, budget);
    Verdict::from_run(&stats, &explorer.name(), seed, false, |s| {
        format!("seed {s:#x}")
    })
}

/// Bugs too deep for the baseline explorers (random, ladder PCT) to be held
/// to within a test's time: on `srcu-single-drain` they need 10^4 to over
/// 10^5 executions (P90 above 50,000; `unplug bench` measures them). The
/// default explorer is held to it on every seed.
const DEEP_FOR_BASELINES: &[&str] = &["srcu-single-drain"];

/// Each scheme with a fatal SC bug, on seeds 0..10 with its budget; every
/// scheme without one on seed 0 with compare's budget.
fn check(explorer: Explorer) {
    let mut wrong = Vec::new();
    let baseline = explorer != Explorer::Portfolio;
    for scheme in ALL {
        if baseline && DEEP_FOR_BASELINES.contains(&scheme.name) {
            continue;
        }
        let fatal = scheme.expected.sc.is_some_and(FindingKind::is_fatal);
        let (seeds, budget) = if fatal {
            (0..10, budget_for(scheme.name, &explorer))
        } else {
            (0..1, COMPARE_BUDGET)
        };
        for seed in seeds {
            let v = verdict(scheme, &explorer, seed, budget);
            if judge(&v, scheme) != Judgement::Match {
                wrong.push(format!(
                    "{} seed {seed}: expected {}, {v}",
                    scheme.name,
                    expected_words(&scheme.expected, Model::Sc)
                ));
            }
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

/// The default explorer finds the deepest SC bug of the zoo on each of
/// base seeds 0..19 within compare's per-cell budget (measured: at most
/// 2,223 executions, P90 1,451).
#[test]
fn portfolio_finds_the_single_drain_bug_on_twenty_of_twenty_seeds() {
    let scheme = unplug::find("srcu-single-drain").expect("in the zoo");
    for seed in 0..20 {
        let v = verdict(scheme, &Explorer::Portfolio, seed, COMPARE_BUDGET);
        assert_eq!(judge(&v, scheme), Judgement::Match, "seed {seed}: {v}");
    }
}

/// "Data race only": the race on the registered flag is found on every
/// seed, and nothing fatal within 20,000 executions per seed (10 seeds).
#[test]
fn data_race_schemes_race_on_the_registered_flag_and_never_use_after_removal() {
    for name in ["srcu-plain-flag", "bool-then-lock-cycle"] {
        let scheme = unplug::find(name).expect("in the zoo");
        for seed in 0..10 {
            let stats = run(scheme, &Explorer::Portfolio, seed, 20_000);
            assert_eq!(
                stats.executions, 20_000,
                "{name}: a race-only scheme runs its whole budget"
            );
            assert_eq!(
                stats.first.keys().copied().collect::<Vec<_>>(),
                vec![FindingKind::DataRace],
                "{name} seed {seed}: only data races"
            );
            let v = Verdict::from_run(&stats, "portfolio", seed, false, |_| String::new());
            assert_eq!(judge(&v, scheme), Judgement::Match, "{name}: {v}");
            let Outcome::Found(found) = &v.outcome else {
                panic!("{name}: {v}");
            };
            assert!(
                found.object.ends_with("kobj.state_in_sysfs"),
                "{name}: raced on {}",
                found.object
            );
            let record = &stats.distinct[0].1;
            let harness::finding::Detail::DataRace { first, second, .. } =
                &record.findings[0].detail
            else {
                panic!("{name}: not a data race");
            };
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
}

/// The reason the default PCT uses a depth ladder: the single-drain bug
/// needs a reader stalled across a whole grace period, which two priority
/// change points cannot arrange — on no seed of ten, within compare's
/// budget — while the ladder finds it on all ten.
#[test]
fn pct_at_fixed_depth_two_is_blind_to_the_deep_srcu_bug() {
    let scheme = unplug::find("srcu-single-drain").expect("in the zoo");
    for seed in 0..10 {
        let fixed = run(
            scheme,
            &Explorer::Pct { depth: Some(2) },
            seed,
            COMPARE_BUDGET,
        );
        assert_eq!(
            fixed.verdict(),
            None,
            "seed {seed}: depth 2 should not reach it"
        );
        let ladder = verdict(scheme, &Explorer::Pct { depth: None }, seed, COMPARE_BUDGET);
        assert_eq!(
            judge(&ladder, scheme),
            Judgement::Match,
            "seed {seed}: {ladder}"
        );
    }
}

/// A use-after-removal of another object than the declared one is a
/// mismatch, not a match: the expectation is about the bug, not its kind.
#[test]
fn a_finding_on_another_object_is_a_mismatch() {
    let real = unplug::find("unsynchronized").expect("in the zoo");
    let v = verdict(
        real,
        &Explorer::Portfolio,
        0,
        budget_for(real.name, &Explorer::Portfolio),
    );
    assert_eq!(judge(&v, real), Judgement::Match, "{v}");
    let elsewhere = Scheme {
        expected: real.expected.on("cxlmd"),
        ..real.clone()
    };
    assert!(
        matches!(judge(&v, &elsewhere), Judgement::Mismatch(_)),
        "{v} must not match a use-after-removal of cxlmd"
    );
    let other_site = Scheme {
        expected: real.expected.at("check_outside_lock.rs"),
        ..real.clone()
    };
    assert!(matches!(judge(&v, &other_site), Judgement::Mismatch(_)));
}
