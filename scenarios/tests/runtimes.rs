//! The native runtime takes exactly shuttle's decisions: for every scheme
//! of the zoo, explorers of each kind and many seeds, an execution on the
//! native runtime records the same schedule, trace, tasks and findings as
//! on shuttle's runtime, and a schedule recorded on one replays to the same
//! trace on the other.

use harness::engine::{
    execution_seed, run_single, Drive, ExecConfig, ExecutionRecord, Explorer, Runtime,
};

fn record(scheme: &unplug::Scheme, drive: &Drive, runtime: Runtime) -> ExecutionRecord {
    run_single(
        &scheme.scenario(scheme.default_workload.clone()),
        drive,
        ExecConfig {
            runtime,
            ..ExecConfig::default()
        },
    )
    .expect("runs")
    .record
}

fn assert_same(a: &ExecutionRecord, b: &ExecutionRecord, what: &str) {
    assert_eq!(a.schedule, b.schedule, "{what}: schedule");
    assert_eq!(a.byte_schedule, b.byte_schedule, "{what}: byte schedule");
    assert_eq!(a.preemptions, b.preemptions, "{what}: preemptions");
    assert_eq!(a.steps, b.steps, "{what}: decisions");
    assert_eq!(a.tasks, b.tasks, "{what}: tasks");
    assert_eq!(a.events, b.events, "{what}: trace");
    assert_eq!(a.findings, b.findings, "{what}: findings");
}

#[test]
fn both_runtimes_take_the_same_decisions_on_every_scheme() {
    let explorers = [
        Explorer::Random,
        Explorer::Pos,
        Explorer::Cpos,
        Explorer::Pct { depth: Some(3) },
        Explorer::Portfolio,
    ];
    let mut found = 0;
    for scheme in unplug::ALL {
        for explorer in &explorers {
            for i in 0..12 {
                let seed = execution_seed(0x5eed, i);
                let drive = Drive::Seed {
                    explorer: explorer.clone(),
                    seed,
                };
                let what = format!("{} {explorer} seed {seed:#x}", scheme.name);
                let native = record(scheme, &drive, Runtime::Native);
                let shuttle = record(scheme, &drive, Runtime::Shuttle);
                assert_same(&native, &shuttle, &what);
                found += usize::from(!native.findings.is_empty());
            }
        }
    }
    // The comparison covers executions that end on a finding (the drain
    // after a fatal one, deadlocks, hangs), not only clean ones.
    assert!(found > 100, "only {found} executions with a finding");
}

#[test]
fn a_schedule_recorded_on_one_runtime_replays_on_the_other() {
    for scheme in unplug::ALL {
        for seed in 0..8 {
            let drive = Drive::Seed {
                explorer: Explorer::Random,
                seed,
            };
            let on_shuttle = record(scheme, &drive, Runtime::Shuttle);
            let replayed = record(
                scheme,
                &Drive::Choices(on_shuttle.schedule.clone()),
                Runtime::Native,
            );
            let what = format!("{} seed {seed}", scheme.name);
            assert_eq!(on_shuttle.events, replayed.events, "{what}");
            assert_eq!(on_shuttle.findings, replayed.findings, "{what}");
            let bytes = record(
                scheme,
                &Drive::Bytes(on_shuttle.byte_schedule.clone()),
                Runtime::Native,
            );
            assert_eq!(on_shuttle.events, bytes.events, "{what} (bytes)");
        }
    }
}

/// The `.c` schemes of `schemes-c/` this version of the dialect compiles
/// (the zoo's twins among them; `c_twins.rs` says which must).
fn c_schemes() -> Vec<&'static unplug::Scheme> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemes-c");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .expect("schemes-c/ is in the repository")
        .map(|e| e.expect("a readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "c"))
        .collect();
    paths.sort();
    let schemes: Vec<_> = paths
        .iter()
        .filter_map(|p| unplug::kc::load(p.to_str()?).ok())
        .collect();
    assert!(
        schemes.len() >= unplug::ALL.len(),
        "only {} schemes compile",
        schemes.len()
    );
    schemes
}

#[test]
fn both_runtimes_take_the_same_decisions_on_the_kernel_c_schemes() {
    // The portfolio calibrates first: executions that end on a deadlock or
    // a hang come before the recorded one on the same thread.
    for scheme in c_schemes() {
        for explorer in [Explorer::Random, Explorer::Portfolio] {
            for i in 0..6 {
                let seed = execution_seed(0xc0de, i);
                let drive = Drive::Seed {
                    explorer: explorer.clone(),
                    seed,
                };
                let what = format!("{} {explorer} seed {seed:#x}", scheme.name);
                let native = record(scheme, &drive, Runtime::Native);
                let shuttle = record(scheme, &drive, Runtime::Shuttle);
                assert_same(&native, &shuttle, &what);
            }
        }
    }
}
