//! `unplug replay`: a corpus entry, a fuzz artifact, or scheme + explorer + seed.

use super::{
    emit, explorer, parse_schedule, parse_seed, replay_command, scheme, seed_header,
    workload_flags, ExecArgs, ReportArgs, Status, WorkloadArgs, SC_MODEL,
};
use crate::fuzz::{artifact_target, run_input};
use crate::replay::{reproduces, scheme_of, CorpusEntry};
use crate::FuzzTarget;
use anyhow::{bail, Result};
use clap::Args;
use harness::engine::{run_single, Drive, ExecutionRecord, Explorer};
use harness::finding::Detail;
use harness::report::{render_execution, Header};
use std::path::{Path, PathBuf};

/// Arguments of `unplug replay`.
#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// A corpus entry (`.toml`) or a fuzz artifact (`fuzz/artifacts/<target>/crash-…`);
    /// either at most 1 MiB.
    file: Option<PathBuf>,
    /// The scheme (with --seed, or for an artifact outside fuzz/artifacts/).
    #[arg(long)]
    scheme: Option<String>,
    /// The explorer the seed belongs to.
    #[arg(long, default_value = "portfolio")]
    explorer: String,
    /// The execution seed to replay.
    #[arg(long, value_parser = parse_seed, conflicts_with = "schedule")]
    seed: Option<u64>,
    /// The schedule to replay (with --scheme): the task chosen at each
    /// decision, two hex digits each, as `fuzz` prints it for an explorer
    /// whose executions do not replay from their seeds (guided).
    #[arg(long)]
    schedule: Option<String>,
    #[command(flatten)]
    report: ReportArgs,
    #[command(flatten)]
    workload: WorkloadArgs,
    #[command(flatten)]
    exec: ExecArgs,
}

/// Run the command.
pub fn run(args: ReplayArgs) -> Result<Status> {
    let detailing = args.report.detailing();
    let (header, record) = match &args.file {
        Some(path) if path.extension().is_some_and(|x| x == "toml") => {
            replay_entry(path, &args.exec)?
        }
        Some(path) => replay_artifact(path, &args)?,
        None if args.schedule.is_some() => {
            let (Some(name), Some(hex)) = (&args.scheme, &args.schedule) else {
                bail!("give --scheme with --schedule");
            };
            let choices = parse_schedule(hex).map_err(anyhow::Error::msg)?;
            let scheme = scheme(name)?;
            let workload = args.workload.apply(scheme)?;
            let drive = Drive::Choices(choices);
            let run = run_single(
                &scheme.scenario(workload.clone()),
                &drive,
                args.exec.config()?,
            )?;
            if let Some(at) = run.diverged_at {
                bail!("the schedule diverges at decision {at}: it was recorded by another version of the scheme or another workload");
            }
            let replay = replay_command(
                scheme,
                &workload,
                &Explorer::Guided,
                &run.record,
                &args.exec.flags(),
            );
            let header = Header {
                scheme: scheme.name.to_string(),
                workload: workload_flags(scheme, &workload),
                replay,
                model: SC_MODEL.to_string(),
            };
            (header, run.record)
        }
        None => {
            let (Some(name), Some(seed)) = (&args.scheme, args.seed) else {
                bail!("give a corpus entry or artifact, or --scheme and --seed (or --schedule)");
            };
            let scheme = scheme(name)?;
            let workload = args.workload.apply(scheme)?;
            let explorer = explorer(&args.explorer)?;
            if !explorer.replays_from_seed() {
                bail!(
                    "{} executions depend on the run before them and do not replay from a seed: replay the --schedule its report printed, or its corpus entry",
                    explorer.name()
                );
            }
            let drive = Drive::Seed {
                explorer: explorer.clone(),
                seed,
            };
            let run = run_single(
                &scheme.scenario(workload.clone()),
                &drive,
                args.exec.config()?,
            )?;
            (
                seed_header(scheme, &workload, &explorer, seed, &args.exec),
                run.record,
            )
        }
    };
    if record.findings.is_empty() {
        eprintln!("unplug: the execution found nothing");
        return Ok(Status::Clean);
    }
    emit(&render_execution(&header, &record, detailing))?;
    let budget = args.exec.step_budget();
    if record
        .findings
        .iter()
        .any(|f| matches!(f.detail, Detail::Hang { steps, .. } if steps > budget))
    {
        eprintln!(
            "unplug: no progress within {budget} steps; raise --step-budget if the workload is large"
        );
    }
    Ok(Status::Finding)
}

fn replay_entry(path: &Path, exec: &ExecArgs) -> Result<(Header, ExecutionRecord)> {
    let entry = CorpusEntry::load(path)?;
    let scheme = scheme_of(&entry)?;
    let run = run_single(
        &scheme.scenario(entry.workload.clone()),
        &Drive::Choices(entry.choices.clone()),
        exec.config()?,
    )?;
    if !reproduces(&entry, &run) {
        match run.diverged_at {
            Some(at) => bail!(
                "{}: the schedule diverges at decision {at}: it was recorded by another version of the scheme",
                path.display()
            ),
            None => bail!(
                "{}: does not reproduce its {} ({})",
                path.display(),
                entry.finding,
                entry.signature
            ),
        }
    }
    let header = match (
        entry.seed,
        Explorer::parse(&entry.explorer).filter(Explorer::replays_from_seed),
    ) {
        (Some(seed), Some(explorer)) => seed_header(scheme, &entry.workload, &explorer, seed, exec),
        _ => Header {
            scheme: scheme.name.to_string(),
            workload: workload_flags(scheme, &entry.workload),
            replay: format!(
                "{} replay {}{}",
                super::program(),
                path.display(),
                exec.flags()
            ),
            model: SC_MODEL.to_string(),
        },
    };
    Ok((header, run.record))
}

/// A fuzz artifact: raw schedule bytes. The target (scheme and workload)
/// comes from the artifact's directory (`fuzz/artifacts/<target>/…`), or
/// from `--scheme` and the workload flags.
fn replay_artifact(path: &Path, args: &ReplayArgs) -> Result<(Header, ExecutionRecord)> {
    let bytes = harness::corpus::read_capped(path)?;
    let target = match &args.scheme {
        Some(name) => {
            let scheme = scheme(name)?;
            FuzzTarget {
                name: crate::fuzz::target_name(scheme.name),
                scheme,
                workload: args.workload.apply(scheme)?,
            }
        }
        None => match artifact_target(path) {
            Some(t) => t,
            None => bail!(
                "{}: not a corpus entry (.toml) and not under fuzz/artifacts/<target>/; give --scheme",
                path.display()
            ),
        },
    };
    let run = run_input(&target, &bytes)?;
    let header = Header {
        scheme: target.scheme.name.to_string(),
        workload: workload_flags(target.scheme, &target.workload),
        replay: match &args.scheme {
            Some(_) => format!(
                "{} replay {} --scheme {}{}",
                super::program(),
                path.display(),
                target.scheme.name,
                super::spaced(&workload_flags(target.scheme, &target.workload))
            ),
            None => format!("{} replay {}", super::program(), path.display()),
        },
        model: SC_MODEL.to_string(),
    };
    Ok((header, run.record))
}
