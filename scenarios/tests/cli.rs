//! The `unplug` binary: exit codes, one-line errors, byte-identical replays.

use std::process::{Command, Output};

fn unplug(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_unplug"))
        .args(args)
        .current_dir(std::env::temp_dir())
        .output()
        .expect("the binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_bad_input(args: &[&str], mention: &str) {
    let o = unplug(args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{args:?}: one line, got: {err}");
    assert!(err.contains(mention), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{args:?}: {err}");
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    assert_bad_input(
        &["fuzz", "no-such-scheme"],
        "unknown scheme 'no-such-scheme'",
    );
    assert_bad_input(
        &["fuzz", "unsynchronized", "--explorer", "dfs"],
        "unknown explorer",
    );
    assert_bad_input(
        &["fuzz", "unsynchronized", "--users", "99"],
        "users must be",
    );
    assert_bad_input(
        &["fuzz", "unsynchronized", "--seed", "banana"],
        "not a seed",
    );
    assert_bad_input(
        &["fuzz", "unsynchronized", "--shard", "3/2"],
        "--shard wants K/N",
    );
    assert_bad_input(
        &["fuzz", "unsynchronized", "--shard", "0/2"],
        "--shard wants K/N",
    );
    assert_bad_input(&["fuzz", "unsynchronized", "--bogus-flag"], "--bogus-flag");
    assert_bad_input(&["replay"], "--scheme and --seed");
    assert_bad_input(
        &["replay", "/nonexistent/entry.toml"],
        "/nonexistent/entry.toml",
    );
    assert_bad_input(&["frobnicate"], "frobnicate");
}

#[test]
fn corrupt_corpus_files_are_one_line_and_exit_2() {
    let dir = std::env::temp_dir().join(format!("unplug-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let good = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../corpus/unsynchronized")
            .read_dir()
            .expect("corpus/unsynchronized exists")
            .filter_map(|e| e.ok())
            .next()
            .expect("an entry")
            .path(),
    )
    .expect("readable");
    let cases = [
        (
            "truncated.toml",
            good[..good.len() / 3].to_string(),
            "not a valid corpus entry",
        ),
        (
            "future.toml",
            good.replace("format = 1", "format = 2"),
            "format 2",
        ),
        (
            "unknown.toml",
            good.replace("scheme = \"unsynchronized\"", "scheme = \"gone\""),
            "unknown scheme",
        ),
        (
            "diverged.toml",
            good.replace("choices = [", "choices = [9, 9, 9, "),
            "another version",
        ),
    ];
    for (name, text, mention) in cases {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        assert_bad_input(&["replay", path.to_str().expect("utf-8 path")], mention);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fuzz_finds_the_use_after_removal_and_its_replay_command_reproduces_it_byte_for_byte() {
    let o = unplug(&[
        "fuzz",
        "unsynchronized",
        "--seed",
        "1",
        "--iterations",
        "2000",
        "--no-save",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let report = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(report.contains("BUG: KASAN: use-after-removal"), "{report}");
    assert!(
        report.contains("<-- use-after-removal"),
        "the fatal access is marked:\n{report}"
    );
    assert!(
        report.contains("<-- freed here"),
        "the free is marked:\n{report}"
    );
    // The diagram shows the ioctl's access after removal's free.
    let free_at = report.find("<-- freed here").expect("marked");
    let use_at = report.find("<-- use-after-removal").expect("marked");
    assert!(free_at < use_at, "{report}");

    let replay_line = report
        .lines()
        .find_map(|l| l.strip_prefix("Replay: unplug "))
        .expect("a replay command");
    let args: Vec<&str> = replay_line.split_whitespace().collect();
    let first = unplug(&args);
    let second = unplug(&args);
    assert_eq!(first.status.code(), Some(1));
    let first_report = String::from_utf8_lossy(&first.stdout).into_owned();
    assert_eq!(first.stdout, second.stdout, "replays differ");
    // The fuzz output is the replay's report, for each distinct execution.
    assert!(
        report.contains(&first_report),
        "fuzz:\n{report}\nreplay:\n{first_report}"
    );
}

#[test]
fn list_names_every_scheme_with_its_expectations() {
    let o = unplug(&["list"]);
    assert_eq!(o.status.code(), Some(0));
    let out = String::from_utf8_lossy(&o.stdout);
    for s in scenarios::ALL {
        let line = out.lines().find(|l| l.starts_with(s.name)).expect("listed");
        let expected = s.expected.sc.map_or("clean".to_string(), |k| k.to_string());
        assert!(line.contains(&expected), "{line}");
    }
}

#[test]
fn compare_emits_json_with_verdicts_that_match_the_expectations() {
    let o = unplug(&[
        "compare",
        "--schemes",
        "unsynchronized,flag-under-write-lock,nested-down-read",
        "--explorers",
        "random,pct",
        "--iterations",
        "3000",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let cells: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    let cells = cells.as_array().expect("an array");
    assert_eq!(cells.len(), 6);
    for c in cells {
        assert_eq!(c["matches"], true, "{c}");
        assert_eq!(c["verdict"], c["expected"], "{c}");
    }
}

#[test]
fn verify_finds_store_buffering_only_under_c11_and_proves_the_barrier_fix_clean() {
    let o = unplug(&["verify", "counter-flag-no-barrier"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let report = String::from_utf8_lossy(&o.stdout);
    assert!(report.contains("BUG: KASAN: use-after-removal"), "{report}");
    assert!(report.contains("Memory model: C11 (loom"), "{report}");
    assert!(
        stderr(&o).contains("expected use-after-removal, ok"),
        "{}",
        stderr(&o)
    );

    let o = unplug(&["verify", "counter-flag-mb"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("clean (expected clean, ok)"),
        "{}",
        stderr(&o)
    );
    assert_bad_input(
        &["verify", "counter-flag-mb", "--users", "9"],
        "at most 3 users",
    );
}

#[test]
fn compare_judges_the_loom_column_against_the_c11_expectation() {
    let o = unplug(&[
        "compare",
        "--schemes",
        "counter-flag-no-barrier",
        "--explorers",
        "random,loom",
        "--iterations",
        "3000",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let cells: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    let cells = cells.as_array().expect("an array");
    let by_model = |m: &str| cells.iter().find(|c| c["model"] == m).expect("a cell");
    assert_eq!(
        by_model("sc")["verdict"],
        "data-race",
        "under SC only the unordered read of the driver data before the free"
    );
    assert_eq!(
        by_model("c11")["verdict"],
        "use-after-removal",
        "store buffering under C11"
    );
    assert!(cells.iter().all(|c| c["matches"] == true));
}
