//! Seed the cargo fuzz corpora from the failing schedules in `corpus/`.
//!
//! ```text
//! cargo run --release -p unplug --example fuzz_seeds [CORPUS_DIR] [OUT_DIR]
//! ```
//!
//! Defaults: `corpus` and `fuzz/corpus`. Writes `OUT_DIR/<target>/seed-<hash>`,
//! one raw schedule per entry whose workload a fuzz target runs. Exit 0 on
//! success (also when there is no corpus yet), 2 on bad input.

use std::path::PathBuf;
use std::process::ExitCode;
use unplug::fuzz::write_seeds;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let corpus = args
        .next()
        .map_or_else(|| PathBuf::from("corpus"), PathBuf::from);
    let out = args
        .next()
        .map_or_else(|| PathBuf::from("fuzz/corpus"), PathBuf::from);
    if !corpus.is_dir() {
        println!(
            "no corpus directory at {}: no seeds written",
            corpus.display()
        );
        return ExitCode::SUCCESS;
    }
    match write_seeds(&corpus, &out) {
        Ok(summary) => {
            for (path, why) in &summary.skipped {
                println!("skipped {}: {why}", path.display());
            }
            println!(
                "{} seed(s) written under {}",
                summary.written.len(),
                out.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
