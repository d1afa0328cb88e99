//! `unplug list`.

use super::{emit, terminal_width, wrap, Status};
use anyhow::Result;
use scenarios::verdict::{expected_words, Model};

/// Print one line per scheme (name, expected verdict: kind and object,
/// once when both memory models expect the same), its summary wrapped below
/// it to the terminal's width.
pub fn run() -> Result<Status> {
    let width = terminal_width();
    let name_width = scenarios::ALL
        .iter()
        .map(|s| s.name.chars().count())
        .max()
        .unwrap_or(0)
        .max("SCHEME".len());
    let mut text = format!(
        "{:<name_width$}  EXPECTED (SC and C11, or each)\n",
        "SCHEME"
    );
    for s in scenarios::ALL {
        let sc = expected_words(&s.expected, Model::Sc);
        let c11 = expected_words(&s.expected, Model::C11);
        let expected = if sc == c11 {
            sc
        } else {
            format!("SC: {sc}; C11: {c11}")
        };
        let lines = wrap(&expected, width.saturating_sub(name_width + 2).max(20));
        for (i, line) in lines.iter().enumerate() {
            let name = if i == 0 { s.name } else { "" };
            text.push_str(&format!("{name:<name_width$}  {line}\n"));
        }
        for line in wrap(s.summary, width.saturating_sub(4)) {
            text.push_str(&format!("    {line}\n"));
        }
    }
    if !emit(text.trim_end())? {
        return Ok(Status::Clean);
    }
    Ok(Status::Clean)
}
