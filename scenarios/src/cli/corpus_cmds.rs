//! `unplug import` (a fuzz artifact into the corpus) and `unplug minimize`
//! (a corpus entry to fewer preemptions).

use super::Status;
use anyhow::{Context, Result};
use clap::Args;
use scenarios::fuzz::import_artifact;
use scenarios::minimize;
use scenarios::replay::CorpusEntry;
use std::path::{Path, PathBuf};

/// Arguments of `unplug import`.
#[derive(Args, Debug)]
pub struct ImportArgs {
    /// A libFuzzer artifact, `fuzz/artifacts/<target>/crash-…`.
    artifact: PathBuf,
    /// Where the entry is saved.
    #[arg(long, default_value = "corpus")]
    corpus: PathBuf,
    /// Save the schedule as found, without minimising it.
    #[arg(long)]
    no_minimize: bool,
}

/// Arguments of `unplug minimize`.
#[derive(Args, Debug)]
pub struct MinimizeArgs {
    /// A corpus entry (`.toml`).
    entry: PathBuf,
    /// Remove the original once the smaller entry is saved.
    #[arg(long)]
    replace: bool,
}

/// Save `entry` beside the corpus (atomically) and say where.
fn save(entry: &CorpusEntry, corpus: &Path) -> Result<PathBuf> {
    let path = entry.default_path(corpus);
    entry.save(&path)?;
    Ok(path)
}

/// Run `unplug import`.
pub fn import(args: ImportArgs) -> Result<Status> {
    let Some(entry) = import_artifact(&args.artifact)? else {
        eprintln!(
            "unplug: {}: the schedule finds nothing",
            args.artifact.display()
        );
        return Ok(Status::Clean);
    };
    let entry = if args.no_minimize {
        entry
    } else {
        minimize(&entry).context("minimising")?
    };
    let path = save(&entry, &args.corpus)?;
    println!(
        "saved {} ({}, {} preemptions, {} choices)",
        path.display(),
        entry.finding,
        entry.preemptions,
        entry.choices.len()
    );
    Ok(Status::Finding)
}

/// Run `unplug minimize`.
pub fn minimize_entry(args: MinimizeArgs) -> Result<Status> {
    let entry = CorpusEntry::load(&args.entry)?;
    let smaller = minimize(&entry)?;
    // The entry's directory is `<corpus>/<scheme>/`.
    let corpus = args
        .entry
        .parent()
        .and_then(Path::parent)
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let path = save(&smaller, &corpus)?;
    println!(
        "{} preemptions, {} choices -> {} preemptions, {} choices: saved {}",
        entry.preemptions,
        entry.choices.len(),
        smaller.preemptions,
        smaller.choices.len(),
        path.display()
    );
    if args.replace && path != args.entry {
        std::fs::remove_file(&args.entry).with_context(|| format!("{}", args.entry.display()))?;
        println!("removed {}", args.entry.display());
    }
    Ok(Status::Finding)
}
