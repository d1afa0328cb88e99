//! The kernel's memory-model litmus tests as a conformance suite: every
//! test under the SC explorers and loom, against its published LKMM result.

use std::process::Command;
use unplug::litmus::run::{run, Agreement, LitmusBudget, Outcome, Row};
use unplug::litmus::{self, Lkmm};

fn suite() -> Vec<Row> {
    let budget = LitmusBudget::default();
    litmus::ALL.iter().map(|t| run(t, &budget)).collect()
}

#[test]
fn the_model_agrees_with_lkmm_on_every_translated_litmus_test() {
    assert!(
        litmus::ALL.len() >= 30,
        "at least 30 of the kernel's litmus tests are translated, got {}",
        litmus::ALL.len()
    );
    let rows = suite();
    for r in &rows {
        let name = r.test.name();
        let declared = r.test.divergence.is_some();
        assert!(
            !matches!(r.agreement, Agreement::Undeclared(_)),
            "{name}: an unexplained disagreement: {:?}",
            r.agreement
        );
        match r.test.lkmm {
            Lkmm::Never => assert!(
                declared || (!r.sc.reached() && !r.loom.reached()),
                "{name}: LKMM says Never, but SC {:?} / loom {:?}",
                r.sc,
                r.loom
            ),
            Lkmm::Sometimes => {
                if r.test.loom_unexplorable().is_none() && !declared {
                    assert!(
                        r.loom.reached(),
                        "{name}: LKMM says Sometimes and loom can produce it: {:?}",
                        r.loom
                    );
                }
            }
        }
        // A backend that cannot produce the outcome never says "Never".
        assert!(
            !matches!(r.sc, Outcome::NotReached { .. }),
            "{name}: the SC explorers produce no weak behaviour; they must not answer Never"
        );
        if r.test.loom_unexplorable().is_some() {
            assert!(
                matches!(r.loom, Outcome::NotExplorable { .. }),
                "{name}: LB-shaped, loom's cell must be 'not explorable': {:?}",
                r.loom
            );
        }
        // A declared divergence is shown in the table, not hidden.
        if let Some(reason) = r.test.divergence {
            assert!(unplug::litmus::run::note(r).contains(reason), "{name}");
        }
    }
    // The README's table is this one, as `unplug litmus all --format md`
    // prints it.
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("the README is readable");
    assert!(
        readme.contains(&unplug::litmus::run::render_markdown(&rows)),
        "README.md's conformance table is stale: regenerate it with `unplug litmus all --format md`"
    );
    // The suite exercises both sides: outcomes loom reaches, and outcomes
    // it can and does rule out.
    assert!(rows.iter().filter(|r| r.loom.reached()).count() >= 8);
    assert!(
        rows.iter()
            .filter(|r| matches!(r.loom, Outcome::NotReached { .. }))
            .count()
            >= 15
    );
}

#[test]
fn every_exists_outcome_of_the_suite_is_out_of_reach_of_sequential_consistency() {
    // Mechanically: the SC explorers (random, then PCT) reach none of them,
    // which is what a litmus test's weak outcome is. A shuttle run reaching
    // one would be a bug in the model's sequential consistency.
    let budget = LitmusBudget {
        sc_executions: 500,
        ..LitmusBudget::default()
    };
    for t in litmus::ALL {
        let r = run(t, &budget);
        assert!(!r.sc.reached(), "{}: {:?}", t.name(), r.sc);
    }
}

#[test]
fn the_command_prints_the_table_in_markdown() {
    let o = Command::new(env!("CARGO_BIN_EXE_unplug"))
        .args(["litmus", "all", "--format", "md", "--executions", "200"])
        .current_dir(std::env::temp_dir())
        .output()
        .expect("the binary runs");
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.starts_with("| test | LKMM | SC explorers | loom (C11) | agree? | note |"));
    assert_eq!(
        out.lines().count(),
        litmus::ALL.len() + 2,
        "a header, a rule and one row per test"
    );
    assert!(out.contains("| `LB+poonceonces` | Sometimes | not explorable by this backend | not explorable by this backend | n/a |"));
    assert!(
        out.contains("| `SB+mbonceonces` | Never | not explorable by this backend | Never | yes |")
    );

    let one = Command::new(env!("CARGO_BIN_EXE_unplug"))
        .args(["litmus", "no-such-test"])
        .output()
        .expect("the binary runs");
    assert_eq!(one.status.code(), Some(2));
}

#[test]
fn a_litmus_test_is_a_scheme_every_command_can_name() {
    for t in litmus::ALL {
        let s = unplug::find(t.name()).expect("registered");
        assert!(!s.uses_workload(), "{}", t.name());
    }
}

/// A litmus test's report names no workload (it has none) and replays
/// without workload flags.
#[test]
fn a_litmus_report_names_no_workload() {
    let o = Command::new(env!("CARGO_BIN_EXE_unplug"))
        .args(["verify", "SB+poonceonces"])
        .current_dir(std::env::temp_dir())
        .output()
        .expect("the binary runs");
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(out.contains("LITMUS: exists clause observed"), "{out}");
    assert!(!out.contains("workload:"), "{out}");
    assert!(
        out.contains("Replay: unplug verify SB+poonceonces --preemptions 1\n"),
        "{out}"
    );
    assert!(!err.contains("--users"), "{err}");
}
