//! Verdicts that carry their evidence.
//!
//! A verdict is what exploration showed about a scheme, with what it takes
//! to believe it: the finding with its object, site, the executions it took
//! and how to replay it; or "none in N executions" with the model, explorer
//! and seeds; or a bounded-exhaustive "no finding at ≤ b preemptions,
//! complete"; or an exploration a budget cut short, which is never taken
//! for an answer; or "cannot be explored by this backend". Every command
//! prints and serialises the same value, and [`judge`] holds it against a
//! scheme's declared [`Expected`] value: the kind, and the object (and where
//! declared the site) of the bug.

use crate::schemes::{Expected, Scheme};
use crate::verify::{DeepenEnd, Deepening};
use harness::engine::{severity, RunStats};
use harness::finding::{Detail, Finding, FindingKind};
use serde::Serialize;
use std::fmt;

/// The memory model a verdict holds under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Model {
    /// Sequential consistency, data races by happens-before (the sequentially
    /// consistent explorers, on the native or the shuttle runtime).
    Sc,
    /// The C11 memory model (the loom backend).
    C11,
}

impl Model {
    /// `SC` or `C11`.
    pub fn name(self) -> &'static str {
        match self {
            Model::Sc => "SC",
            Model::C11 => "C11",
        }
    }
}

/// The bug a verdict found, and how to see it again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Found {
    /// Its kind.
    pub kind: FindingKind,
    /// What it is about: the freed object of a use-after-removal, the cell
    /// of a data race, the waits of a deadlock.
    pub object: String,
    /// The `file:line` of the bad access (of the later access of a race);
    /// empty for deadlocks and hangs.
    pub site: String,
    /// One line describing it.
    pub headline: String,
    /// Executions run up to and including the one that found it.
    pub after_executions: u64,
    /// The execution's seed (SC explorers; loom executions have none).
    pub seed: Option<u64>,
    /// The preemption bound it was found at (loom).
    pub bound: Option<usize>,
    /// The command that shows it again.
    pub replay: String,
}

impl Found {
    /// The evidence of `finding`, found after `executions`.
    pub fn new(finding: &Finding, executions: u64, replay: String) -> Self {
        let (object, site) = object_and_site(finding);
        Found {
            kind: finding.kind,
            object,
            site,
            headline: finding.headline(),
            after_executions: executions,
            seed: None,
            bound: None,
            replay,
        }
    }
}

/// What a finding is about, and where the bad access was.
fn object_and_site(f: &Finding) -> (String, String) {
    match &f.detail {
        Detail::UseAfterRemoval { object, access, .. } => (object.clone(), access.site.clone()),
        Detail::DoubleFree { object, free, .. } => (object.clone(), free.site.clone()),
        Detail::DataRace { cell, second, .. } => (cell.clone(), second.site.clone()),
        Detail::LockHeldAtExit { held, .. } => (
            held.iter()
                .map(|a| a.op.clone())
                .collect::<Vec<_>>()
                .join("; "),
            held.first().map(|a| a.site.clone()).unwrap_or_default(),
        ),
        Detail::Deadlock { waits, .. } => (
            waits
                .iter()
                .map(|(t, w)| format!("{t} in {w}"))
                .collect::<Vec<_>>()
                .join("; "),
            String::new(),
        ),
        Detail::Hang { .. } => (String::new(), String::new()),
        Detail::Leak { object, alloc } => (object.clone(), alloc.site.clone()),
        Detail::Invariant { message, at } => (message.clone(), at.site.clone()),
        Detail::Assertion { condition, at, .. } => (condition.clone(), at.site.clone()),
    }
}

/// Whether the model name `name` (`mem0.cxlm`) is the declared object
/// `want`, which omits the device prefix (`cxlm`).
fn names(name: &str, want: &str) -> bool {
    name == want || name.ends_with(&format!(".{want}"))
}

/// Whether `f` is the bug `expected` declares of kind `kind`.
fn is_expected(f: &Found, kind: FindingKind, expected: &Expected) -> bool {
    if expected.also == Some(f.kind) && f.kind.is_fatal() {
        return true;
    }
    if f.kind != kind {
        return false;
    }
    let object_ok = expected.object.is_none_or(|want| match f.kind {
        // A deadlock names its locks inside the waits' descriptions.
        FindingKind::Deadlock => f.object.contains(want),
        // A race is on a cell; a cell reached through a pointer
        // (`mem0.pvt->resp_len`) is also about the object it lives in.
        FindingKind::DataRace => {
            names(&f.object, want) || f.object.split("->").next().is_some_and(|o| names(o, want))
        }
        _ => names(&f.object, want),
    });
    let site_ok = expected.site.is_none_or(|want| {
        if want.contains(':') {
            f.site == want
        } else {
            f.site.split(':').next() == Some(want)
        }
    });
    object_ok && site_ok
}

pub use harness::exhaustive::Cap;

/// What exploration showed, with its evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    /// A bug was found (the most severe kind seen).
    Found(Found),
    /// Sampling found nothing.
    NotFound {
        /// The base seed: execution *i* ran with seed `base + i·φ`.
        base_seed: u64,
    },
    /// Bounded-exhaustive: every execution within `bound` preemptions was
    /// explored and none found anything.
    Exhaustive {
        /// The deepest bound explored completely.
        bound: usize,
        /// Executions of that bound's exploration.
        bound_executions: u64,
        /// Set when a deeper bound added no execution: every execution of
        /// the scheme was explored.
        whole_space: bool,
        /// Set when a deeper bound was started and a budget cut it short.
        deeper_cut_by: Option<Cap>,
    },
    /// A budget ended the exploration before any bound was complete: no
    /// answer, never a match.
    Incomplete {
        /// The budget that ended it.
        cap: Cap,
        /// The bound being explored.
        bound: usize,
    },
    /// The backend cannot explore this scheme.
    Unexplorable {
        /// Why.
        reason: String,
    },
}

/// A verdict: the outcome of one exploration, with where it came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// The memory model.
    pub model: Model,
    /// The explorer (`portfolio`, `loom`, …).
    pub explorer: String,
    /// Executions run in all.
    pub executions: u64,
    /// Set when the opt-in wall-time cap ended the exploration: how far it
    /// got then depends on the machine's load, so only a fatal finding it
    /// reached is an answer.
    pub time_capped: bool,
    /// Set when the user interrupted the exploration (Ctrl-C): like a time
    /// cap, where it stopped depends on when, so only a fatal finding it
    /// reached is an answer.
    pub interrupted: bool,
    /// What they showed.
    pub outcome: Outcome,
}

impl Verdict {
    /// The verdict of a shuttle run: its most severe finding (the first of
    /// that kind), or none in its executions.
    pub fn from_run(
        stats: &RunStats,
        explorer: &str,
        base_seed: u64,
        time_capped: bool,
        replay: impl Fn(u64) -> String,
    ) -> Verdict {
        let found = stats.verdict().and_then(|kind| {
            let record = stats
                .distinct
                .iter()
                .map(|(_, r)| r)
                .filter(|r| r.findings.iter().any(|f| f.kind == kind))
                .min_by_key(|r| r.index)?;
            let finding = record.findings.iter().find(|f| f.kind == kind)?;
            let after = stats
                .first
                .get(&kind)
                .map_or(record.index + 1, |h| h.executions);
            let mut found = Found::new(finding, after, replay(record.seed));
            found.seed = Some(record.seed);
            Some(found)
        });
        Verdict {
            model: Model::Sc,
            explorer: explorer.to_string(),
            executions: stats.executions,
            time_capped,
            interrupted: false,
            outcome: match found {
                Some(f) => Outcome::Found(f),
                None => Outcome::NotFound { base_seed },
            },
        }
    }

    /// The verdict of a deepening loom exploration.
    pub fn from_deepening(d: &Deepening, replay: impl Fn(usize) -> String) -> Verdict {
        let executions = d.executions();
        let outcome = if let Some(worst) = d.worst() {
            match (&worst.finding, &worst.record) {
                (Some(f), Some(r)) => {
                    // Executions up to the finding: every shallower bound,
                    // then this bound's up to the one that found it.
                    let before: u64 = d
                        .rounds
                        .iter()
                        .take_while(|x| x.bound < worst.bound)
                        .map(|x| x.executions)
                        .sum();
                    let mut found = Found::new(f, before + r.index + 1, replay(worst.bound));
                    found.bound = Some(worst.bound);
                    Outcome::Found(found)
                }
                _ => Outcome::Unexplorable {
                    reason: "loom reported a finding without its execution".into(),
                },
            }
        } else {
            let cut = match d.end {
                DeepenEnd::Executions => Some(Cap::Executions),
                DeepenEnd::Time => Some(Cap::Time),
                DeepenEnd::Interrupted => Some(Cap::Interrupted),
                _ => None,
            };
            match d.deepest_complete() {
                Some(bound) => Outcome::Exhaustive {
                    bound,
                    bound_executions: d
                        .rounds
                        .iter()
                        .find(|r| r.bound == bound)
                        .map_or(0, |r| r.executions),
                    whole_space: d.end == DeepenEnd::WholeSpace,
                    deeper_cut_by: cut.filter(|_| d.last().is_some_and(|r| r.bound > bound)),
                },
                None => Outcome::Incomplete {
                    cap: cut.unwrap_or(Cap::Executions),
                    bound: d.last().map_or(0, |r| r.bound),
                },
            }
        };
        Verdict {
            model: Model::C11,
            explorer: "loom".into(),
            executions,
            time_capped: d.end == DeepenEnd::Time,
            interrupted: d.end == DeepenEnd::Interrupted,
            outcome,
        }
    }

    /// A verdict the backend could not reach.
    pub fn unexplorable(model: Model, explorer: &str, reason: String) -> Verdict {
        Verdict {
            model,
            explorer: explorer.into(),
            executions: 0,
            time_capped: false,
            interrupted: false,
            outcome: Outcome::Unexplorable { reason },
        }
    }

    /// The finding, if one was made.
    pub fn found(&self) -> Option<&Found> {
        match &self.outcome {
            Outcome::Found(f) => Some(f),
            _ => None,
        }
    }

    /// A short cell for tables: `UAF@8637`, `none/60000`, `≤2 complete`,
    /// `cut@1234`, `n/a`.
    pub fn short(&self) -> String {
        match &self.outcome {
            Outcome::Found(f) => match f.bound {
                Some(b) => format!(
                    "{} {} b{b}",
                    abbreviation(f.kind),
                    thousands(f.after_executions)
                ),
                None => format!("{} {}", abbreviation(f.kind), thousands(f.after_executions)),
            },
            Outcome::NotFound { .. } => format!("none {}", thousands(self.executions)),
            Outcome::Exhaustive {
                bound, whole_space, ..
            } => {
                if *whole_space {
                    "none, all".into()
                } else {
                    format!("none ≤{bound}")
                }
            }
            Outcome::Incomplete { cap, bound } => match cap {
                Cap::Time => format!("time cap b{bound}"),
                Cap::Executions => format!("budget b{bound}"),
                Cap::Interrupted => format!("interrupted b{bound}"),
            },
            Outcome::Unexplorable { .. } => "n/a".into(),
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.outcome {
            Outcome::Found(f) => {
                write!(out, "{}", f.kind)?;
                if !f.object.is_empty() && f.kind != FindingKind::Deadlock {
                    write!(out, " of {}", f.object)?;
                }
                if !f.site.is_empty() {
                    write!(out, " at {}", f.site)?;
                }
                if f.kind == FindingKind::Deadlock {
                    write!(out, " ({})", f.object)?;
                }
                write!(
                    out,
                    " after {} executions ({}, explorer {}",
                    f.after_executions,
                    self.model.name(),
                    self.explorer
                )?;
                if let Some(b) = f.bound {
                    write!(out, ", ≤ {b} preemptions")?;
                }
                if let Some(s) = f.seed {
                    write!(out, ", seed {s:#018x}")?;
                }
                write!(out, "); replay: {}", f.replay)?;
                if self.interrupted {
                    write!(out, "; interrupted before the exploration ended")?;
                }
                Ok(())
            }
            Outcome::NotFound { base_seed } => {
                write!(
                    out,
                    "none in {} executions ({}, explorer {}, seeds from base {base_seed:#x})",
                    self.executions,
                    self.model.name(),
                    self.explorer
                )?;
                if self.time_capped {
                    write!(
                        out,
                        "; cut by the time cap, so it depends on the machine's load"
                    )?;
                }
                if self.interrupted {
                    write!(
                        out,
                        "; interrupted before the budget was spent, so no answer"
                    )?;
                }
                Ok(())
            }
            Outcome::Exhaustive {
                bound,
                bound_executions,
                whole_space,
                deeper_cut_by,
            } => {
                write!(
                    out,
                    "no finding at ≤ {bound} preemptions, complete ({bound_executions} executions; {} in all, {})",
                    self.executions,
                    self.model.name()
                )?;
                if *whole_space {
                    write!(
                        out,
                        "; bound {} adds no execution: the whole state space",
                        bound + 1
                    )?;
                }
                match deeper_cut_by {
                    Some(Cap::Executions) => {
                        write!(out, "; bound {} cut by the execution budget", bound + 1)
                    }
                    Some(Cap::Time) => write!(out, "; bound {} cut by the time cap", bound + 1),
                    Some(Cap::Interrupted) => write!(out, "; bound {} interrupted", bound + 1),
                    None => Ok(()),
                }
            }
            Outcome::Incomplete { cap, bound } => write!(
                out,
                "incomplete: {} after {} executions at bound {bound} ({}); no answer",
                match cap {
                    Cap::Executions => "execution budget",
                    Cap::Time => "time cap",
                    Cap::Interrupted => "interrupted",
                },
                self.executions,
                self.model.name()
            ),
            Outcome::Unexplorable { reason } => {
                write!(out, "cannot be explored by {}: {reason}", self.explorer)
            }
        }
    }
}

/// A count for narrow tables: exact below 10,000, then `12k`, `1.2M`.
pub fn thousands(n: u64) -> String {
    match n {
        0..10_000 => n.to_string(),
        10_000..1_000_000 if n.is_multiple_of(1000) => format!("{}k", n / 1000),
        10_000..1_000_000 => n.to_string(),
        _ if n.is_multiple_of(1_000_000) => format!("{}M", n / 1_000_000),
        _ => n.to_string(),
    }
}

/// Short names of finding kinds for narrow tables.
pub fn abbreviation(kind: FindingKind) -> &'static str {
    match kind {
        FindingKind::UseAfterRemoval => "UAR",
        FindingKind::DoubleFree => "dfree",
        FindingKind::LockHeldAtExit => "held",
        FindingKind::DataRace => "race",
        FindingKind::Deadlock => "dlock",
        FindingKind::Hang => "hang",
        FindingKind::Leak => "leak",
        FindingKind::Invariant => "inv",
        FindingKind::Assertion => "bug",
    }
}

/// How a verdict compares with the expectation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "judgement", content = "why", rename_all = "kebab-case")]
pub enum Judgement {
    /// The verdict is the expected one, on the expected object.
    Match,
    /// The verdict contradicts the expectation.
    Mismatch(String),
    /// No answer: a budget ended the exploration first, or a wall-time cap
    /// shaped it. Never a match.
    Inconclusive(String),
    /// The backend cannot explore the scheme.
    NotApplicable,
}

impl Judgement {
    /// Whether this is a match.
    pub fn is_match(&self) -> bool {
        matches!(self, Judgement::Match)
    }
}

/// The expected verdict under `model` in words: `use-after-removal of cxlm`.
pub fn expected_words(expected: &Expected, model: Model) -> String {
    let kind = match model {
        Model::Sc => expected.sc,
        Model::C11 => expected.c11,
    };
    match kind {
        None => "no finding".into(),
        Some(k) => {
            let mut s = k.to_string();
            if let Some(o) = expected.object {
                s.push_str(&format!(" of {o}"));
            }
            if let Some(site) = expected.site {
                s.push_str(&format!(" at {site}"));
            }
            if let Some(also) = expected.also {
                s.push_str(&format!(" (or {also})"));
            }
            s
        }
    }
}

/// Hold `verdict` against what `scheme` is expected to get under the
/// verdict's model.
pub fn judge(verdict: &Verdict, scheme: &Scheme) -> Judgement {
    let expected = &scheme.expected;
    let want = match verdict.model {
        Model::Sc => expected.sc,
        Model::C11 => expected.c11,
    };
    let words = expected_words(expected, verdict.model);
    match (&verdict.outcome, want) {
        (Outcome::Unexplorable { .. }, _) => Judgement::NotApplicable,
        (Outcome::Incomplete { .. }, _) => {
            Judgement::Inconclusive("cut short before any bound was complete".into())
        }
        (outcome, _)
            if verdict.time_capped
                && !matches!(outcome, Outcome::Found(f) if f.kind.is_fatal()) =>
        {
            Judgement::Inconclusive(
                "cut by the wall-time cap; drop the time cap for a verdict".into(),
            )
        }
        (outcome, _)
            if verdict.interrupted
                && !matches!(outcome, Outcome::Found(f) if f.kind.is_fatal()) =>
        {
            Judgement::Inconclusive("interrupted before the exploration ended".into())
        }
        (Outcome::Found(f), Some(kind)) if is_expected(f, kind, expected) => Judgement::Match,
        (Outcome::Found(f), Some(kind)) if severity(f.kind) > severity(kind) => {
            Judgement::Mismatch(format!("expected {words}; only {} found", f.kind))
        }
        (Outcome::Found(f), _) => Judgement::Mismatch(format!(
            "expected {words}; found {} of {}",
            f.kind,
            if f.object.is_empty() { "?" } else { &f.object }
        )),
        (Outcome::NotFound { .. }, None) => Judgement::Match,
        (Outcome::NotFound { .. }, Some(_)) => {
            Judgement::Mismatch(format!("expected {words}; none found"))
        }
        (Outcome::Exhaustive { .. }, None) => Judgement::Match,
        (
            Outcome::Exhaustive {
                bound, whole_space, ..
            },
            Some(_),
        ) => Judgement::Mismatch(if *whole_space {
            format!("expected {words}; no execution of the scheme has it")
        } else {
            format!(
                    "expected {words}; no exploration at ≤ {bound} preemptions can see it (a deeper bound may)"
                )
        }),
    }
}
