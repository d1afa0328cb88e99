//! Bounded-exhaustive verdicts: a scheme of the zoo under `loom::model`
//! with a preemption bound, under the C11 memory model.
//!
//! The scheme's code is the same code the shuttle explorers run; only the
//! runtime underneath differs (see [`harness::runtime`]). A clean outcome
//! with `complete` set is a proof that no execution within the bound finds
//! anything; a finding comes with the trace of the execution that found it.

use crate::schemes::Scheme;
use crate::workload::Workload;
use harness::engine::ExecutionRecord;
use harness::exhaustive::{explore_exhaustive, ExhaustiveConfig, ExhaustiveError};
use harness::finding::{Finding, FindingKind};
use harness::runtime::MAX_LOOM_TASKS;
use std::time::Duration;

/// The most users a workload may have under loom: loom's thread limit less
/// the init and removal tasks.
pub const MAX_LOOM_USERS: u32 = (MAX_LOOM_TASKS - 2) as u32;

/// The outcome of [`verify`].
#[derive(Clone, Debug)]
pub struct VerifyOutcome {
    /// The most severe finding kind reached; `None` is clean.
    pub verdict: Option<FindingKind>,
    /// The first finding of that kind.
    pub finding: Option<Finding>,
    /// The execution that found it: its trace is the replayable
    /// description (loom's exploration is deterministic, so `verify` with
    /// the same scheme, workload and bound finds it again).
    pub record: Option<ExecutionRecord>,
    /// Executions loom explored.
    pub executions: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// The preemption bound.
    pub bound: usize,
    /// Whether every execution within the bound was explored (false when a
    /// fatal finding or the time budget ended the run first).
    pub complete: bool,
}

/// Why a scheme could not be verified.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The workload's knobs are out of range.
    #[error("invalid workload: {0}")]
    Workload(String),
    /// Too many users for loom's thread limit.
    #[error("the loom backend models at most {max} users (loom runs at most {threads} threads: init, the users and remove), got {got}")]
    TooManyUsers {
        /// Users requested.
        got: u32,
        /// [`MAX_LOOM_USERS`].
        max: u32,
        /// Loom's thread limit.
        threads: usize,
    },
    /// The exploration failed.
    #[error(transparent)]
    Exhaustive(#[from] ExhaustiveError),
}

/// Explore every execution of `scheme` under `workload` with at most
/// `preemptions` preemptions each.
pub fn verify(
    scheme: &Scheme,
    workload: Workload,
    preemptions: usize,
) -> Result<VerifyOutcome, VerifyError> {
    verify_with(
        scheme,
        workload,
        &ExhaustiveConfig {
            preemption_bound: preemptions,
            ..ExhaustiveConfig::default()
        },
    )
}

/// [`verify`] with every setting of the exploration.
pub fn verify_with(
    scheme: &Scheme,
    workload: Workload,
    config: &ExhaustiveConfig,
) -> Result<VerifyOutcome, VerifyError> {
    workload.validate().map_err(VerifyError::Workload)?;
    if scheme.uses_workload() && workload.users > MAX_LOOM_USERS {
        return Err(VerifyError::TooManyUsers {
            got: workload.users,
            max: MAX_LOOM_USERS,
            threads: MAX_LOOM_TASKS,
        });
    }
    let run = explore_exhaustive(&scheme.scenario(workload), config)?;
    let worst = run.worst().map(|(f, r)| (f.clone(), r.clone()));
    Ok(VerifyOutcome {
        verdict: run.verdict(),
        finding: worst.as_ref().map(|(f, _)| f.clone()),
        record: worst.map(|(_, r)| r),
        executions: run.executions,
        elapsed: run.elapsed,
        bound: run.preemption_bound,
        complete: run.complete,
    })
}
