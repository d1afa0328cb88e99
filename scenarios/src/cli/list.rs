//! `unplug list`.

use super::{emit, terminal_width, wrap, Status};
use anyhow::Result;
use scenarios::verdict::{expected_words, Model};

/// Print one line per scheme (name, expected verdicts: kind and object),
/// its summary wrapped below it to the terminal's width.
pub fn run() -> Result<Status> {
    let width = terminal_width();
    let rows: Vec<[String; 3]> = scenarios::ALL
        .iter()
        .map(|s| {
            [
                s.name.to_string(),
                expected_words(&s.expected, Model::Sc),
                expected_words(&s.expected, Model::C11),
            ]
        })
        .collect();
    let head = ["SCHEME", "EXPECTED (SC)", "EXPECTED (C11)"].map(String::from);
    let col = |i: usize| {
        rows.iter()
            .chain([&head])
            .map(|r| r[i].chars().count())
            .max()
            .unwrap_or(0)
    };
    let (a, b) = (col(0), col(1));
    let mut text = format!("{:<a$}  {:<b$}  {}\n", head[0], head[1], head[2]);
    for (r, s) in rows.iter().zip(scenarios::ALL) {
        text.push_str(&format!("{:<a$}  {:<b$}  {}\n", r[0], r[1], r[2]));
        for line in wrap(s.summary, width.saturating_sub(4)) {
            text.push_str(&format!("    {line}\n"));
        }
    }
    if !emit(text.trim_end())? {
        return Ok(Status::Clean);
    }
    Ok(Status::Clean)
}
