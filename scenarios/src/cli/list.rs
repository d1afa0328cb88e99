//! `unplug list`.

use super::Status;
use anyhow::Result;
use scenarios::verdict::{expected_words, Model};

/// Print one line per scheme: name, expected verdicts (kind and object),
/// summary.
pub fn run() -> Result<Status> {
    let rows: Vec<[String; 4]> = scenarios::ALL
        .iter()
        .map(|s| {
            [
                s.name.to_string(),
                expected_words(&s.expected, Model::Sc),
                expected_words(&s.expected, Model::C11),
                s.summary.to_string(),
            ]
        })
        .collect();
    let head = ["SCHEME", "EXPECTED (SC)", "EXPECTED (C11)", "SUMMARY"].map(String::from);
    let width = |i: usize| {
        rows.iter()
            .chain([&head])
            .map(|r| r[i].chars().count())
            .max()
            .unwrap_or(0)
    };
    let (a, b, c) = (width(0), width(1), width(2));
    for r in std::iter::once(&head).chain(&rows) {
        println!("{:<a$}  {:<b$}  {:<c$}  {}", r[0], r[1], r[2], r[3]);
    }
    Ok(Status::Clean)
}
