//! Turn a libFuzzer artifact into a minimised corpus entry.
//!
//! ```text
//! cargo run --release -p unplug --example fuzz_import -- fuzz/artifacts/<target>/crash-… [CORPUS_DIR]
//! ```
//!
//! The target (hence scheme and workload) comes from the artifact's
//! directory. The schedule is replayed, its most severe finding kept,
//! minimised to the fewest preemptions, and saved as
//! `CORPUS_DIR/<scheme>/<finding>-<hash>.toml` (default `corpus`), which
//! `cargo test` replays from then on. Exit 0 when saved, 1 when the artifact
//! finds nothing, 2 on bad input.

use scenarios::fuzz::import_artifact;
use scenarios::minimize;
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let Some(artifact) = args.next().map(PathBuf::from) else {
        eprintln!("usage: fuzz_import ARTIFACT [CORPUS_DIR]");
        return ExitCode::from(2);
    };
    let corpus = args
        .next()
        .map_or_else(|| PathBuf::from("corpus"), PathBuf::from);
    let entry = match import_artifact(&artifact) {
        Ok(Some(entry)) => entry,
        Ok(None) => {
            println!("{}: the schedule finds nothing", artifact.display());
            return ExitCode::from(1);
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let minimized = match minimize(&entry) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let path = minimized.default_path(&corpus);
    if let Err(e) = minimized.save(&path) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    println!(
        "{}: {} ({} preemptions, {} choices; the artifact had {} and {})",
        path.display(),
        minimized.signature,
        minimized.preemptions,
        minimized.choices.len(),
        entry.preemptions,
        entry.choices.len()
    );
    ExitCode::SUCCESS
}
