//! Every corpus entry replays to its recorded finding; every buggy scheme
//! has at least one entry.

use harness::corpus::{entry_paths, CorpusError};
use scenarios::replay::{replay_entry, reproduces, CorpusEntry};
use std::path::{Path, PathBuf};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus")
}

#[test]
fn every_corpus_entry_reproduces_its_finding() {
    let paths = entry_paths(&corpus_dir()).expect("corpus/ is readable");
    assert!(!paths.is_empty(), "the corpus is empty");
    let mut failures = Vec::new();
    for path in &paths {
        let entry = CorpusEntry::load(path).unwrap_or_else(|e| panic!("{e}"));
        let run = replay_entry(&entry).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if !reproduces(&entry, &run) {
            failures.push(format!(
                "{}: expected {} ({}); replay found {:?}, diverged at {:?}",
                path.display(),
                entry.finding,
                entry.signature,
                run.record
                    .findings
                    .iter()
                    .map(|f| f.signature())
                    .collect::<Vec<_>>(),
                run.diverged_at
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "corpus entries no longer reproduce:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_buggy_scheme_has_a_corpus_entry_of_its_expected_kind() {
    let entries: Vec<CorpusEntry> = entry_paths(&corpus_dir())
        .expect("corpus/ is readable")
        .iter()
        .map(|p| CorpusEntry::load(p).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    for scheme in scenarios::ALL {
        if let Some(kind) = scheme.expected.sc {
            assert!(
                entries
                    .iter()
                    .any(|e| e.scheme == scheme.name && e.finding == kind),
                "no corpus entry for {} ({kind})",
                scheme.name
            );
        }
    }
}

#[test]
fn corrupt_and_foreign_entries_are_clear_errors() {
    let dir = std::env::temp_dir().join(format!("unplug-corpus-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let good = std::fs::read_to_string(
        entry_paths(&corpus_dir())
            .expect("corpus/ is readable")
            .first()
            .expect("non-empty corpus"),
    )
    .expect("readable entry");

    let truncated = dir.join("truncated.toml");
    std::fs::write(&truncated, &good[..good.len() / 2]).expect("write");
    assert!(matches!(
        CorpusEntry::load(&truncated),
        Err(CorpusError::Parse { .. })
    ));

    let foreign = dir.join("foreign.toml");
    std::fs::write(&foreign, good.replace("format = 1", "format = 7")).expect("write");
    let err = CorpusEntry::load(&foreign).expect_err("format 7 is foreign");
    assert!(matches!(err, CorpusError::Format { found: 7, .. }), "{err}");
    assert!(err.to_string().contains("format 7"), "{err}");

    let edited = dir.join("edited.toml");
    std::fs::write(&edited, good.replace("choices = [", "choices = [\"x\", ")).expect("write");
    assert!(matches!(
        CorpusEntry::load(&edited),
        Err(CorpusError::Parse { .. })
    ));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn saving_is_atomic_and_round_trips() {
    let path = entry_paths(&corpus_dir()).expect("readable")[0].clone();
    let entry = CorpusEntry::load(&path).expect("valid");
    let dir = std::env::temp_dir().join(format!("unplug-save-test-{}", std::process::id()));
    let target = entry.default_path(&dir);
    entry.save(&target).expect("save");
    assert_eq!(CorpusEntry::load(&target).expect("reload"), entry);
    // No temporary file is left beside the entry.
    let leftovers: Vec<_> = std::fs::read_dir(target.parent().expect("has a parent"))
        .expect("readable")
        .filter_map(|e| e.ok())
        .filter(|e| e.path() != target)
        .collect();
    assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
