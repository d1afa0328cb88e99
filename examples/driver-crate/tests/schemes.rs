//! This crate's schemes against their declared verdicts, and its corpus
//! replayed, with the checks the unplug zoo's own tests use.

use std::path::{Path, PathBuf};
use unplug::check::{corpus_failures, missing_corpus_entries, verdict_mismatches};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

/// Corpus entries name schemes in this crate's registry.
fn install() {
    unplug::schemes::install(driver_crate::registry()).expect("one registry per test binary");
}

#[test]
fn every_corpus_entry_reproduces_its_finding() {
    install();
    let (replayed, failures) = corpus_failures(&corpus()).expect("corpus/ is readable");
    assert!(replayed > 0, "the corpus is empty");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_buggy_scheme_has_a_corpus_entry() {
    install();
    let missing =
        missing_corpus_entries(&corpus(), driver_crate::SCHEMES, "cargo run --release --")
            .expect("corpus/ is readable");
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

/// A buggy scheme's finding on each of ten seeds within 20,000 executions;
/// a clean one clean within 20,000 executions.
#[test]
fn every_scheme_reaches_its_declared_verdict() {
    install();
    let wrong = verdict_mismatches(driver_crate::SCHEMES, 10, 20_000);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
