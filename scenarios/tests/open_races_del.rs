//! Opens racing removal (`--open-races-del`): with the kernel's char-device
//! lifetime (an open file holds the cdev, and through `cdev_device_add()`
//! the device), correct schemes stay finding-free, and a scheme whose bug
//! needs an open racing removal is found.
//!
//! Expectations are declared here or in the zoo; verdicts come from
//! exploration with fixed seeds, so every test is deterministic.

use harness::engine::{explore, Explorer, RunConfig, RunStats};
use harness::finding::{Detail, FindingKind};
use unplug::{find, Scheme, Workload};

fn scheme(name: &str) -> &'static Scheme {
    find(name).unwrap_or_else(|| panic!("the zoo has no scheme {name}"))
}

fn run(s: &Scheme, wl: Workload, explorer: Explorer, seed: u64, iterations: u64) -> RunStats {
    let cfg = RunConfig::until_first_fatal(explorer, seed, iterations);
    explore(&s.scenario(wl), &cfg, None).expect("the zoo's scenarios never panic")
}

fn racing(s: &Scheme) -> Workload {
    Workload {
        open_races_del: true,
        ..s.default_workload.clone()
    }
}

fn explorers() -> [Explorer; 3] {
    [
        Explorer::Random,
        Explorer::Pct { depth: None },
        Explorer::Portfolio,
    ]
}

/// Within 3 seeds × 3,000 executions per explorer, nothing at all.
#[test]
fn correct_schemes_are_clean_with_opens_racing_removal() {
    let mut found = Vec::new();
    for name in [
        "flag-under-write-lock",
        "srcu-pointer",
        "srcu-once-flag",
        "counter-flag-mb",
        "percpu-ref-no-devref",
    ] {
        let s = scheme(name);
        for explorer in explorers() {
            for seed in 1..=3 {
                let stats = run(s, racing(s), explorer.clone(), seed, 3_000);
                if !stats.first.is_empty() {
                    let headlines: Vec<String> = stats
                        .distinct
                        .iter()
                        .flat_map(|(_, r)| r.findings.iter().map(|f| f.headline()))
                        .collect();
                    found.push(format!(
                        "{name} {} seed {seed}: {headlines:?}",
                        explorer.name()
                    ));
                }
            }
        }
    }
    assert!(found.is_empty(), "false positives:\n{}", found.join("\n"));
}

/// `open-unchecked` is found on every one of 10 seeds when opens race
/// removal, by every explorer, within 20,000 executions.
#[test]
fn a_bug_that_needs_an_open_racing_removal_is_found_on_every_seed() {
    let s = scheme("open-unchecked");
    assert!(s.default_workload.open_races_del);
    for explorer in explorers() {
        for seed in 1..=10 {
            let stats = run(
                s,
                s.default_workload.clone(),
                explorer.clone(),
                seed,
                20_000,
            );
            assert_eq!(
                stats.verdict(),
                Some(FindingKind::UseAfterRemoval),
                "{} seed {seed}",
                explorer.name()
            );
            let finding = stats
                .distinct
                .iter()
                .flat_map(|(_, r)| r.findings.iter())
                .find(|f| f.kind == FindingKind::UseAfterRemoval)
                .expect("a verdict comes with its finding");
            let Detail::UseAfterRemoval { object, access, .. } = &finding.detail else {
                unreachable!("kind and detail agree");
            };
            assert!(object.ends_with(".cxlm"), "{object}");
            assert!(access.task.starts_with("user"), "{}", access.task);
        }
    }
}

/// The same scheme with every open complete before removal starts: within
/// 3 seeds × 10,000 executions per explorer, no use-after-removal and no
/// race (the open's unlocked load is ordered before removal by the open
/// completing first).
#[test]
fn the_same_bug_is_out_of_reach_when_opens_complete_first() {
    let s = scheme("open-unchecked");
    let wl = Workload {
        open_races_del: false,
        ..s.default_workload.clone()
    };
    for explorer in explorers() {
        for seed in 1..=3 {
            let stats = run(s, wl.clone(), explorer.clone(), seed, 10_000);
            assert_eq!(stats.verdict(), None, "{} seed {seed}", explorer.name());
        }
    }
}

/// The bare-`cdev_add()` variant of the pre-fix driver frees the memdev
/// under an open file: found on each of 10 seeds by every explorer within
/// 20,000 executions, as a use-after-removal of the memdev itself.
#[test]
fn the_bare_cdev_variant_frees_the_memdev_on_every_seed() {
    let s = scheme("percpu-ref-bare-cdev");
    for explorer in explorers() {
        for seed in 1..=10 {
            let stats = run(
                s,
                s.default_workload.clone(),
                explorer.clone(),
                seed,
                20_000,
            );
            let finding = stats
                .distinct
                .iter()
                .flat_map(|(_, r)| r.findings.iter())
                .find(|f| f.kind == FindingKind::UseAfterRemoval)
                .unwrap_or_else(|| panic!("{} seed {seed}: not found", explorer.name()));
            let Detail::UseAfterRemoval { object, .. } = &finding.detail else {
                unreachable!("kind and detail agree");
            };
            assert!(object.ends_with(".cxlmd"), "{object}");
        }
    }
}

/// Under loom (C11, every execution within the scheme's preemption bound),
/// the same correct schemes are clean with opens racing removal, and the
/// exploration is complete. (`flag-under-write-lock` has a user wait in
/// `down_read()` behind removal's queued `down_write()` while removal waits
/// for the other reader: blocked tasks park under loom, so the two waiters
/// do not spin against each other into loom's branch limit.)
#[test]
fn correct_schemes_verify_clean_with_opens_racing_removal() {
    for name in [
        "flag-under-write-lock",
        "srcu-pointer",
        "srcu-once-flag",
        "counter-flag-mb",
        "percpu-ref-no-devref",
    ] {
        let s = scheme(name);
        let out = unplug::verify::verify(s, racing(s), s.loom_bound())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            out.verdict,
            None,
            "{name}: {}",
            out.finding.as_ref().map_or(String::new(), |f| f.headline())
        );
        assert!(out.complete, "{name}: exploration cut short");
    }
}
