//! Running a litmus test under both backends and comparing with LKMM.

use super::{Litmus, Lkmm};
use harness::engine::{explore, Budget, ExecConfig, Explorer, RunConfig, StopPolicy};
use harness::exhaustive::{explore_exhaustive, ExhaustiveConfig};
use harness::finding::FindingKind;
use std::fmt::Write;

/// How much exploration each test gets.
#[derive(Clone, Copy, Debug)]
pub struct LitmusBudget {
    /// Executions per SC explorer (random, then PCT).
    pub sc_executions: u64,
    /// The base seed of the SC explorers.
    pub seed: u64,
    /// Loom's preemption bound.
    pub loom_bound: usize,
}

impl Default for LitmusBudget {
    fn default() -> Self {
        LitmusBudget {
            sc_executions: 2_000,
            seed: 1,
            loom_bound: harness::exhaustive::DEFAULT_PREEMPTION_BOUND,
        }
    }
}

/// What one backend gave a test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The `exists` outcome was observed.
    Reached {
        /// Which explorer, after how many executions.
        how: String,
    },
    /// Not observed in an exploration that covered everything it set out
    /// to (loom: every execution within the bound).
    NotReached {
        /// Executions explored.
        executions: u64,
    },
    /// The backend cannot produce this outcome by construction; it was
    /// explored anyway and not observed.
    NotExplorable {
        /// Why.
        reason: &'static str,
        /// Executions explored.
        executions: u64,
    },
    /// The exploration ended on something else than the `exists` check (a
    /// finding of another kind, an incomplete run, an error).
    Failed(String),
}

impl Outcome {
    /// Whether the outcome was observed.
    pub fn reached(&self) -> bool {
        matches!(self, Outcome::Reached { .. })
    }

    /// The table cell.
    pub fn cell(&self) -> String {
        match self {
            Outcome::Reached { .. } => "Sometimes".into(),
            Outcome::NotReached { .. } => "Never".into(),
            Outcome::NotExplorable { .. } => "not explorable by this backend".into(),
            Outcome::Failed(e) => format!("error: {e}"),
        }
    }
}

/// Whether the backends agree with LKMM on a test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Agreement {
    /// Every backend that can produce the outcome agrees with LKMM.
    Agree,
    /// No backend can produce the outcome (LKMM says `Sometimes`, or says
    /// `Never` and no backend could have shown otherwise).
    Unexplorable,
    /// A disagreement declared in the test's data, with its reason.
    Declared(&'static str),
    /// A disagreement nobody declared: a bug in the model or the suite.
    Undeclared(String),
}

impl Agreement {
    /// The table cell.
    pub fn cell(&self) -> &'static str {
        match self {
            Agreement::Agree => "yes",
            Agreement::Unexplorable => "n/a",
            Agreement::Declared(_) => "no (explained)",
            Agreement::Undeclared(_) => "NO (unexplained)",
        }
    }
}

/// One row of the conformance table.
#[derive(Clone)]
pub struct Row {
    /// The test.
    pub test: &'static Litmus,
    /// The SC explorers (sequential consistency).
    pub sc: Outcome,
    /// Loom (C11, bounded-exhaustive).
    pub loom: Outcome,
    /// The verdict.
    pub agreement: Agreement,
}

const SC_LIMIT: &str =
    "sequential consistency produces no weak behaviour: the outcome is not SC-reachable";

/// Run `test` under the SC explorers and loom.
pub fn run(test: &'static Litmus, budget: &LitmusBudget) -> Row {
    let sc = run_sc(test, budget);
    let loom = run_loom(test, budget);
    let agreement = agree(test, &sc, &loom);
    Row {
        test,
        sc,
        loom,
        agreement,
    }
}

fn run_sc(test: &Litmus, budget: &LitmusBudget) -> Outcome {
    let scenario = test.scheme.scenario(test.scheme.default_workload.clone());
    let mut executions = 0;
    for explorer in [Explorer::Random, Explorer::Pct { depth: None }] {
        let run = RunConfig {
            explorer: explorer.clone(),
            seed: budget.seed,
            budget: Budget {
                iterations: Some(budget.sc_executions),
                time: None,
            },
            exec: ExecConfig::default(),
            stop: StopPolicy::FirstFatal,
            shard: (0, 1),
        };
        let stats = match explore(&scenario, &run, None) {
            Ok(s) => s,
            Err(e) => return Outcome::Failed(e.to_string()),
        };
        executions += stats.executions;
        if let Some(hit) = stats.first.get(&FindingKind::Assertion) {
            return Outcome::Reached {
                how: format!("{explorer} after {} executions", hit.executions),
            };
        }
        if let Some(kind) = stats.verdict() {
            return Outcome::Failed(format!("{kind} under {explorer}"));
        }
    }
    Outcome::NotExplorable {
        reason: SC_LIMIT,
        executions,
    }
}

fn run_loom(test: &Litmus, budget: &LitmusBudget) -> Outcome {
    let scenario = test.scheme.scenario(test.scheme.default_workload.clone());
    let config = ExhaustiveConfig {
        preemption_bound: test.scheme.loom_bound.unwrap_or(budget.loom_bound),
        ..ExhaustiveConfig::default()
    };
    let run = match explore_exhaustive(&scenario, &config) {
        Ok(r) => r,
        Err(e) => return Outcome::Failed(e.to_string()),
    };
    match run.verdict() {
        Some(FindingKind::Assertion) => Outcome::Reached {
            how: format!("loom after {} executions", run.executions),
        },
        Some(kind) => Outcome::Failed(kind.to_string()),
        None if !run.complete => Outcome::Failed("loom run incomplete".into()),
        None => match test.loom_unexplorable() {
            Some(reason) => Outcome::NotExplorable {
                reason,
                executions: run.executions,
            },
            None => Outcome::NotReached {
                executions: run.executions,
            },
        },
    }
}

fn agree(test: &Litmus, sc: &Outcome, loom: &Outcome) -> Agreement {
    let failed = [sc, loom].into_iter().find_map(|o| match o {
        Outcome::Failed(e) => Some(e.clone()),
        _ => None,
    });
    if let Some(e) = failed {
        return Agreement::Undeclared(e);
    }
    let disagreement = match test.lkmm {
        Lkmm::Never => (sc.reached() || loom.reached())
            .then(|| "LKMM forbids the outcome, a backend reached it".to_string()),
        Lkmm::Sometimes => matches!(loom, Outcome::NotReached { .. })
            .then(|| "LKMM allows the outcome, loom could produce it but did not".to_string()),
    };
    match (disagreement, test.divergence) {
        (Some(_), Some(reason)) => Agreement::Declared(reason),
        (Some(d), None) => Agreement::Undeclared(d),
        (None, Some(reason)) => Agreement::Undeclared(format!(
            "a divergence is declared but the backends agree with LKMM: {reason}"
        )),
        (None, None) => {
            let explorable =
                sc.reached() || loom.reached() || matches!(loom, Outcome::NotReached { .. });
            if explorable {
                Agreement::Agree
            } else {
                Agreement::Unexplorable
            }
        }
    }
}

/// The table's note for a row: why a backend cannot explore the outcome,
/// or why a backend disagrees.
pub fn note(row: &Row) -> String {
    let mut notes = Vec::new();
    if let Some(r) = row.test.load_buffering {
        notes.push(format!("LB-shaped: {r}"));
    } else if let Some(r) = row.test.loom_limit {
        notes.push(format!("loom: {r}"));
    }
    match &row.agreement {
        Agreement::Declared(r) => notes.push(format!("divergence: {r}")),
        Agreement::Undeclared(r) => notes.push(format!("UNEXPLAINED: {r}")),
        _ => {}
    }
    notes.join("; ")
}

/// The table as aligned text.
pub fn render_text(rows: &[Row]) -> String {
    let width = rows
        .iter()
        .map(|r| r.test.name().len())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<width$}  {:<9}  {:<30}  {:<30}  {:<16}  NOTE",
        "TEST", "LKMM", "SC EXPLORERS", "LOOM (C11)", "AGREE"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "{:<width$}  {:<9}  {:<30}  {:<30}  {:<16}  {}",
            r.test.name(),
            r.test.lkmm.name(),
            r.sc.cell(),
            r.loom.cell(),
            r.agreement.cell(),
            note(r)
        );
    }
    out
}

/// The table as Markdown (the README's).
pub fn render_markdown(rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| test | LKMM | SC explorers | loom (C11) | agree? | note |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|");
    for r in rows {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} |",
            r.test.name(),
            r.test.lkmm.name(),
            r.sc.cell(),
            r.loom.cell(),
            r.agreement.cell(),
            note(r)
        );
    }
    out
}
