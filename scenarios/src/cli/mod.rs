//! The command line: one module per subcommand, shared flags here.

mod compare;
mod corpus_cmds;
mod fuzz;
mod list;
mod litmus;
mod replay;
mod verify;

use anyhow::{bail, Result};
use clap::{Args, Parser, Subcommand};
use harness::engine::{ExecConfig, Explorer, DEFAULT_STEP_BUDGET};
use harness::report::Header;
use scenarios::{Scheme, Workload};
use std::process::ExitCode;
use std::time::Duration;

/// Deterministic concurrency fuzzing of device removal vs ioctl.
#[derive(Parser, Debug)]
#[command(name = "unplug", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List the schemes with their expected verdicts.
    List,
    /// Explore a scheme (or `all`) and report every distinct finding.
    Fuzz(fuzz::FuzzArgs),
    /// Replay a corpus entry, a fuzz artifact, or a scheme + explorer + seed.
    Replay(replay::ReplayArgs),
    /// The scheme × explorer matrix: verdicts, executions and time to first finding.
    Compare(compare::CompareArgs),
    /// Bounded-exhaustive exploration under the C11 memory model (loom).
    Verify(verify::VerifyArgs),
    /// The kernel's memory-model litmus tests under both backends, against LKMM.
    Litmus(litmus::LitmusArgs),
    /// Turn a cargo-fuzz artifact into a (minimised) corpus entry.
    Import(corpus_cmds::ImportArgs),
    /// Shrink a corpus entry to the fewest preemptions that keep its finding.
    Minimize(corpus_cmds::MinimizeArgs),
}

/// How the process exits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Nothing found.
    Clean = 0,
    /// At least one finding.
    Finding = 1,
    /// Bad input.
    BadInput = 2,
}

impl From<Status> for ExitCode {
    fn from(s: Status) -> ExitCode {
        ExitCode::from(s as u8)
    }
}

/// Run a parsed command line.
pub fn run(cli: Cli) -> Result<Status> {
    match cli.command {
        Command::List => list::run(),
        Command::Fuzz(a) => fuzz::run(a),
        Command::Replay(a) => replay::run(a),
        Command::Compare(a) => compare::run(a),
        Command::Verify(a) => verify::run(a),
        Command::Litmus(a) => litmus::run(a),
        Command::Import(a) => corpus_cmds::import(a),
        Command::Minimize(a) => corpus_cmds::minimize_entry(a),
    }
}

/// Report a command-line parse error on one line (help and version are not
/// errors and print as usual).
pub fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    let text = e.to_string();
    let first = text.lines().next().unwrap_or("invalid arguments");
    let first = first.strip_prefix("error: ").unwrap_or(first);
    eprintln!("unplug: error: {first} (see `unplug --help`)");
    Status::BadInput.into()
}

/// Fold a multi-line message into one line.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Workload knobs; each overrides the scheme's default workload.
#[derive(Args, Debug, Clone, Default)]
pub struct WorkloadArgs {
    /// User tasks (each opens a device and issues ioctls).
    #[arg(long)]
    users: Option<u32>,
    /// Ioctls per open file.
    #[arg(long)]
    ioctls: Option<u32>,
    /// Devices sharing the scheme's lock or SRCU domain.
    #[arg(long)]
    devices: Option<u32>,
    /// Bookkeeping steps in removal before teardown, per device.
    #[arg(long)]
    remove_work: Option<u32>,
    /// Let opens race cdev_device_del() (default: removal starts once every user has opened).
    #[arg(long)]
    open_races_del: bool,
}

impl WorkloadArgs {
    /// The scheme's default workload with these overrides.
    pub fn apply(&self, scheme: &Scheme) -> Result<Workload> {
        let mut w = scheme.default_workload;
        if let Some(v) = self.users {
            w.users = v;
        }
        if let Some(v) = self.ioctls {
            w.ioctls = v;
        }
        if let Some(v) = self.devices {
            w.devices = v;
        }
        if let Some(v) = self.remove_work {
            w.remove_work = v;
        }
        w.open_races_del |= self.open_races_del;
        if let Err(e) = w.validate() {
            bail!("{e}");
        }
        Ok(w)
    }
}

/// How reports are drawn.
#[derive(Args, Debug, Clone, Copy)]
pub struct ReportArgs {
    /// Draw every event of every task in reports (default: only the tasks
    /// and events the finding involves).
    #[arg(long)]
    full: bool,
}

impl ReportArgs {
    /// The report detail these flags ask for.
    pub fn detailing(self) -> harness::report::Detailing {
        if self.full {
            harness::report::Detailing::Full
        } else {
            harness::report::Detailing::Diagram
        }
    }
}

/// Per-execution flags.
#[derive(Args, Debug, Clone)]
pub struct ExecArgs {
    /// Scheduling decisions per execution before it is reported as a hang.
    #[arg(long, default_value_t = DEFAULT_STEP_BUDGET)]
    step_budget: u64,
    /// Turn off happens-before data-race detection.
    #[arg(long)]
    no_race_detection: bool,
}

impl ExecArgs {
    /// The engine settings.
    pub fn config(&self) -> Result<ExecConfig> {
        if self.step_budget == 0 {
            bail!("--step-budget must be at least 1");
        }
        Ok(ExecConfig {
            step_budget: self.step_budget,
            race_detection: !self.no_race_detection,
        })
    }

    /// Flags that reproduce these settings (empty for the defaults).
    pub fn flags(&self) -> String {
        let mut s = String::new();
        if self.step_budget != DEFAULT_STEP_BUDGET {
            s.push_str(&format!(" --step-budget {}", self.step_budget));
        }
        if self.no_race_detection {
            s.push_str(" --no-race-detection");
        }
        s
    }
}

/// Look a scheme up, or fail with the list of names.
pub fn scheme(name: &str) -> Result<&'static Scheme> {
    match scenarios::find(name) {
        Some(s) => Ok(s),
        None => {
            let names: Vec<&str> = scenarios::registry().map(|s| s.name).collect();
            bail!("unknown scheme '{name}' (known: {})", names.join(", "))
        }
    }
}

/// Parse an explorer name.
pub fn explorer(name: &str) -> Result<Explorer> {
    match Explorer::parse(name) {
        Some(e) => Ok(e),
        None => bail!("unknown explorer '{name}' (random, pct, pct-dN, portfolio)"),
    }
}

/// Parse a seed: decimal or 0x-prefixed hex.
pub fn parse_seed(s: &str) -> Result<u64, String> {
    let parsed = match s.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => s.parse(),
    };
    parsed.map_err(|_| format!("'{s}' is not a seed (a decimal or 0x-prefixed hex u64)"))
}

/// Parse a duration: `90`, `90s`, `500ms`, `2m`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("'{s}' is not a duration (e.g. 30s, 500ms, 2m)");
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: f64 = num.parse().map_err(|_| bad())?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(bad()),
    };
    if !secs.is_finite() || secs <= 0.0 {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(secs))
}

/// The memory model the shuttle explorers' verdicts hold under.
pub const SC_MODEL: &str =
    "sequential consistency, data races by happens-before (shuttle explorers)";

/// The report header of an execution found (or replayed) by seed.
pub fn seed_header(
    scheme: &Scheme,
    workload: &Workload,
    explorer: &Explorer,
    seed: u64,
    exec: &ExecArgs,
) -> Header {
    Header {
        scheme: scheme.name.to_string(),
        workload: workload.flags(),
        replay: format!(
            "unplug replay --scheme {} --explorer {} --seed {seed:#018x} {}{}",
            scheme.name,
            explorer.name(),
            workload.flags(),
            exec.flags()
        ),
        model: SC_MODEL.to_string(),
    }
}
