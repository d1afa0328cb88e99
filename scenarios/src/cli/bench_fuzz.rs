//! The cargo fuzz contender of `unplug bench`: libFuzzer over the byte
//! schedules of the `fuzz/` crate's targets, run out of process as
//! `fuzz/bench.sh` runs it (stable Rust: `-s none`, no sanitizer), one fresh
//! corpus and `-seed=S` per seed.
//!
//! A fuzz target stops at its first finding of any kind (it aborts the
//! process so that libFuzzer saves the input). The crashing input is
//! replayed through the harness: a seed counts as a hit only if that input
//! is a use-after-removal, like every other row of the bench.

use crate::fuzz::run_input;
use crate::FuzzTarget;
use harness::finding::FindingKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What one libFuzzer run gave.
#[derive(Clone, Debug)]
pub(super) enum FuzzRun {
    /// The first crash is a use-after-removal: executions and seconds.
    Hit(u64, f64),
    /// The first crash is another finding.
    Other(FindingKind),
    /// No crash within the time given.
    Miss,
}

/// Why the cargo fuzz row was not measured.
#[derive(Debug, thiserror::Error)]
pub(super) enum Skipped {
    /// `cargo fuzz --version` failed.
    #[error("cargo-fuzz is not installed (`bash fuzz/bench.sh` installs and measures it)")]
    NotInstalled,
    /// The `fuzz/` crate is not beside the `scenarios/` crate this binary was
    /// built from.
    #[error("no fuzz/ crate at {0}")]
    NoFuzzCrate(PathBuf),
    /// `cargo fuzz build` failed.
    #[error("`cargo fuzz build -s none` failed in {0}")]
    BuildFailed(PathBuf),
    /// `--quick` found no fuzz binaries to run.
    #[error("--quick does not build the fuzz crate: run `cargo fuzz build -s none` in {0} first")]
    NotBuilt(PathBuf),
    /// The host triple (where cargo fuzz puts its binaries) is unknown.
    #[error("`rustc -vV` gave no host triple")]
    NoHost,
}

/// The `fuzz/` crate next to the `scenarios/` crate.
fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// Build the targets and return the directory of their binaries. With
/// `prebuilt`, do not build (a first build of the fuzz crate takes minutes):
/// use the binaries already there.
pub(super) fn build(prebuilt: bool) -> Result<PathBuf, Skipped> {
    let installed = Command::new("cargo")
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !installed {
        return Err(Skipped::NotInstalled);
    }
    let dir = fuzz_dir();
    if !dir.join("Cargo.toml").is_file() {
        return Err(Skipped::NoFuzzCrate(dir));
    }
    let built = prebuilt
        || Command::new("cargo")
            .args(["fuzz", "build", "-s", "none", "--no-trace-compares"])
            .current_dir(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    if !built {
        return Err(Skipped::BuildFailed(dir));
    }
    let host = Command::new("rustc")
        .arg("-vV")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        })
        .ok_or(Skipped::NoHost)?;
    let bin = dir.join("target").join(host).join("release");
    if prebuilt && !bin.join("srcu_single_drain_hard").is_file() {
        return Err(Skipped::NotBuilt(dir));
    }
    Ok(bin)
}

/// Run target `target` (binary in `bin`) with libFuzzer seed `seed` for at
/// most `time`, in a fresh temporary corpus.
pub(super) fn run(bin: &Path, target: &FuzzTarget, seed: u64, time: Duration) -> FuzzRun {
    let work = std::env::temp_dir().join(format!(
        "unplug-bench-fuzz-{}-{}-{seed}",
        std::process::id(),
        target.name
    ));
    let result = run_in(&work, bin, target, seed, time);
    let _ = std::fs::remove_dir_all(&work);
    result
}

fn run_in(work: &Path, bin: &Path, target: &FuzzTarget, seed: u64, time: Duration) -> FuzzRun {
    let corpus = work.join("corpus");
    let artifacts = work.join("artifacts");
    if std::fs::create_dir_all(&corpus).is_err() || std::fs::create_dir_all(&artifacts).is_err() {
        return FuzzRun::Miss;
    }
    let started = Instant::now();
    // One byte is one decision: inputs as long as a schedule from the start
    // (see fuzz/bench.sh).
    let output = Command::new(bin.join(&target.name))
        .arg("-len_control=0")
        .arg("-max_len=512")
        .arg(format!("-seed={seed}"))
        .arg(format!("-max_total_time={}", time.as_secs().max(1)))
        .arg("-print_final_stats=1")
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .arg(&corpus)
        .stdin(Stdio::null())
        .output();
    let seconds = started.elapsed().as_secs_f64();
    let Ok(output) = output else {
        return FuzzRun::Miss;
    };
    let log = String::from_utf8_lossy(&output.stderr);
    let executions = log
        .lines()
        .rev()
        .filter_map(|l| l.strip_prefix("stat::number_of_executed_units:"))
        .find_map(|v| v.trim().parse::<u64>().ok());
    let crash = std::fs::read_dir(&artifacts).ok().and_then(|entries| {
        entries.flatten().map(|e| e.path()).find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("crash-"))
        })
    });
    let Some(crash) = crash else {
        return FuzzRun::Miss;
    };
    let Ok(bytes) = std::fs::read(&crash) else {
        return FuzzRun::Miss;
    };
    match run_input(target, &bytes) {
        Ok(run) => match run.record.worst().map(|f| f.kind) {
            Some(FindingKind::UseAfterRemoval) => FuzzRun::Hit(executions.unwrap_or(0), seconds),
            Some(kind) => FuzzRun::Other(kind),
            None => FuzzRun::Miss,
        },
        Err(_) => FuzzRun::Miss,
    }
}
