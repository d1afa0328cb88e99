//! Fuzz targets, seeds, artifacts, minimisation and shards.

use harness::corpus::Entry;
use harness::engine::{
    execution_seed, explore, run_single, shard_index, Budget, Drive, ExecConfig, ExecutionRecord,
    Explorer, RunConfig, StopPolicy,
};
use harness::finding::FindingKind;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use unplug::fuzz::{
    artifact_target, import_input, run_input, seed_input, session, target_name, write_seeds,
};
use unplug::replay::{entry_for, replay_entry, reproduces, CorpusEntry};
use unplug::{find, fuzz_target, fuzz_targets, minimize, Workload, ALL};

/// The first execution of a seeded random run with a fatal finding.
fn first_failure(scheme: &str, seed: u64) -> ExecutionRecord {
    let s = find(scheme).expect("zoo scheme");
    let run = RunConfig::until_first_fatal(Explorer::Random, seed, 200_000);
    let stats = explore(&s.scenario(s.default_workload.clone()), &run, None).expect("explore");
    stats
        .distinct
        .into_iter()
        .map(|(_, r)| r)
        .find(|r| r.findings.iter().any(|f| f.kind.is_fatal()))
        .unwrap_or_else(|| panic!("{scheme}: no fatal finding within the budget"))
}

fn entry_of(scheme: &str, seed: u64) -> CorpusEntry {
    let s = find(scheme).expect("zoo scheme");
    let record = first_failure(scheme, seed);
    let finding = record.worst().expect("a finding");
    // No seed: entries replay by their choices, and execution seeds above
    // i64::MAX do not fit a TOML integer.
    entry_for(
        s,
        s.default_workload.clone(),
        "random",
        None,
        &record,
        finding,
    )
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("unplug-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

#[test]
fn one_target_per_scheme_plus_the_hard_workload() {
    let targets = fuzz_targets();
    let names: HashSet<&str> = targets.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names.len(), targets.len(), "target names are unique");
    for s in ALL {
        let t = fuzz_target(&target_name(s.name)).expect("a target per scheme");
        assert_eq!(t.scheme.name, s.name);
        assert_eq!(t.workload, s.default_workload.clone());
    }
    let hard = fuzz_target("srcu_single_drain_hard").expect("hard target");
    assert_eq!(hard.scheme.name, "srcu-single-drain");
    assert_eq!(
        (
            hard.workload.users,
            hard.workload.ioctls,
            hard.workload.devices
        ),
        (6, 8, 2)
    );
    assert_eq!(hard.workload.remove_work, 8);
    for t in &targets {
        assert!(t.workload.validate().is_ok(), "{}: valid workload", t.name);
    }
}

/// Every target of the table has its cargo-fuzz binary; a missing one is
/// reported with the file and the manifest lines that add it.
#[test]
fn every_target_has_a_fuzz_binary() {
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).expect("fuzz/Cargo.toml");
    let mut missing = Vec::new();
    for t in fuzz_targets() {
        let file = fuzz_dir()
            .join("fuzz_targets")
            .join(format!("{}.rs", t.name));
        let source = std::fs::read_to_string(&file).unwrap_or_default();
        if !source.contains(&format!("unplug_fuzz::fuzz_target!(\"{}\")", t.name)) {
            missing.push(format!(
                "write fuzz/fuzz_targets/{}.rs:\n{}",
                t.name,
                unplug::fuzz::target_source(&t.name)
            ));
        }
        if !manifest.contains(&unplug::fuzz::target_manifest_section(&t.name)) {
            missing.push(format!(
                "append to fuzz/Cargo.toml:\n\n{}",
                unplug::fuzz::target_manifest_section(&t.name)
            ));
        }
    }
    assert!(
        missing.is_empty(),
        "fuzz targets without a cargo-fuzz binary:\n\n{}",
        missing.join("\n")
    );
}

#[test]
fn artifacts_name_their_target_by_directory() {
    let t = artifact_target(Path::new("fuzz/artifacts/srcu_single_drain/crash-0123abcd"))
        .expect("target");
    assert_eq!(t.scheme.name, "srcu-single-drain");
    assert_eq!(t.workload.devices, 2);
    assert!(artifact_target(Path::new("fuzz/corpus/srcu_single_drain/seed")).is_none());
    assert!(artifact_target(Path::new("fuzz/artifacts/no_such_scheme/crash-1")).is_none());
    assert!(artifact_target(Path::new("crash-1")).is_none());
}

#[test]
fn a_byte_schedule_replays_its_execution() {
    for (scheme, seed) in [
        ("unsynchronized", 3),
        ("srcu-plain-flag", 5),
        ("srcu-single-drain", 7),
    ] {
        let s = find(scheme).expect("scheme");
        let scenario = s.scenario(s.default_workload.clone());
        let by_seed = run_single(
            &scenario,
            &Drive::Seed {
                explorer: Explorer::Random,
                seed,
            },
            ExecConfig::default(),
        )
        .expect("run");
        let target = fuzz_target(&target_name(scheme)).expect("target");
        let by_bytes = run_input(&target, &by_seed.record.byte_schedule).expect("run");
        assert_eq!(
            by_bytes.record.schedule, by_seed.record.schedule,
            "{scheme}"
        );
        assert_eq!(by_bytes.record.events, by_seed.record.events, "{scheme}");
        assert_eq!(
            by_bytes.record.findings, by_seed.record.findings,
            "{scheme}"
        );
    }
}

/// A small deterministic generator for fuzz-like inputs.
fn inputs(count: usize) -> impl Iterator<Item = Vec<u8>> {
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    (0..count).map(move |i| {
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let len = (next() % 200) as usize + i % 3;
        (0..len).map(|_| next() as u8).collect()
    })
}

#[test]
fn a_session_records_what_a_single_run_records() {
    for name in [
        "srcu_single_drain",
        "srcu_plain_flag",
        "flag_under_write_lock",
    ] {
        let t = fuzz_target(name).expect("target");
        let mut s = session(&t);
        for bytes in inputs(60) {
            let single = run_input(&t, &bytes).expect("run").record;
            let fed = s.run(&bytes).expect("session run");
            assert_eq!(fed.schedule, single.schedule, "{name}");
            assert_eq!(fed.byte_schedule, single.byte_schedule, "{name}");
            assert_eq!(fed.events, single.events, "{name}");
            assert_eq!(fed.findings, single.findings, "{name}");
            assert_eq!(fed.preemptions, single.preemptions, "{name}");
        }
    }
}

#[test]
fn clean_targets_never_crash_on_arbitrary_bytes() {
    for t in fuzz_targets()
        .iter()
        .filter(|t| t.scheme.expected.sc.is_none())
    {
        for bytes in inputs(150) {
            let run = run_input(t, &bytes).expect("run");
            assert!(
                run.record.findings.is_empty(),
                "{}: {:?} found {}",
                t.name,
                bytes,
                run.record.findings[0].headline()
            );
        }
    }
}

#[test]
fn buggy_targets_reach_their_verdict_from_bytes() {
    // Data races count as crashes for the fuzz targets: they are the verdict
    // of srcu-plain-flag and bool-then-lock-cycle.
    for name in [
        "unsynchronized",
        "check_outside_lock",
        "srcu_plain_flag",
        "nested_down_read",
    ] {
        let t = fuzz_target(name).expect("target");
        let expected = t.scheme.expected.sc.expect("buggy scheme");
        let hit = inputs(2_000).any(|b| {
            let run = run_input(&t, &b).expect("run");
            run.record.findings.iter().any(|f| f.kind == expected)
        });
        assert!(hit, "{name}: {expected} reached by some input");
    }
}

#[test]
fn imported_inputs_become_corpus_entries_that_replay() {
    let record = first_failure("check-outside-lock", 11);
    let t = fuzz_target("check_outside_lock").expect("target");
    let entry = import_input(&t, &record.byte_schedule)
        .expect("import")
        .expect("a finding");
    assert_eq!(entry.explorer, "fuzz");
    assert_eq!(entry.finding, FindingKind::UseAfterRemoval);
    assert_eq!(entry.choices, record.schedule);
    let replay = replay_entry(&entry).expect("replay");
    assert!(reproduces(&entry, &replay));
    assert!(
        import_input(&t, &[]).expect("import").is_none(),
        "the serial schedule finds nothing"
    );
}

#[test]
fn corpus_entries_become_seeds_that_reproduce() {
    let corpus = scratch("seed-corpus");
    let out = scratch("seed-out");
    let a = entry_of("unsynchronized", 1);
    let b = entry_of("check-outside-lock", 2);
    let mut odd = entry_of("unsynchronized", 3);
    odd.workload = Workload {
        users: 3,
        ..odd.workload.clone()
    };
    for e in [&a, &b, &odd] {
        e.save(&e.default_path(&corpus)).expect("save");
    }
    let summary = write_seeds(&corpus, &out).expect("seeds");
    assert_eq!(summary.written.len(), 2, "{summary:?}");
    assert_eq!(
        summary.skipped.len(),
        1,
        "the users=3 entry matches no target"
    );
    for e in [&a, &b] {
        let t = fuzz_target(&target_name(&e.scheme)).expect("target");
        let bytes = seed_input(e).expect("replay").expect("reproduces");
        let file = summary
            .written
            .iter()
            .find(|p| p.starts_with(out.join(&t.name)))
            .expect("seed under the target's corpus directory");
        assert_eq!(std::fs::read(file).expect("seed"), bytes);
        let run = run_input(&t, &bytes).expect("run");
        assert!(run
            .record
            .findings
            .iter()
            .any(|f| f.signature() == e.signature));
    }
    let _ = std::fs::remove_dir_all(&corpus);
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn minimisation_keeps_the_finding_and_sheds_preemptions() {
    let mut strictly_smaller = 0;
    for (scheme, seed) in [
        ("unsynchronized", 1),
        ("check-outside-lock", 2),
        ("srcu-single-drain", 3),
        ("lock-cycle-before-clear", 4),
    ] {
        let original = entry_of(scheme, seed);
        let min = minimize(&original).expect("minimize");
        assert_eq!(min.signature, original.signature, "{scheme}");
        assert_eq!(min.explorer, "minimized");
        assert!(min.preemptions <= original.preemptions, "{scheme}");
        let replay = replay_entry(&min).expect("replay");
        assert!(
            reproduces(&min, &replay),
            "{scheme}: the minimised schedule replays"
        );
        assert_eq!(
            replay.record.preemptions, min.preemptions,
            "{scheme}: recomputed preemptions"
        );
        let smaller =
            (min.preemptions, min.choices.len()) < (original.preemptions, original.choices.len());
        strictly_smaller += usize::from(smaller);
        if scheme == "unsynchronized" {
            // A fixpoint: minimising again gains nothing.
            let again = minimize(&min).expect("minimize again");
            assert_eq!(
                (again.preemptions, again.choices.len()),
                (min.preemptions, min.choices.len())
            );
        }
    }
    assert!(
        strictly_smaller >= 1,
        "random schedules carry removable preemptions"
    );
}

#[test]
fn minimising_a_schedule_that_does_not_fail_is_an_error() {
    let mut entry = entry_of("unsynchronized", 1);
    entry.choices.clear();
    assert!(matches!(
        minimize(&entry),
        Err(unplug::replay::ReplayError::DoesNotReproduce(_))
    ));
}

#[test]
fn shards_never_share_an_execution_seed() {
    let base = 42;
    let n = 4;
    let mut seen = HashSet::new();
    for k in 0..n {
        for i in 0..5_000 {
            let index = shard_index((k, n), i);
            assert_eq!(index % n, k);
            assert!(
                seen.insert(execution_seed(base, index)),
                "shard {k} repeats a seed"
            );
        }
    }
    // And the engine really runs those indices: every finding a shard
    // records carries an index of that shard and the seed of that index.
    let s = find("unsynchronized").expect("scheme");
    for k in 0..2 {
        let run = RunConfig {
            explorer: Explorer::Random,
            seed: base,
            budget: Budget {
                iterations: Some(300),
                time: None,
            },
            exec: ExecConfig::default(),
            stop: StopPolicy::Never,
            shard: (k, 2),
        };
        let stats = explore(&s.scenario(s.default_workload.clone()), &run, None).expect("explore");
        assert_eq!(stats.executions, 300);
        assert!(!stats.distinct.is_empty());
        for (_, r) in &stats.distinct {
            assert_eq!(r.index % 2, k);
            assert_eq!(r.seed, execution_seed(base, r.index));
        }
    }
}

#[test]
fn seeds_and_entries_round_trip_through_toml() {
    let e = entry_of("srcu-single-drain", 5);
    let text = e.to_text().expect("serialisable");
    let back: CorpusEntry = Entry::parse(&text, Path::new("x.toml")).expect("parse");
    assert_eq!(back, e);
    assert!(seed_input(&back).expect("replay").is_some());
}

#[test]
fn interleaving_features_pair_accesses_by_object() {
    use harness::feedback::{for_each_feature, FeatureKind};
    let record = first_failure("unsynchronized", 1);
    assert!(
        record.events.iter().any(|e| e.target == "mem0.cxlm"),
        "accesses name their object"
    );
    let mut kinds = Vec::new();
    for_each_feature(&record, |kind, _| kinds.push(kind));
    for kind in [
        FeatureKind::Switch,
        FeatureKind::Communication,
        FeatureKind::Preemptions,
    ] {
        assert!(kinds.contains(&kind), "{kind:?}");
    }
    // The same execution gives the same features, run after run.
    let t = fuzz_target("unsynchronized").expect("target");
    let again = run_input(&t, &record.byte_schedule).expect("run").record;
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for_each_feature(&record, |_, h| a.push(h));
    for_each_feature(&again, |_, h| b.push(h));
    assert_eq!(a, b);
}

#[test]
fn artifact_files_import_by_their_directory() {
    let dir = scratch("artifacts");
    let record = first_failure("unsynchronized", 4);
    let file = dir.join("fuzz/artifacts/unsynchronized/crash-0001");
    std::fs::create_dir_all(file.parent().expect("dir")).expect("mkdir");
    std::fs::write(&file, &record.byte_schedule).expect("write");
    let entry = unplug::fuzz::import_artifact(&file)
        .expect("import")
        .expect("a finding");
    assert_eq!(entry.scheme, "unsynchronized");
    assert_eq!(
        Some(entry.signature.as_str()),
        record.worst().map(|f| f.signature()).as_deref()
    );
    let stray = dir.join("elsewhere/crash-0001");
    std::fs::create_dir_all(stray.parent().expect("dir")).expect("mkdir");
    std::fs::write(&stray, &record.byte_schedule).expect("write");
    assert!(matches!(
        unplug::fuzz::import_artifact(&stray),
        Err(unplug::fuzz::FuzzError::UnknownTarget(_))
    ));
    let _ = std::fs::remove_dir_all(&dir);
}
