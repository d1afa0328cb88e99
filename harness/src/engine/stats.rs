//! What executions and runs found: execution records, per-run statistics,
//! and the severity order verdicts are taken in.

use super::Explorer;
use crate::finding::{Finding, FindingKind};
use crate::trace::short_site;
use crate::world;
use std::collections::BTreeMap;
use std::time::Duration;

/// One event of a finished execution, rendered for reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedEvent {
    /// Index of the task that performed it.
    pub task: usize,
    /// `down_read(&cxl_memdev_rwsem)`, `read(mem0.kobj.state_in_sysfs) = true`.
    pub text: String,
    /// Short `file:line`.
    pub site: String,
    /// Bookkeeping only.
    pub minor: bool,
    /// The name of the object, cell or primitive the event acted on
    /// (`mem0.cxlm`), empty for none: what interleaving feedback pairs
    /// accesses by, whatever the text's wording.
    pub target: String,
}

/// Everything about one execution that a report, a corpus entry or a
/// replay check needs.
#[derive(Clone, Debug)]
pub struct ExecutionRecord {
    /// The seed the scheduler was started with.
    pub seed: u64,
    /// Index of the execution within its run.
    pub index: u64,
    /// What it found, in the order found.
    pub findings: Vec<Finding>,
    /// Task names by id.
    pub tasks: Vec<String>,
    /// The trace.
    pub events: Vec<RenderedEvent>,
    /// The task chosen at each decision that had a real choice.
    pub schedule: Vec<u8>,
    /// The same decisions as fuzzer bytes: the index of the chosen task among
    /// the enabled ones (ascending ids). `Drive::Bytes(byte_schedule)`
    /// replays this execution, which is how corpus entries become seeds for
    /// `cargo fuzz`.
    pub byte_schedule: Vec<u8>,
    /// Decisions that switched away from a task that could have continued.
    pub preemptions: u32,
    /// All scheduling decisions taken.
    pub steps: u64,
    /// The explorer that replays this execution from [`Self::seed`] when it
    /// is not the run's: the portfolio member that ran it.
    pub replay_explorer: Option<Explorer>,
}

impl ExecutionRecord {
    /// The explorer that replays this execution from its seed: the one
    /// that ran it inside `run_explorer` (a portfolio's member), or
    /// `run_explorer` itself.
    pub fn replayed_by<'a>(&'a self, run_explorer: &'a Explorer) -> &'a Explorer {
        self.replay_explorer.as_ref().unwrap_or(run_explorer)
    }

    /// The most severe finding, if any.
    pub fn worst(&self) -> Option<&Finding> {
        self.findings.iter().min_by_key(|f| severity(f.kind))
    }
}

/// Rank of a finding kind for verdicts: lower is more severe. A double free
/// ranks just below a use-after-removal (see [`FindingKind::DoubleFree`]);
/// a lock held at exit below every fatal finding but a leak: it is what a
/// deadlock it causes starts from, so the deadlock (found in the same
/// execution) is the verdict, and a lock leaked stops more of the system
/// than memory leaked.
pub fn severity(kind: FindingKind) -> u8 {
    match kind {
        FindingKind::UseAfterRemoval => 0,
        FindingKind::DoubleFree => 1,
        FindingKind::Deadlock => 2,
        FindingKind::Hang => 3,
        FindingKind::Assertion => 4,
        FindingKind::Invariant => 5,
        FindingKind::LockHeldAtExit => 6,
        FindingKind::Leak => 7,
        FindingKind::DataRace => 8,
    }
}

/// The first occurrence of a finding kind in a run.
#[derive(Clone, Copy, Debug)]
pub struct FirstHit {
    /// Executions run (of this shard, or of every worker sharing
    /// [`Hooks::executions`](super::Hooks::executions)) up to and including the one that found it.
    pub executions: u64,
    /// Wall time from the start of the run.
    pub elapsed: Duration,
}

/// What a run found.
#[derive(Clone, Debug, Default)]
pub struct RunStats {
    /// Executions completed.
    pub executions: u64,
    /// Wall time spent.
    pub elapsed: Duration,
    /// First hit per finding kind.
    pub first: BTreeMap<FindingKind, FirstHit>,
    /// The first execution per distinct finding signature, in order found.
    pub distinct: Vec<(String, ExecutionRecord)>,
}

impl RunStats {
    /// Merge another shard's stats (workers run in parallel: the elapsed
    /// time is the longest, first hits keep the earliest in time).
    pub fn merge(&mut self, other: RunStats) {
        self.executions += other.executions;
        self.elapsed = self.elapsed.max(other.elapsed);
        for (k, hit) in other.first {
            let e = self.first.entry(k).or_insert(hit);
            if hit.elapsed < e.elapsed {
                *e = hit;
            }
        }
        for (sig, rec) in other.distinct {
            if !self.distinct.iter().any(|(s, _)| *s == sig) {
                self.distinct.push((sig, rec));
            }
        }
    }

    /// The most severe kind found.
    pub fn verdict(&self) -> Option<FindingKind> {
        self.first.keys().copied().min_by_key(|k| severity(*k))
    }

    /// Executions per second.
    pub fn rate(&self) -> f64 {
        self.executions as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// The world's execution as a record, without the schedule that drove it
/// (the loom backend has none to give: loom finds its executions again by
/// itself); `steps` counts the trace's events.
pub(crate) fn record_of(w: &world::World, seed: u64, index: u64) -> ExecutionRecord {
    let events = w
        .trace()
        .iter()
        .map(|ev| RenderedEvent {
            task: ev.task,
            text: w.event_text(ev),
            site: short_site(ev.site),
            minor: ev.minor,
            target: w.target_name(ev.target).into_owned(),
        })
        .collect();
    ExecutionRecord {
        seed,
        index,
        findings: w.findings().to_vec(),
        tasks: (0..w.task_count())
            .map(|t| w.task_name(t).to_string())
            .collect(),
        events,
        schedule: Vec::new(),
        byte_schedule: Vec::new(),
        preemptions: 0,
        steps: w.trace().len() as u64,
        replay_explorer: None,
    }
}
