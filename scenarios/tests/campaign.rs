//! Campaigns left running: findings reported and saved as they are found,
//! Ctrl-C keeps them, closed and full outputs, the corpus folder, minimize,
//! usage errors and widths.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_unplug"));
    c.current_dir(std::env::temp_dir()).env_remove("COLUMNS");
    c
}

fn unplug(args: &[&str]) -> Output {
    bin().args(args).output().expect("the binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A fresh scratch folder.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("unplug-campaign-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "toml") {
                out.push(p);
            }
        }
    }
    out
}

fn no_noise(err: &str) {
    assert!(!err.contains("panicked"), "{err}");
    assert!(!err.contains("shuttle::replay"), "{err}");
    assert!(!err.contains("Task failed"), "{err}");
}

#[test]
fn sigint_after_the_first_finding_keeps_the_report_and_the_entry() {
    let dir = scratch("sigint");
    let mut child = bin()
        .args([
            "fuzz",
            "srcu-single-drain",
            "--iterations",
            "1000000000",
            "--corpus",
        ])
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut seen = String::new();
    // Saved as soon as found, long before the budget is spent.
    loop {
        let mut line = String::new();
        let n = stderr.read_line(&mut line).expect("read");
        assert!(n > 0, "fuzz ended before saving anything: {seen}");
        seen.push_str(&line);
        if line.contains("unplug: saved") {
            break;
        }
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).expect("read");
    seen.push_str(&rest);
    let mut out = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut out)
        .expect("read");
    let code = child.wait().expect("wait").code();
    assert_eq!(code, Some(1), "{seen}");
    // The first finding may be the data race of a reader with the free
    // (reported and saved as soon as found) or the use-after-removal.
    assert!(
        out.contains("BUG: KASAN") || out.contains("BUG: KCSAN"),
        "{out}"
    );
    assert!(seen.contains("interrupted"), "{seen}");
    assert!(seen.contains("srcu-single-drain:"), "the summary: {seen}");
    no_noise(&seen);
    let saved = entries(&dir);
    assert!(!saved.is_empty(), "{saved:?}");
    for entry in &saved {
        let replay = unplug(&["replay", entry.to_str().expect("utf-8")]);
        assert_eq!(replay.status.code(), Some(1), "{}", text(&replay.stderr));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_second_campaign_on_one_corpus_adds_no_duplicate() {
    let dir = scratch("dedup");
    let mut counts = Vec::new();
    for _ in 0..2 {
        let o = bin()
            .args([
                "fuzz",
                "check-outside-lock",
                "--seed",
                "1",
                "--stop-at-first",
            ])
            .arg("--corpus")
            .arg(&dir)
            .output()
            .expect("runs");
        assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
        counts.push(entries(&dir).len());
    }
    assert!(counts[0] >= 1, "the first campaign saves what it found");
    assert_eq!(counts[0], counts[1], "the second adds nothing");
    let o = bin()
        .args([
            "fuzz",
            "check-outside-lock",
            "--seed",
            "1",
            "--stop-at-first",
        ])
        .arg("--corpus")
        .arg(&dir)
        .output()
        .expect("runs");
    assert!(
        text(&o.stderr).contains("already in the corpus"),
        "{}",
        text(&o.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let mut child = bin()
        .args(["fuzz", "all", "--no-save", "--iterations", "2000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("a line");
    drop(stdout);
    let o = child.wait_with_output().expect("wait");
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    no_noise(&err);
}

/// Every command whose reader went away before it wrote (`unplug verify
/// … | head -1`) ends quietly with the status of what it found: no panic,
/// no 101.
#[test]
fn every_command_ends_quietly_on_a_closed_pipe() {
    let cases: [(&[&str], i32); 7] = [
        (&["verify", "unsynchronized"], 1),
        (
            &[
                "compare",
                "--schemes",
                "unsynchronized",
                "--explorers",
                "portfolio,loom",
                "--iterations",
                "500",
                "--loom-executions",
                "500",
            ],
            0,
        ),
        (
            &[
                "compare",
                "--schemes",
                "unsynchronized",
                "--explorers",
                "portfolio",
                "--iterations",
                "500",
                "--format",
                "json",
            ],
            0,
        ),
        (&["litmus", "MP+pooncerelease+poacquireonce"], 0),
        (&["list"], 0),
        (
            &[
                "replay",
                "--scheme",
                "unsynchronized",
                "--explorer",
                "random",
                "--seed",
                "1",
            ],
            1,
        ),
        (&["bench", "--help"], 0),
    ];
    for (args, want) in cases {
        let mut child = bin()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        // The reader goes away before the command writes anything.
        drop(child.stdout.take());
        let o = child.wait_with_output().expect("wait");
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(want), "{args:?}: {err}");
        no_noise(&err);
        assert!(!err.contains("Broken pipe"), "{args:?}: {err}");
    }
}

#[test]
fn a_full_disk_is_one_error_and_exit_2() {
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full");
    let Ok(full) = full else { return };
    let o = bin()
        .args(["fuzz", "all", "--no-save", "--iterations", "2000"])
        .stdout(full)
        .output()
        .expect("runs");
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.matches("No space left on device").count(), 1, "{err}");
    no_noise(&err);
}

#[test]
fn a_bad_corpus_folder_is_refused_before_any_work() {
    let dir = scratch("badcorpus");
    let file = dir.join("a-file");
    std::fs::write(&file, "not a folder").expect("write");
    let o = bin()
        .args([
            "fuzz",
            "unsynchronized",
            "--iterations",
            "100000000",
            "--corpus",
        ])
        .arg(file.join("corpus"))
        .output()
        .expect("runs");
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("--corpus"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fuzz_all_reports_a_scheme_that_cannot_save_and_goes_on() {
    let dir = scratch("goeson");
    // The scheme's folder is a file: its entry cannot be written.
    std::fs::write(dir.join("unsynchronized"), "in the way").expect("write");
    let o = bin()
        .args(["fuzz", "all", "--iterations", "300", "--corpus"])
        .arg(&dir)
        .output()
        .expect("runs");
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("error: unsynchronized"), "{err}");
    assert!(
        err.contains("unplug: counter-flag-mb:"),
        "the last scheme ran: {err}"
    );
    no_noise(&err);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn workers_stop_together_at_the_first_finding_and_count_every_execution() {
    let o = unplug(&[
        "fuzz",
        "srcu-single-drain",
        "--workers",
        "2",
        "--stop-at-first",
        "--no-save",
        "--iterations",
        "10000000",
    ]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    let summary = err
        .lines()
        .find(|l| l.starts_with("unplug: srcu-single-drain:"))
        .expect("a summary");
    let number_after = |key: &str| -> u64 {
        let at = summary.find(key).expect(key) + key.len();
        summary[at..]
            .split(|c: char| !c.is_ascii_digit())
            .find(|s| !s.is_empty())
            .and_then(|s| s.parse().ok())
            .expect("a number")
    };
    let total: u64 = summary
        .trim_start_matches("unplug: srcu-single-drain: ")
        .split(' ')
        .next()
        .and_then(|s| s.parse().ok())
        .expect("total");
    let first = number_after("use-after-removal after ");
    // The other worker stops at its next execution boundary.
    assert!(first <= total && total - first <= 8, "{summary}");
}

#[test]
fn minimize_writes_beside_the_entry_rederives_the_finding_and_never_deletes_its_only_copy() {
    let dir = scratch("minimize");
    let bad = dir.join("bad");
    std::fs::create_dir_all(&bad).expect("mkdir");
    let source = std::fs::read_dir(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/check-outside-lock"),
    )
    .expect("corpus")
    .flatten()
    .next()
    .expect("an entry")
    .path();
    // The finding field contradicts the signature.
    let lied = std::fs::read_to_string(&source)
        .expect("read")
        .replace("finding = \"use-after-removal\"", "finding = \"deadlock\"");
    let entry = bad.join("e.toml");
    std::fs::write(&entry, lied).expect("write");
    let o = bin().arg("minimize").arg(&entry).output().expect("runs");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let saved: Vec<PathBuf> = entries(&dir).into_iter().filter(|p| *p != entry).collect();
    assert_eq!(saved.len(), 1, "{saved:?}");
    assert_eq!(saved[0].parent(), Some(bad.as_path()), "beside the entry");
    let name = saved[0]
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    assert!(name.starts_with("use-after-removal-"), "{name}");
    let body = std::fs::read_to_string(&saved[0]).expect("read");
    assert!(body.contains("finding = \"use-after-removal\""), "{body}");

    // Through a symlinked folder, --replace on the minimal entry itself
    // must keep it.
    let link = dir.join("link");
    std::os::unix::fs::symlink(&bad, &link).expect("symlink");
    let through = link.join(&name);
    let o = bin()
        .arg("minimize")
        .arg(&through)
        .arg("--replace")
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(saved[0].exists(), "the only copy survived");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn usage_errors_say_what_is_wrong() {
    let check = |args: &[&str], mention: &str| {
        let o = unplug(args);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(mention), "{args:?}: {err}");
        no_noise(&err);
    };
    check(&["fuzz"], "<SCHEME>");
    check(
        &["fuz", "unsynchronized"],
        "similar subcommand exists: 'fuzz'",
    );
    check(&["fuzz", "unsynchronised"], "did you mean 'unsynchronized'");
    check(
        &["compare", "--format", "xml"],
        "possible values: table, md, json",
    );
    check(
        &["fuzz", "unsynchronized", "--time", "18446744073709551615s"],
        "at most 1000h",
    );
    check(&["fuzz", "unsynchronized", "--workers", "65"], "1..=64");
    check(
        &["fuzz", "unsynchronized", "--step-budget", "0"],
        "--step-budget",
    );
    check(&["replay", "/nonexistent/entry.toml"], "No such file");
    let o = unplug(&["replay", "/nonexistent/entry.toml"]);
    assert_eq!(
        text(&o.stderr).matches("No such file").count(),
        1,
        "printed once"
    );
    // Bare `unplug` prints help.
    let o = unplug(&[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("Usage: unplug <COMMAND>"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn oversized_and_truncated_entries_are_rejected_with_a_reason() {
    let dir = scratch("sizes");
    let huge = dir.join("huge.toml");
    let mut body = String::from("format = 1\nscheme = \"unsynchronized\"\nchoices = [");
    body.push_str(&"1, ".repeat(800_000));
    body.push_str("1]\n");
    std::fs::write(&huge, body).expect("write");
    let o = bin().arg("replay").arg(&huge).output().expect("runs");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("larger than"),
        "{}",
        text(&o.stderr)
    );

    let good = std::fs::read_to_string(
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/unsynchronized"))
            .expect("corpus")
            .flatten()
            .next()
            .expect("an entry")
            .path(),
    )
    .expect("read");
    for cut in [good.len() / 4, good.len() / 2, good.len() - 3] {
        let path = dir.join("cut.toml");
        std::fs::write(&path, &good[..cut]).expect("write");
        let o = bin().arg("replay").arg(&path).output().expect("runs");
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        let reason = err.rsplit("not a valid corpus entry:").next().unwrap_or("");
        assert!(!reason.trim().is_empty(), "a reason: {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn reports_list_and_help_fit_100_columns() {
    let widest = |s: &str| s.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    let o = unplug(&["list"]);
    assert!(widest(&text(&o.stdout)) <= 100, "{}", text(&o.stdout));
    for sub in [
        "fuzz", "replay", "compare", "verify", "minimize", "import", "list",
    ] {
        let o = unplug(&[sub, "--help"]);
        assert!(
            widest(&text(&o.stdout)) <= 100,
            "{sub}: {}",
            text(&o.stdout)
        );
    }
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus");
    for entry in entries(&corpus) {
        let o = bin().arg("replay").arg(&entry).output().expect("runs");
        let out = text(&o.stdout);
        let body: String = out
            .lines()
            .filter(|l| !l.starts_with("Replay: "))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(widest(&body) <= 100, "{}:\n{out}", entry.display());
        let narrow = bin()
            .arg("replay")
            .arg(&entry)
            .env("COLUMNS", "80")
            .output()
            .expect("runs");
        let out = text(&narrow.stdout);
        let body: String = out
            .lines()
            .filter(|l| !l.starts_with("Replay: "))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(widest(&body) <= 80, "{}:\n{out}", entry.display());
    }
    // The largest workload's deadlock stays a screenful or two.
    let o = unplug(&[
        "fuzz",
        "nested-down-read",
        "--users",
        "12",
        "--ioctls",
        "64",
        "--devices",
        "4",
        "--remove-work",
        "64",
        "--stop-at-first",
        "--no-save",
    ]);
    let out = text(&o.stdout);
    assert!(out.lines().count() < 150, "{out}");
    assert!(out.contains("--full shows them"), "{out}");
}

#[test]
fn a_too_small_step_budget_says_so_and_saves_no_hang() {
    let dir = scratch("budget");
    let o = bin()
        .args([
            "fuzz",
            "srcu-single-drain",
            "--step-budget",
            "5",
            "--iterations",
            "50",
        ])
        .arg("--corpus")
        .arg(&dir)
        .output()
        .expect("runs");
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("no progress within 5 steps; raise --step-budget if the workload is large"),
        "{err}"
    );
    assert!(entries(&dir).is_empty(), "{:?}", entries(&dir));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Ctrl-C during `compare`: the running cell stops at its next execution,
/// no new cell starts, the command says how many cells completed and exits
/// 130 (interrupted before anything failed). The single cell's budget is
/// far beyond what runs before the signal.
#[test]
fn sigint_stops_compare_and_says_what_completed() {
    let mut child = bin()
        .args([
            "compare",
            "--schemes",
            "flag-under-write-lock",
            "--explorers",
            "random",
            "--iterations",
            "1000000000",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    std::thread::sleep(std::time::Duration::from_secs(2));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("read");
    let code = child.wait().expect("wait").code();
    assert_eq!(code, Some(130), "{err}");
    assert!(
        err.contains("compare interrupted: 0 of 1 cells complete"),
        "{err}"
    );
    no_noise(&err);
}

/// Send SIGINT to `child` after `after`, and collect its exit status and
/// standard error.
fn interrupt_after(
    mut child: std::process::Child,
    after: std::time::Duration,
) -> (Option<i32>, String) {
    std::thread::sleep(after);
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("read");
    (child.wait().expect("wait").code(), err)
}

/// Ctrl-C during a loom cell of `compare`: loom stops before its next
/// execution (the budget is far beyond what runs before the signal), and
/// the cell says it was interrupted and what it had shown by then.
#[test]
fn sigint_stops_a_loom_cell_of_compare_with_its_evidence() {
    let child = bin()
        .args([
            "compare",
            "--schemes",
            "srcu-pointer",
            "--explorers",
            "loom",
            "--loom-executions",
            "1000000000",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let (code, err) = interrupt_after(child, std::time::Duration::from_secs(2));
    assert_eq!(code, Some(130), "{err}");
    assert!(err.contains("srcu-pointer / loom interrupted: "), "{err}");
    // Bound 1 (176 executions) is usually complete by then; either way the
    // line states the evidence.
    assert!(
        err.contains("no finding at ≤") || err.contains("incomplete: interrupted"),
        "{err}"
    );
    assert!(
        err.contains("compare interrupted: 0 of 1 cells complete"),
        "{err}"
    );
    no_noise(&err);
}

/// Ctrl-C during `verify`: loom stops before its next execution, the
/// bounds explored and the evidence so far are printed, never a verdict.
#[test]
fn sigint_stops_verify_with_its_evidence() {
    let child = bin()
        .args(["verify", "srcu-pointer", "--executions", "1000000000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let (code, err) = interrupt_after(child, std::time::Duration::from_secs(2));
    assert_eq!(code, Some(130), "{err}");
    assert!(
        err.contains("bounds explored: 1 ("),
        "the bounds it explored: {err}"
    );
    assert!(err.contains("INCONCLUSIVE: interrupted"), "{err}");
    assert!(err.contains("verify interrupted"), "{err}");
    no_noise(&err);
}
