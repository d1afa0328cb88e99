//! The race-detector probes reach their declared verdicts on both backends:
//! the SC explorers (sequential consistency, happens-before race
//! detection) over ten seeds each, and loom (C11) exhaustively within the
//! default preemption bound; and through the `unplug` binary as a user
//! would run them.

use harness::engine::{explore, Budget, ExecConfig, Explorer, RunConfig, StopPolicy};
use harness::finding::{Detail, FindingKind};
use std::process::Command;
use unplug::probes::ALL;
use unplug::verify::verify;
use unplug::Scheme;

/// Executions per seed: a probe has two tasks and a handful of steps.
const BUDGET: u64 = 2_000;

fn sc_verdict(p: &Scheme, explorer: Explorer, seed: u64) -> Option<FindingKind> {
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
    explore(&p.scenario(p.default_workload.clone()), &cfg, None)
        .expect("the probes never panic")
        .verdict()
}

#[test]
fn every_probe_reaches_its_sc_verdict_on_every_explorer_and_seed() {
    let mut wrong = Vec::new();
    for p in ALL {
        for explorer in [
            Explorer::Random,
            Explorer::Pct { depth: None },
            Explorer::Portfolio,
        ] {
            for seed in 1..=10 {
                let got = sc_verdict(p, explorer.clone(), seed);
                if got != p.expected.sc {
                    wrong.push(format!(
                        "{} {} seed {seed}: expected {:?}, found {got:?}",
                        p.name,
                        explorer.name(),
                        p.expected.sc
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_probe_reaches_its_c11_verdict_under_loom() {
    for p in ALL {
        let out = verify(p, p.default_workload.clone(), p.loom_bound())
            .unwrap_or_else(|e| panic!("{}: {e}", p.name));
        assert_eq!(out.verdict, p.expected.c11, "{}", p.name);
        if out.verdict.is_none() {
            assert!(out.complete, "{}: clean within the bound", p.name);
        }
    }
}

/// The racing pair a probe's report names, under loom: the two accesses the
/// probe is about, not some other pair.
#[test]
fn loom_names_the_racing_accesses() {
    let cases = [
        (
            "probe-marked-write-keeps-read",
            "x",
            "READ_ONCE(x)",
            "x = 2",
        ),
        (
            "probe-marked-read-keeps-plain-read",
            "x",
            "x",
            "WRITE_ONCE(x, 1)",
        ),
        (
            "probe-read-then-free",
            "obj",
            "access to *obj",
            "kfree(obj)",
        ),
    ];
    for (name, location, first_op, second_op) in cases {
        let p = unplug::find(name).expect("a registered probe");
        let out = verify(p, p.default_workload.clone(), p.loom_bound()).expect("verifies");
        let finding = out.finding.expect("a race");
        let Detail::DataRace {
            cell,
            first,
            second,
        } = &finding.detail
        else {
            panic!("{name}: not a data race: {}", finding.headline())
        };
        assert_eq!(cell, location, "{name}");
        assert!(first.op.starts_with(first_op), "{name}: {}", first.op);
        // The plain read, not the task's later READ_ONCE(x).
        assert!(!first.op.contains("READ_ONCE") || first_op.contains("READ_ONCE"));
        assert!(second.op.contains(second_op), "{name}: {}", second.op);
    }
}

#[test]
fn the_cli_reports_the_probes_on_both_backends() {
    for p in ALL {
        let expected_code = if p.expected.sc.is_some() { 1 } else { 0 };
        for cmd in [
            vec!["fuzz", p.name, "--iterations", "2000", "--no-save"],
            vec!["verify", p.name],
        ] {
            let o = Command::new(env!("CARGO_BIN_EXE_unplug"))
                .args(&cmd)
                .current_dir(std::env::temp_dir())
                .output()
                .expect("the binary runs");
            let out = String::from_utf8_lossy(&o.stdout);
            assert_eq!(o.status.code(), Some(expected_code), "{cmd:?}: {out}");
            assert_eq!(
                out.contains("BUG: KCSAN: data-race"),
                p.expected.sc == Some(FindingKind::DataRace),
                "{cmd:?}: {out}"
            );
            // The workload is named only where it shapes the execution: a
            // self-contained probe runs the same whatever it says.
            if !out.is_empty() {
                assert_eq!(
                    out.contains("  workload: --users"),
                    p.uses_workload(),
                    "{cmd:?}: {out}"
                );
                assert_eq!(out.contains("--users"), p.uses_workload(), "{cmd:?}: {out}");
            }
        }
    }
}
