//! `unplug litmus [NAME|all]`: the kernel's memory-model litmus tests under
//! the SC explorers and loom, against their published LKMM results.

use super::{emit, parse_seed, Status};
use crate::litmus::run::{render_markdown, render_text, run as run_test, Agreement, LitmusBudget};
use crate::litmus::{self, Litmus};
use anyhow::{bail, Result};
use clap::{Args, ValueEnum};

/// How the table is printed.
#[derive(Clone, Copy, Debug, Default, ValueEnum)]
pub enum Format {
    /// Aligned columns.
    #[default]
    Text,
    /// A Markdown table (the README's).
    Md,
}

/// Arguments of `unplug litmus`.
#[derive(Args, Debug)]
pub struct LitmusArgs {
    /// A test's kernel name (e.g. `MP+pooncerelease+poacquireonce`), or `all`.
    #[arg(default_value = "all")]
    name: String,
    /// Executions per SC explorer (random, then PCT).
    #[arg(long, default_value_t = LitmusBudget::default().sc_executions)]
    executions: u64,
    /// Base seed of the SC explorers.
    #[arg(long, value_parser = parse_seed, default_value = "1")]
    seed: u64,
    /// Loom's preemption bound.
    #[arg(long, default_value_t = LitmusBudget::default().loom_bound)]
    preemptions: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// Run the suite (or one test) and print the table. Exits with a finding
/// status if any disagreement is unexplained.
pub fn run(a: LitmusArgs) -> Result<Status> {
    if a.executions == 0 {
        bail!("--executions must be at least 1");
    }
    let tests: Vec<&'static Litmus> = if a.name == "all" {
        litmus::ALL.iter().collect()
    } else {
        match litmus::find(&a.name) {
            Some(t) => vec![t],
            None => {
                let names: Vec<&str> = litmus::ALL.iter().map(|t| t.name()).collect();
                bail!(
                    "unknown litmus test '{}' (known: {})",
                    a.name,
                    names.join(", ")
                )
            }
        }
    };
    let budget = LitmusBudget {
        sc_executions: a.executions,
        seed: a.seed,
        loom_bound: a.preemptions,
    };
    let rows: Vec<_> = tests.into_iter().map(|t| run_test(t, &budget)).collect();
    let unexplained = rows
        .iter()
        .filter(|r| matches!(r.agreement, Agreement::Undeclared(_)))
        .count();
    let status = if unexplained > 0 {
        Status::Finding
    } else {
        Status::Clean
    };
    let table = match a.format {
        Format::Text => render_text(&rows),
        Format::Md => render_markdown(&rows),
    };
    // A reader that went away (`| head`) ends the command quietly.
    if !emit(table.trim_end())? {
        return Ok(status);
    }
    if a.name == "all" {
        for (name, why) in litmus::SKIPPED {
            eprintln!("not translated: {name}: {why}");
        }
    }
    eprintln!(
        "{} tests; SC explorers: {} executions each of random and PCT (seed {}); loom: preemption bound {}; {} unexplained disagreement(s)",
        rows.len(),
        budget.sc_executions,
        budget.seed,
        budget.loom_bound,
        unexplained
    );
    Ok(status)
}
