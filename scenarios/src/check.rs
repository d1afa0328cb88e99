//! What a scheme table's tests check, as functions a test calls: every
//! corpus entry replays to its finding, every buggy scheme has an entry (or
//! the test prints the command that makes one), every scheme reaches its
//! declared verdict. The zoo's tests and a driver author's crate use the
//! same checks.

use crate::replay::{replay_entry, reproduces, CorpusEntry};
use crate::schemes::Scheme;
use crate::verdict::{expected_words, judge, Judgement, Model, Verdict};
use harness::corpus::{entry_paths, CorpusError};
use harness::engine::{explore, Explorer, RunConfig};
use harness::finding::FindingKind;
use std::path::Path;

/// Every entry under `corpus`: the ones that do not reproduce their recorded
/// finding (or cannot be read or replayed), one line each. `Ok` with the
/// number of entries replayed when all reproduce.
pub fn corpus_failures(corpus: &Path) -> Result<(usize, Vec<String>), CorpusError> {
    let paths = entry_paths(corpus)?;
    let mut failures = Vec::new();
    for path in &paths {
        let entry = match CorpusEntry::load(path) {
            Ok(entry) => entry,
            Err(e) => {
                failures.push(e.to_string());
                continue;
            }
        };
        match replay_entry(&entry) {
            Ok(run) if reproduces(&entry, &run) => {}
            Ok(run) => failures.push(format!(
                "{}: expected {} ({}); replay found {:?}, diverged at {:?}",
                path.display(),
                entry.finding,
                entry.signature,
                run.record
                    .findings
                    .iter()
                    .map(|f| f.signature())
                    .collect::<Vec<_>>(),
                run.diverged_at
            )),
            Err(e) => failures.push(format!("{}: {e}", path.display())),
        }
    }
    Ok((paths.len(), failures))
}

/// The schemes among `schemes` with an expected SC finding but no corpus
/// entry of that kind under `corpus`, each with the commands of `program`
/// (the CLI binary's name) that make and shrink one.
pub fn missing_corpus_entries<'a>(
    corpus: &Path,
    schemes: impl IntoIterator<Item = &'a Scheme>,
    program: &str,
) -> Result<Vec<String>, CorpusError> {
    let entries = entry_paths(corpus)?
        .iter()
        .map(|p| CorpusEntry::load(p))
        .collect::<Result<Vec<_>, _>>()?;
    let dir = corpus.display();
    Ok(schemes
        .into_iter()
        .filter_map(|s| {
            let kind = s.expected.sc?;
            if entries
                .iter()
                .any(|e| e.scheme == s.name && e.finding == kind)
            {
                return None;
            }
            Some(format!(
                "no corpus entry for {name} ({kind}); make one with\n    \
                 {program} fuzz {name} --stop-at-first --corpus {dir}\n  \
                 then shrink it with\n    \
                 {program} minimize {dir}/{name}/{kind}-<hash>.toml --replace",
                name = s.name
            ))
        })
        .collect())
}

/// Explore each of `schemes` with its default workload under the default
/// explorer and hold the verdict against its declared SC expectation: a
/// scheme expecting a fatal finding on base seeds `0..seeds`, each within
/// `budget` executions; any other on seed 0 with `budget`. Returns the
/// mismatches, one line each.
pub fn verdict_mismatches<'a>(
    schemes: impl IntoIterator<Item = &'a Scheme>,
    seeds: u64,
    budget: u64,
) -> Vec<String> {
    let explorer = Explorer::Portfolio;
    let mut wrong = Vec::new();
    for scheme in schemes {
        let fatal = scheme.expected.sc.is_some_and(FindingKind::is_fatal);
        let seeds = if fatal { 0..seeds } else { 0..1 };
        for seed in seeds {
            let cfg = RunConfig::until_first_fatal(explorer.clone(), seed, budget);
            let stats = match explore(
                &scheme.scenario(scheme.default_workload.clone()),
                &cfg,
                None,
            ) {
                Ok(stats) => stats,
                Err(e) => {
                    wrong.push(format!("{} seed {seed}: {e}", scheme.name));
                    continue;
                }
            };
            let v = Verdict::from_run(&stats, &explorer.name(), seed, false, |s| {
                format!("seed {s:#x}")
            });
            if judge(&v, scheme) != Judgement::Match {
                wrong.push(format!(
                    "{} seed {seed}: expected {}, {v}",
                    scheme.name,
                    expected_words(&scheme.expected, Model::Sc)
                ));
            }
        }
    }
    wrong
}
