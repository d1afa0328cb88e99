//! `unplug import` (a fuzz artifact into the corpus) and `unplug minimize`
//! (a corpus entry to fewer preemptions).

use super::{emit, Status};
use crate::fuzz::import_artifact;
use crate::minimize;
use crate::replay::CorpusEntry;
use anyhow::{Context, Result};
use clap::Args;
use std::path::{Path, PathBuf};

/// Arguments of `unplug import`.
#[derive(Args, Debug)]
pub struct ImportArgs {
    /// A libFuzzer artifact, `fuzz/artifacts/<target>/crash-…` (at most 1 MiB).
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
    /// A corpus entry (`.toml`, at most 1 MiB).
    entry: PathBuf,
    /// Save into DIR/<scheme>/ (default: beside the entry).
    #[arg(long)]
    corpus: Option<PathBuf>,
    /// Remove the original once the smaller entry is saved and reads back
    /// (never when both paths name the same file).
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
    emit(&format!(
        "saved {} ({}, {} preemptions, {} choices)",
        path.display(),
        entry.finding,
        entry.preemptions,
        entry.choices.len()
    ))?;
    Ok(Status::Finding)
}

/// Run `unplug minimize`.
pub fn minimize_entry(args: MinimizeArgs) -> Result<Status> {
    let entry = CorpusEntry::load(&args.entry)?;
    let smaller = minimize(&entry)?;
    let path = match &args.corpus {
        Some(dir) => smaller.default_path(dir),
        None => {
            // Beside the entry, whatever folder it is in.
            let name = smaller
                .default_path(Path::new(""))
                .file_name()
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("minimized.toml"));
            match args.entry.parent() {
                Some(dir) => dir.join(name),
                None => name,
            }
        }
    };
    smaller.save(&path)?;
    emit(&format!(
        "{} preemptions, {} choices -> {} preemptions, {} choices ({}): saved {}",
        entry.preemptions,
        entry.choices.len(),
        smaller.preemptions,
        smaller.choices.len(),
        smaller.finding,
        path.display()
    ))?;
    if args.replace {
        // Delete only a file that is not the one just written (the two
        // paths may name one file through a symbolic link), and only once
        // the new entry reads back.
        let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => true,
        };
        if same(&path, &args.entry) {
            emit(&format!(
                "kept {} (it is the saved entry)",
                args.entry.display()
            ))?;
        } else {
            CorpusEntry::load(&path).context("reading back the minimised entry")?;
            std::fs::remove_file(&args.entry)
                .with_context(|| format!("{}", args.entry.display()))?;
            emit(&format!("removed {}", args.entry.display()))?;
        }
    }
    Ok(Status::Finding)
}
