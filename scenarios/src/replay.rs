//! Corpus entries for the zoo: make them from findings, replay them.

use crate::schemes::{find, Scheme};
use crate::workload::Workload;
use harness::corpus::Entry;
use harness::engine::{run_single, Drive, EngineError, ExecConfig, ExecutionRecord, SingleRun};
use harness::finding::{strip_line_numbers, Finding};

/// A corpus entry of the zoo.
pub type CorpusEntry = Entry<Workload>;

/// Why an entry cannot be replayed.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The entry names a scheme this build does not have.
    #[error("unknown scheme '{0}' (see `unplug list`)")]
    UnknownScheme(String),
    /// The entry's workload is out of range.
    #[error("invalid workload: {0}")]
    Workload(String),
    /// The entry's schedule does not give its recorded finding (so there is
    /// nothing to minimise).
    #[error("the schedule does not reproduce its finding {0}")]
    DoesNotReproduce(String),
    /// The engine failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// Make a corpus entry for `finding`, found in `record`.
pub fn entry_for(
    scheme: &Scheme,
    workload: Workload,
    explorer: &str,
    seed: Option<u64>,
    record: &ExecutionRecord,
    finding: &Finding,
) -> CorpusEntry {
    Entry {
        format: harness::corpus::FORMAT,
        scheme: scheme.name.to_string(),
        finding: finding.kind,
        signature: finding.signature(),
        explorer: explorer.to_string(),
        seed,
        preemptions: record.preemptions,
        choices: record.schedule.clone(),
        workload,
    }
}

/// Look up the entry's scheme and check its workload.
pub fn scheme_of(entry: &CorpusEntry) -> Result<&'static Scheme, ReplayError> {
    let scheme =
        find(&entry.scheme).ok_or_else(|| ReplayError::UnknownScheme(entry.scheme.clone()))?;
    entry
        .workload
        .validate()
        .map_err(|e| ReplayError::Workload(e.to_string()))?;
    Ok(scheme)
}

/// Replay an entry's recorded choices.
pub fn replay_entry(entry: &CorpusEntry) -> Result<SingleRun, ReplayError> {
    let scheme = scheme_of(entry)?;
    let scenario = scheme.scenario(entry.workload.clone());
    Ok(run_single(
        &scenario,
        &Drive::Choices(entry.choices.clone()),
        ExecConfig::default(),
    )?)
}

/// Whether a replay reproduced the entry: the same finding (kind, objects
/// and source files, line numbers aside), on a schedule that never diverged
/// from the recording.
pub fn reproduces(entry: &CorpusEntry, run: &SingleRun) -> bool {
    let expected = strip_line_numbers(&entry.signature);
    run.diverged_at.is_none()
        && run
            .record
            .findings
            .iter()
            .any(|f| f.stable_signature() == expected)
}
