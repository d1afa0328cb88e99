//! Workload descriptions: the example file runs on the zoo, the knobs'
//! `[workload]` tables (as corpus entries store them) still load, scripts
//! round-trip through TOML, and bad scripts are clear errors (exit 2 at
//! the command line).
//!
//! Expectations are declared here; verdicts come from exploration with fixed
//! seeds.

use harness::engine::{explore, Explorer, RunConfig};
use harness::finding::FindingKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use unplug::workload::{Gate, RemoverOp, UserOp, WorkloadError};
use unplug::{find, Workload};

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/workloads/open-twice-rebind.toml")
}

/// The verdict of `iterations` portfolio executions of `scheme` under `wl`.
fn verdict(scheme: &str, wl: &Workload, seed: u64, iterations: u64) -> Option<FindingKind> {
    let s = find(scheme).unwrap_or_else(|| panic!("the zoo has no scheme {scheme}"));
    let cfg = RunConfig::until_first_fatal(Explorer::Portfolio, seed, iterations);
    explore(&s.scenario(wl.clone()), &cfg, None)
        .expect("the zoo's scenarios never panic")
        .verdict()
}

#[test]
fn the_example_file_describes_what_its_comment_says() {
    let wl = Workload::from_file(&example()).expect("the example is valid");
    assert_eq!(wl.users, 3);
    let users = wl.users();
    let opens = |u: usize| {
        users[u]
            .ops
            .iter()
            .filter(|op| matches!(op, UserOp::Open { .. }))
            .count()
    };
    assert_eq!(opens(0), 2, "user0 opens twice");
    assert!(matches!(
        users[1].ops[0],
        UserOp::Open {
            after: Some(Gate::RemoveStart),
            ..
        }
    ));
    let removers = wl.removers();
    assert_eq!(removers.len(), 1);
    assert!(removers[0]
        .ops
        .contains(&RemoverOp::Rebind { device: Some(0) }));
    assert!(wl.flags().starts_with("--workload "), "{}", wl.flags());
}

/// The merged fix and the SRCU pointer scheme stay clean under double
/// opens, an open during removal and a rebind (3 seeds × 3,000
/// executions); the unsynchronized ioctl is found on each of 10 seeds
/// within 2,000.
#[test]
fn the_example_file_runs_on_the_zoo() {
    let wl = Workload::from_file(&example()).expect("the example is valid");
    for scheme in ["flag-under-write-lock", "srcu-pointer"] {
        for seed in 1..=3 {
            assert_eq!(
                verdict(scheme, &wl, seed, 3_000),
                None,
                "{scheme} seed {seed}"
            );
        }
    }
    for seed in 1..=10 {
        assert_eq!(
            verdict("unsynchronized", &wl, seed, 2_000),
            Some(FindingKind::UseAfterRemoval),
            "seed {seed}"
        );
    }
}

/// A `[workload]` table of the knobs alone, as every corpus entry written
/// before scripts has it, loads as the knobs' workload and generates the
/// classic scripts.
#[test]
fn knob_tables_load_and_generate_the_classic_scripts() {
    let wl = Workload::from_toml(
        "[workload]\nusers = 3\nioctls = 2\nopen_races_del = false\ndevices = 1\nremove_work = 0\n",
    )
    .expect("loads");
    assert_eq!(wl, Workload::knobs(3, 2, false, 1, 0));
    assert!(!wl.is_scripted());
    let users = wl.users();
    assert_eq!(users.len(), 3);
    assert_eq!(users[0].ops.len(), 4, "open, ioctl, ioctl, close");
    assert_eq!(wl.removers()[0].ops[0], RemoverOp::WaitOpens);
    let racing = Workload::knobs(2, 1, true, 2, 0);
    assert_eq!(
        racing.removers()[0].ops.to_vec(),
        vec![RemoverOp::Remove { device: None }]
    );
}

#[test]
fn scripts_round_trip_through_toml() {
    let wl = Workload::from_file(&example()).expect("the example is valid");
    let again = Workload::from_toml(&wl.to_toml()).expect("its own output loads");
    assert_eq!(again.user_scripts, wl.user_scripts);
    assert_eq!(again.remover_scripts, wl.remover_scripts);
    assert_eq!(again.devices, wl.devices);
}

fn error(text: &str) -> WorkloadError {
    match Workload::from_toml(text) {
        Err(e) => e,
        Ok(wl) => panic!("accepted {wl:?}"),
    }
}

#[test]
fn bad_scripts_are_errors_that_say_where() {
    let e = error("[workload]\n[[workload.user]]\nops = [{ op = \"ioctl\" }]\n");
    assert!(matches!(&e, WorkloadError::BadFile { op: 0, .. }), "{e}");
    assert!(e.to_string().contains("no file is open"), "{e}");

    let e = error(
        "[workload]\n[[workload.user]]\nops = [{ op = \"open\" }, { op = \"close\" }, { op = \"read\", file = 0 }]\n",
    );
    assert!(e.to_string().contains("file 0 is already closed"), "{e}");

    let e = error("[workload]\n[[workload.user]]\nops = [{ op = \"open\", device = 3 }]\n");
    assert!(
        matches!(e, WorkloadError::NoSuchDevice { device: 3, .. }),
        "{e}"
    );

    let e = error("[workload]\n[[workload.user]]\nops = [{ op = \"open\", after = \"rebind\" }]\n");
    assert!(
        matches!(
            e,
            WorkloadError::GateNeverOpens {
                gate: Gate::Rebind,
                ..
            }
        ),
        "{e}"
    );

    let e = error(
        "[workload]\n[[workload.user]]\nops = [{ op = \"open\" }]\n[[workload.remover]]\nops = [{ op = \"rebind\" }]\n",
    );
    assert!(e.to_string().contains("still bound"), "{e}");

    let e = error(
        "[workload]\n[[workload.user]]\nops = [{ op = \"open\" }]\n[[workload.remover]]\nops = [{ op = \"remove\" }]\n[[workload.remover]]\nops = [{ op = \"unbind\" }]\n",
    );
    assert!(e.to_string().contains("also removed by remover 0"), "{e}");

    let e = error("[workload]\n[[workload.user]]\nops = [{ op = \"mmap\" }]\n");
    assert!(matches!(e, WorkloadError::File { .. }), "{e}");
}

fn unplug(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_unplug"))
        .args(args)
        .current_dir(std::env::temp_dir())
        .output()
        .expect("the binary runs")
}

#[test]
fn the_command_line_reads_workload_files() {
    let path = example();
    let path = path.to_str().expect("a UTF-8 path");
    let o = unplug(&[
        "fuzz",
        "unsynchronized",
        "--workload",
        path,
        "--seed",
        "1",
        "--stop-at-first",
        "--no-save",
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("--workload "),
        "the replay command names the file: {out}"
    );

    let bad = std::env::temp_dir().join(format!("unplug-bad-workload-{}.toml", std::process::id()));
    std::fs::write(
        &bad,
        "[workload]\n[[workload.user]]\nops = [{ op = \"poll\" }]\n",
    )
    .expect("writes");
    let o = unplug(&[
        "fuzz",
        "unsynchronized",
        "--workload",
        bad.to_str().unwrap_or_default(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("no file is open"), "{err}");
    let _ = std::fs::remove_file(&bad);

    let o = unplug(&["fuzz", "unsynchronized", "--workload", path, "--users", "3"]);
    assert_eq!(o.status.code(), Some(2));
}
