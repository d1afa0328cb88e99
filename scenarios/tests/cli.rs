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
    assert!(!err.trim().is_empty(), "{args:?}: a message");
    assert!(err.contains(mention), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{args:?}: {err}");
}

#[test]
fn bad_input_is_a_clear_message_and_exit_2() {
    assert_bad_input(
        &["fuzz", "no-such-scheme"],
        "unknown scheme 'no-such-scheme'",
    );
    assert_bad_input(
        &["fuzz", "unsynchronized", "--explorer", "dfs"],
        "unknown explorer",
    );
    assert_bad_input(&["fuzz", "unsynchronized", "--users", "99"], "1..=12");
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
    // Corpus entries and raw schedules are read with a cap.
    assert_bad_input(&["replay", "/dev/zero"], "larger than");
    assert_bad_input(
        &["replay", "/nonexistent/entry.toml"],
        "/nonexistent/entry.toml",
    );
    assert_bad_input(&["frobnicate"], "frobnicate");
}

#[test]
fn corrupt_corpus_files_are_a_clear_message_and_exit_2() {
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
    // The default runtime is the native one: the memory-model line names the
    // model the explorers check, not a runtime.
    assert!(
        report.contains(
            "Memory model: sequential consistency, data races by happens-before (SC explorers)\n"
        ),
        "{report}"
    );

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
    for s in unplug::ALL {
        let line = out.lines().find(|l| l.starts_with(s.name)).expect("listed");
        let expected = unplug::verdict::expected_words(&s.expected, unplug::verdict::Model::Sc);
        assert!(line.contains(&expected), "{line}");
    }
}

/// Every cell of compare's JSON carries its evidence: the model, explorer
/// and executions; a finding's kind, object, site, executions to it and
/// replay command (with its seed, or its preemption bound under loom); a
/// sampling cell that found nothing its base seed; a loom cell that found
/// nothing the bound it explored completely.
#[test]
fn compare_json_carries_the_evidence_of_every_cell() {
    let o = unplug(&[
        "compare",
        "--schemes",
        "unsynchronized,flag-under-write-lock,nested-down-read,counter-flag-no-barrier",
        "--explorers",
        "random,portfolio,loom",
        "--iterations",
        "3000",
        "--loom-executions",
        "3000",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    let cells = doc["cells"].as_array().expect("an array of cells");
    assert_eq!(cells.len(), 12);
    for c in cells {
        assert_eq!(c["judgement"]["judgement"], "match", "{c}");
        let v = &c["verdict"];
        let model = v["model"].as_str().expect("a model");
        assert_eq!(
            model,
            if c["explorer"] == "loom" { "c11" } else { "sc" },
            "{c}"
        );
        assert!(v["executions"].as_u64().expect("executions") > 0, "{c}");
        assert_eq!(v["time_capped"], false, "{c}");
        let out = &v["outcome"];
        match out["outcome"].as_str().expect("an outcome") {
            "found" => {
                assert!(out["kind"].is_string(), "{c}");
                assert!(!out["object"].as_str().expect("object").is_empty(), "{c}");
                assert!(out["after_executions"].as_u64().expect("count") >= 1, "{c}");
                let replay = out["replay"].as_str().expect("a replay command");
                if model == "sc" {
                    assert!(out["seed"].is_u64(), "{c}");
                    assert!(replay.starts_with("unplug replay --scheme"), "{c}");
                } else {
                    assert!(out["bound"].is_u64(), "{c}");
                    assert!(replay.starts_with("unplug verify"), "{c}");
                }
            }
            "not-found" => {
                assert_eq!(model, "sc");
                assert_eq!(v["executions"], 3000, "{c}");
                assert!(out["base_seed"].is_u64(), "{c}");
            }
            "exhaustive" => {
                assert_eq!(model, "c11");
                assert!(out["bound"].as_u64().expect("bound") >= 1, "{c}");
                assert!(out["bound_executions"].as_u64().expect("count") > 0, "{c}");
            }
            other => panic!("unexpected outcome {other}: {c}"),
        }
    }
    let row = |name: &str| {
        doc["schemes"]
            .as_array()
            .and_then(|r| r.iter().find(|r| r["scheme"] == name))
            .map(|r| r["verdict"].as_str().unwrap_or_default().to_string())
            .expect("a row per scheme")
    };
    assert_eq!(row("unsynchronized"), "use-after-removal");
    assert_eq!(row("nested-down-read"), "deadlock");
    assert_eq!(
        row("counter-flag-no-barrier"),
        "correct under SC; use-after-removal under C11"
    );
    assert!(
        row("flag-under-write-lock").starts_with("no finding in 2×3000 SC executions and at ≤ ")
    );
    assert_eq!(
        doc["no_finding_anywhere"],
        serde_json::json!(["flag-under-write-lock"])
    );
    assert_eq!(doc["exit_status"], 0);
}

/// The table fits 100 columns, says each scheme's verdict in words, names
/// the schemes with no finding, explains its columns, and does not fail on
/// pct-d2's blind spot.
#[test]
fn compare_table_fits_100_columns_and_explains_itself() {
    let o = unplug(&[
        "compare",
        "--schemes",
        "srcu-single-drain,srcu-pointer,counter-flag-no-barrier",
        "--iterations",
        "40000",
        // Loom reaches the single-drain bug after 3,048 executions (bounds
        // 1 and 2 complete, then 38 of bound 3).
        "--loom-executions",
        "4000",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    for line in out.lines() {
        assert!(line.chars().count() <= 100, "too wide: {line}");
    }
    let row = out
        .lines()
        .find(|l| l.starts_with("srcu-single-drain"))
        .expect("a row");
    assert!(row.contains("none 40k!"), "pct-d2 misses it: {row}");
    assert!(row.contains("use-after-removal"), "{row}");
    // Phrases may wrap.
    let words = out.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("No finding anywhere: srcu-pointer."),
        "{out}"
    );
    assert!(
        words.contains("srcu-single-drain / pct-d2: mismatch"),
        "{out}"
    );
    assert!(words.contains("(shown, does not fail the run)"), "{out}");
    assert!(
        words.contains("counter-flag-no-barrier none 40k none 40k none 40k none 40k UAR 11 b1 → correct under SC; use-after-removal under C11"),
        "{out}"
    );
    for term in ["pct-dN", "loom:", "SC:", "C11:"] {
        assert!(out.contains(term), "the legend explains {term}: {out}");
    }
    assert!(!out.contains("clean"), "never the bare word: {out}");
}

/// The legend describes the explorers that run: the portfolio's members as
/// its scheduler draws them (conflict-aware POS among them, not basic POS),
/// and each sampling column asked for.
#[test]
fn compare_legend_names_the_explorers_that_run() {
    let o = unplug(&[
        "compare",
        "--schemes",
        "unsynchronized",
        "--explorers",
        "portfolio,pos",
        "--iterations",
        "300",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    let words = out.split_whitespace().collect::<Vec<_>>().join(" ");
    for member in [
        "the slow-task walk (slow)",
        "conflict-aware POS (cpos)",
        "ladder PCT (pct)",
        "the random walk (random)",
        "pos (partial-order sampling)",
        "pos is a baseline",
    ] {
        assert!(words.contains(member), "the legend names {member}: {out}");
    }
    assert!(!words.contains("PCT, POS and random"), "{out}");
    assert!(!words.contains("pct (PCT"), "no column pct: {out}");
}

/// A loom cell cut short by a time cap is never a match: compare marks it
/// and fails.
#[test]
fn compare_never_counts_a_time_capped_loom_cell_as_a_match() {
    let o = unplug(&[
        "compare",
        "--schemes",
        "flag-under-write-lock,srcu-single-drain,unsynchronized",
        "--explorers",
        "loom",
        "--time-per-cell",
        "20ms",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    for c in doc["cells"].as_array().expect("cells") {
        let fatal_found = c["verdict"]["outcome"]["outcome"] == "found"
            && c["verdict"]["outcome"]["kind"] != "data-race";
        if !fatal_found {
            assert_eq!(c["judgement"]["judgement"], "inconclusive", "{c}");
        }
    }
}

/// The smallest bound with a finding settles verify's verdict: a data race
/// at bound 1 (explored completely, so nothing worse is within it) stops
/// the deepening there, and the output says so; `--all-bounds` looks deeper
/// for a fatal finding.
#[test]
fn verify_stops_at_the_first_bound_with_a_finding_unless_asked_for_all() {
    let o = unplug(&["verify", "srcu-plain-flag"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("bounds explored: 1 (complete, "), "{err}");
    assert!(!err.contains("), 2 ("), "no deeper bound: {err}");
    assert!(
        err.contains("stopped at bound 1, the smallest with a finding"),
        "{err}"
    );
    assert!(err.contains("≤ 1 preemptions"), "{err}");
    assert!(err.contains("matches the expectation"), "{err}");
    let o = unplug(&[
        "verify",
        "srcu-plain-flag",
        "--all-bounds",
        "--executions",
        "1000",
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("), 2 ("), "a deeper bound: {err}");
    assert!(!err.contains("stopped at bound"), "{err}");
}

#[test]
fn verify_finds_store_buffering_only_under_c11_and_proves_the_barrier_fix_within_its_bound() {
    let o = unplug(&["verify", "counter-flag-no-barrier"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let report = String::from_utf8_lossy(&o.stdout);
    assert!(report.contains("BUG: KASAN: use-after-removal"), "{report}");
    assert!(report.contains("Memory model: C11 (loom"), "{report}");
    assert!(
        stderr(&o).contains("expected use-after-removal of cxlm under C11: matches"),
        "{}",
        stderr(&o)
    );

    let o = unplug(&["verify", "counter-flag-mb", "--executions", "3000"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("no finding at ≤ 1 preemptions, complete"),
        "{err}"
    );
    assert!(err.contains("bound 2 cut by the execution budget"), "{err}");
    assert!(err.contains("matches the expectation"), "{err}");
    assert_bad_input(
        &["verify", "counter-flag-mb", "--users", "9"],
        "at most 3 users",
    );
}

/// At exactly bound 2 the single-drain bug cannot be seen: verify says so
/// and exits 1; deepening from bound 1 finds it at bound 3.
#[test]
fn verify_deepens_until_the_single_drain_bug() {
    let o = unplug(&["verify", "srcu-single-drain", "--preemptions", "2"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("no finding at ≤ 2 preemptions, complete"),
        "{err}"
    );
    assert!(err.contains("MISMATCH"), "{err}");
    assert!(
        err.contains("no exploration at ≤ 2 preemptions can see it"),
        "{err}"
    );
    assert!(o.stdout.is_empty());

    let o = unplug(&["verify", "srcu-single-drain"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("1 (complete, "), "{err}");
    assert!(err.contains("2 (complete, "), "{err}");
    assert!(err.contains("3 (finding, "), "{err}");
    assert!(err.contains("≤ 3 preemptions"), "{err}");
    assert!(err.contains("matches the expectation"), "{err}");
    let report = String::from_utf8_lossy(&o.stdout);
    assert!(
        report.contains("unplug verify srcu-single-drain --preemptions 3"),
        "{report}"
    );
}

/// No cell depends on the wall clock by default: the same matrix run on one
/// job and on two (other cells competing for the cores) prints the same
/// bytes.
#[test]
fn compare_prints_the_same_numbers_however_loaded() {
    let args = |jobs: &'static str| {
        [
            "compare",
            "--schemes",
            "unsynchronized,srcu-pointer,srcu-single-drain",
            "--iterations",
            "5000",
            "--loom-executions",
            "2000",
            "--jobs",
            jobs,
        ]
    };
    let one = unplug(&args("1"));
    let two = unplug(&args("2"));
    assert_eq!(one.status.code(), two.status.code());
    assert_eq!(
        String::from_utf8_lossy(&one.stdout),
        String::from_utf8_lossy(&two.stdout)
    );
}

/// `litmus` says what it checks: the kernel model every scheme runs on,
/// with the same suite in every program (a driver crate's included).
#[test]
fn litmus_says_it_is_the_kernel_models_suite_in_every_program() {
    let o = unplug(&["--help"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let words = String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        words.contains("litmus The kernel model's own check"),
        "{words}"
    );
    assert!(
        words.contains("(the same suite in every program)"),
        "{words}"
    );
    let o = unplug(&["litmus", "--help"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let words = String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        words.contains("It is the same for every scheme registry"),
        "{words}"
    );
}
