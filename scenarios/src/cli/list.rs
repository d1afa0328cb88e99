//! `unplug list`.

use super::Status;
use anyhow::Result;

fn verdict(v: Option<harness::finding::FindingKind>) -> String {
    v.map_or_else(|| "clean".to_string(), |k| k.to_string())
}

/// Print one line per scheme: name, expected verdicts, summary.
pub fn run() -> Result<Status> {
    println!(
        "{:<26} {:<19} {:<19} SUMMARY",
        "SCHEME", "EXPECTED (SC)", "EXPECTED (C11)"
    );
    for s in scenarios::ALL {
        println!(
            "{:<26} {:<19} {:<19} {}",
            s.name,
            verdict(s.expected.sc),
            verdict(s.expected.c11),
            s.summary
        );
    }
    Ok(Status::Clean)
}
