//! `unplug list`.

use super::{emit, terminal_width, wrap, Status};
use anyhow::Result;

fn verdict(v: Option<harness::finding::FindingKind>) -> String {
    v.map_or_else(|| "clean".to_string(), |k| k.to_string())
}

/// Print one line per scheme (name, expected verdicts), its summary
/// wrapped below it to the terminal's width.
pub fn run() -> Result<Status> {
    let width = terminal_width();
    let mut text = format!(
        "{:<24} {:<18} {}\n",
        "SCHEME", "EXPECTED (SC)", "EXPECTED (C11)"
    );
    for s in scenarios::ALL {
        text.push_str(&format!(
            "{:<24} {:<18} {}\n",
            s.name,
            verdict(s.expected.sc),
            verdict(s.expected.c11)
        ));
        for line in wrap(s.summary, width.saturating_sub(4)) {
            text.push_str(&format!("    {line}\n"));
        }
    }
    if !emit(text.trim_end())? {
        return Ok(Status::Clean);
    }
    Ok(Status::Clean)
}
