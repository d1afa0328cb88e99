//! Every corpus entry replays to its recorded finding; every buggy scheme
//! has at least one entry (a missing one is reported with the commands that
//! make it).

use std::path::{Path, PathBuf};
use unplug::check::{corpus_failures, missing_corpus_entries};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus")
}

#[test]
fn every_corpus_entry_reproduces_its_finding() {
    let (replayed, failures) = corpus_failures(&corpus_dir()).expect("corpus/ is readable");
    assert!(replayed > 0, "the corpus is empty");
    assert!(
        failures.is_empty(),
        "corpus entries no longer reproduce:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_buggy_scheme_has_a_corpus_entry_of_its_expected_kind() {
    let missing = missing_corpus_entries(&corpus_dir(), unplug::ALL, "cargo run --release --")
        .expect("corpus/ is readable");
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}
