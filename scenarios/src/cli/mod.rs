//! The `unplug` command line, over any scheme registry: one module per
//! subcommand, shared flags here.
//!
//! A driver author's crate gets every command (`list`, `fuzz`, `replay`,
//! `minimize`, `import`, `compare`, `verify`) over its own schemes with one
//! call, and `litmus`, the kernel model's own litmus suite, which is the
//! same in every program (it checks the model the schemes run on); `bench`
//! measures the explorers on the zoo and runs in `unplug` itself:
//!
//! ```no_run
//! use unplug::{Registry, Scheme};
//! # static MY_SCHEMES: &[Scheme] = &[];
//! fn main() -> std::process::ExitCode {
//!     unplug::cli::main(Registry::new(MY_SCHEMES))
//! }
//! ```
//!
//! Exit status: 0 clean, 1 a finding, 2 bad input or an unwritable output
//! (one line on stderr), 130 interrupted before anything was found.

mod bench;
mod bench_fuzz;
mod compare;
mod corpus_cmds;
mod fuzz;
mod list;
mod litmus;
mod replay;
mod verify;

use crate::{Scheme, Workload};
use anyhow::{bail, Result};
use clap::{Args, Parser, Subcommand};
use harness::engine::{ExecConfig, ExecutionRecord, Explorer, Runtime, DEFAULT_STEP_BUDGET};
use harness::report::Header;
use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Deterministic concurrency fuzzing of device removal vs ioctl.
///
/// Exit status: 0 nothing found, 1 a finding, 2 bad input (or an output that
/// cannot be written), 130 interrupted before anything was found.
#[derive(Parser, Debug)]
#[command(
    name = "unplug",
    version,
    about,
    long_about = None,
    arg_required_else_help = true,
    max_term_width = 100
)]
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
    /// unplug's explorers against shuttle's schedulers and loom: executions,
    /// seconds and executions per second to the first finding (on the zoo's
    /// srcu-single-drain).
    Bench(bench::BenchArgs),
    /// The kernel model's own check: the kernel's memory-model litmus tests
    /// under both backends, against LKMM (the same suite in every program).
    ///
    /// The suite checks unplug's kernel model (READ_ONCE()/WRITE_ONCE(),
    /// barriers, acquire/release, locks) against the Linux-kernel memory
    /// model, on which every scheme's verdict rests. It is the same for every
    /// scheme registry: in a driver crate's own program it runs none of the
    /// crate's schemes, and its tests cannot be named by the other commands
    /// there.
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
    /// Bad input, or an output that cannot be written.
    BadInput = 2,
    /// Interrupted (SIGINT, SIGTERM) before anything was found.
    Interrupted = 130,
}

impl From<Status> for ExitCode {
    fn from(s: Status) -> ExitCode {
        ExitCode::from(s as u8)
    }
}

/// The whole program over `registry`: install it as this process's
/// registry (corpus entries and fuzz artifacts name schemes in it), parse
/// the command line, run it, and turn the outcome into the exit status.
pub fn main(registry: crate::Registry) -> ExitCode {
    if let Err(e) = crate::schemes::install(registry) {
        eprintln!("unplug: error: {e}");
        return Status::BadInput.into();
    }
    let args = match Cli::try_parse() {
        Ok(args) => args,
        Err(e) => return usage_error(e),
    };
    match run(args) {
        Ok(status) => status.into(),
        Err(e) => {
            // A kernel-C scheme's error is already `file.c:LINE:COL: error: …`.
            match e.downcast_ref::<crate::kc::KcError>() {
                Some(kc) => eprintln!("{kc}"),
                None => eprintln!("unplug: error: {}", error_line(&e)),
            }
            ExitCode::from(Status::BadInput as u8)
        }
    }
}

/// The name this program was run as (`unplug`, or a driver crate's own
/// binary), for the commands reports print to replay a finding.
pub fn program() -> &'static str {
    static PROGRAM: OnceLock<String> = OnceLock::new();
    PROGRAM.get_or_init(|| {
        std::env::args_os()
            .next()
            .and_then(|a| {
                std::path::Path::new(&a)
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
            })
            .unwrap_or_else(|| "unplug".to_string())
    })
}

/// Run a parsed command line over the installed registry
/// ([`crate::schemes::active`]).
pub fn run(cli: Cli) -> Result<Status> {
    match cli.command {
        Command::List => list::run(),
        Command::Fuzz(a) => fuzz::run(a),
        Command::Replay(a) => replay::run(a),
        Command::Compare(a) => compare::run(a),
        Command::Verify(a) => verify::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Litmus(a) => litmus::run(a),
        Command::Import(a) => corpus_cmds::import(a),
        Command::Minimize(a) => corpus_cmds::minimize_entry(a),
    }
}

/// Report a command-line parse error as clap words it (the missing
/// argument's name, suggestions for a typo, the valid values); help and
/// version are not errors and exit 0.
pub fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let _ = e.print();
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        return ExitCode::SUCCESS;
    }
    Status::BadInput.into()
}

/// An error as one line: the chain of causes joined with `: `, skipping a
/// cause whose text its parent already quotes (an I/O error wrapped with
/// its path would otherwise be printed twice).
pub fn error_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = one_line(&cause.to_string());
        if text.is_empty() || line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

/// Set by the first SIGINT or SIGTERM once [`catch_interrupts`] ran.
static INTERRUPTED: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// The flag the first SIGINT/SIGTERM sets: give it to the engine
/// (`Hooks::cancel`) so a run ends at its next execution boundary.
pub fn interrupt_flag() -> Arc<AtomicBool> {
    Arc::clone(INTERRUPTED.get_or_init(|| Arc::new(AtomicBool::new(false))))
}

/// Whether a SIGINT or SIGTERM arrived.
pub fn interrupted() -> bool {
    interrupt_flag().load(Ordering::Relaxed)
}

/// Handle SIGINT and SIGTERM from now on: the first sets
/// [`interrupt_flag`] (the command stops at the next execution boundary and
/// prints what it found so far), a second exits at once with status 130.
/// Corpus entries are written to a temporary file and renamed, so even that
/// leaves only whole entries behind.
pub fn catch_interrupts() -> Result<()> {
    static SIGNALS: AtomicU8 = AtomicU8::new(0);
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    let flag = interrupt_flag();
    INSTALLED
        .get_or_init(|| {
            ctrlc::set_handler(move || {
                if SIGNALS.fetch_add(1, Ordering::Relaxed) > 0 {
                    std::process::exit(Status::Interrupted as i32);
                }
                flag.store(true, Ordering::Relaxed);
            })
            .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|e| anyhow::anyhow!("cannot handle Ctrl-C: {e}"))
}

/// Write `text` and a newline to standard output. `Ok(false)`: the reader
/// went away (`| head`), and the command should end quietly with the status
/// of what it found so far. Any other write error (a full disk) is an error.
pub fn emit(text: &str) -> Result<bool> {
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(anyhow::Error::new(e).context("writing to standard output")),
    }
}

/// The width reports are fitted to: `$COLUMNS`, or 100.
pub fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&c| c >= 40)
        .unwrap_or(100)
}

/// Wrap `text` at spaces into lines of at most `width` characters (a word
/// longer than that gets a line of its own).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Fold a multi-line message into one line.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Workload knobs; each overrides the scheme's default workload.
#[derive(Args, Debug, Clone, Default)]
pub struct WorkloadArgs {
    /// User tasks, 1-12 (each opens a device and issues ioctls).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=crate::workload::MAX_USERS as i64))]
    users: Option<u32>,
    /// Ioctls per open file, 1-64.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=64))]
    ioctls: Option<u32>,
    /// Devices sharing the scheme's lock or SRCU domain, 1-4.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=crate::workload::MAX_DEVICES as i64))]
    devices: Option<u32>,
    /// Bookkeeping steps in removal before teardown, per device, 0-64.
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=64))]
    remove_work: Option<u32>,
    /// Let opens race cdev_device_del() (default: removal starts once every user has opened).
    #[arg(long)]
    open_races_del: bool,
    /// A workload file: a [workload] table with per-user and per-remover
    /// scripts (see examples/workloads/); replaces the knobs above.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["users", "ioctls", "devices", "remove_work", "open_races_del"])]
    workload: Option<std::path::PathBuf>,
}

impl WorkloadArgs {
    /// The scheme's default workload with these overrides.
    pub fn apply(&self, scheme: &Scheme) -> Result<Workload> {
        if let Some(path) = &self.workload {
            if !scheme.uses_workload() {
                bail!(
                    "scheme {} is a self-contained scenario: a workload file does not apply to it",
                    scheme.name
                );
            }
            return Ok(Workload::from_file(path)?);
        }
        let mut w = scheme.default_workload.clone();
        let any_knob = self.users.is_some()
            || self.ioctls.is_some()
            || self.devices.is_some()
            || self.remove_work.is_some()
            || self.open_races_del;
        if any_knob && w.is_scripted() {
            // The knobs describe a generated workload: they replace a
            // scheme's scripted default rather than edit it.
            w = Workload {
                source: None,
                ..Workload::knobs(w.users, 1, false, w.devices, w.remove_work)
            };
        }
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
    /// Draw every event of every task in reports, nothing cut (default:
    /// only the tasks and events the finding involves, long runs of one
    /// task's events elided, fitted to $COLUMNS or 100 columns).
    #[arg(long)]
    full: bool,
}

impl ReportArgs {
    /// The report detail these flags ask for.
    pub fn detailing(self) -> harness::report::Detailing {
        if self.full {
            harness::report::Detailing::Full
        } else {
            harness::report::Detailing::Fitted {
                width: terminal_width(),
            }
        }
    }
}

/// Per-execution flags.
#[derive(Args, Debug, Clone)]
pub struct ExecArgs {
    /// Scheduling decisions per execution before it is reported as a hang,
    /// 1-10000000.
    #[arg(long, default_value_t = DEFAULT_STEP_BUDGET,
          value_parser = clap::value_parser!(u64).range(1..=MAX_STEP_BUDGET))]
    step_budget: u64,
    /// Turn off happens-before data-race detection.
    #[arg(long)]
    no_race_detection: bool,
    /// The coroutine runtime of the sequentially consistent explorers:
    /// `native` (the engine's own executor) or `shuttle`. Both take the
    /// same decisions, so seeds and schedules replay the same on either.
    #[arg(long, default_value = "native", value_parser = parse_runtime)]
    runtime: Runtime,
}

fn parse_runtime(s: &str) -> std::result::Result<Runtime, String> {
    Runtime::parse(s).ok_or_else(|| format!("unknown runtime `{s}` (native, shuttle)"))
}

/// The largest `--step-budget`: a schedule that long is ten times the
/// default corpus-entry size cap, so nothing longer could be saved anyway.
pub const MAX_STEP_BUDGET: u64 = 10_000_000;

impl ExecArgs {
    /// The step budget asked for.
    pub fn step_budget(&self) -> u64 {
        self.step_budget
    }

    /// The engine settings.
    pub fn config(&self) -> Result<ExecConfig> {
        if self.step_budget == 0 {
            bail!("--step-budget must be at least 1");
        }
        Ok(ExecConfig {
            step_budget: self.step_budget,
            race_detection: !self.no_race_detection,
            runtime: self.runtime,
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
        if self.runtime != Runtime::default() {
            s.push_str(&format!(" --runtime {}", self.runtime.name()));
        }
        s
    }
}

/// Look a scheme up, or fail with the list of names.
pub fn scheme(name: &str) -> Result<&'static Scheme> {
    if crate::kc::is_c_path(name) {
        return Ok(crate::kc::load(name)?);
    }
    match crate::find(name) {
        Some(s) => Ok(s),
        None => {
            let closest = crate::registry()
                .map(|s| (strsim::levenshtein(name, s.name), s.name))
                .min()
                .filter(|&(d, _)| d <= 3 || name.len() >= 4 && d <= name.len() / 2);
            match closest {
                Some((_, near)) => bail!(
                    "unknown scheme '{name}'; did you mean '{near}'? (`{} list` lists them)",
                    program()
                ),
                None => bail!("unknown scheme '{name}' (`{} list` lists them)", program()),
            }
        }
    }
}

/// Parse an explorer name.
pub fn explorer(name: &str) -> Result<Explorer> {
    match Explorer::parse(name) {
        Some(e) => Ok(e),
        None => bail!(
            "unknown explorer '{name}' (random, pct, pct-dN, pos, cpos, surw, slow, guided, adaptive, portfolio)"
        ),
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

/// The longest duration a flag takes.
pub const MAX_DURATION: Duration = Duration::from_secs(1000 * 3600);

/// Parse a duration: `90`, `90s`, `500ms`, `2m`, `1h`; more than 0, at most
/// 1000h.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("'{s}' is not a duration (e.g. 30s, 500ms, 2m; at most 1000h)");
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
    if !secs.is_finite() || secs <= 0.0 || secs > MAX_DURATION.as_secs_f64() {
        return Err(bad());
    }
    Duration::try_from_secs_f64(secs).map_err(|_| bad())
}

/// The memory model the sequentially consistent explorers' verdicts hold
/// under, on either runtime (`--runtime native|shuttle`).
pub const SC_MODEL: &str = "sequential consistency, data races by happens-before (SC explorers)";

/// A schedule (task ids, one per decision) as `replay --schedule` takes it:
/// two hex digits per decision.
pub fn schedule_hex(schedule: &[u8]) -> String {
    schedule.iter().map(|t| format!("{t:02x}")).collect()
}

/// Parse `replay --schedule`: two hex digits per decision.
pub fn parse_schedule(s: &str) -> Result<Vec<u8>, String> {
    let bad = || format!("'{s}' is not a schedule (two hex digits per decision)");
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return Err(bad());
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|_| bad()))
        .collect()
}

/// The workload flags that shape `scheme`'s executions, for reports and
/// replay commands: none for a self-contained scenario (a probe, a litmus
/// test), which runs the same whatever the workload says.
pub fn workload_flags(scheme: &Scheme, workload: &Workload) -> String {
    if scheme.uses_workload() {
        workload.flags()
    } else {
        String::new()
    }
}

/// `flags` with a space before it, or nothing when there are none.
pub fn spaced(flags: &str) -> String {
    if flags.is_empty() {
        String::new()
    } else {
        format!(" {flags}")
    }
}

/// The command that replays `record`, found by `explorer`: by its seed
/// (under the portfolio member that ran it, for the portfolio), or,
/// for an explorer whose executions depend on the run before them (see
/// [`Explorer::replays_from_seed`]), by its recorded schedule.
pub fn replay_command(
    scheme: &Scheme,
    workload: &Workload,
    explorer: &Explorer,
    record: &ExecutionRecord,
    exec: &str,
) -> String {
    let explorer = record.replayed_by(explorer);
    if explorer.replays_from_seed() {
        format!(
            "{} replay --scheme {} --explorer {} --seed {:#018x}{}{}",
            program(),
            scheme.name,
            explorer.name(),
            record.seed,
            spaced(&workload_flags(scheme, workload)),
            exec
        )
    } else {
        format!(
            "{} replay --scheme {} --schedule {}{}{}",
            program(),
            scheme.name,
            schedule_hex(&record.schedule),
            spaced(&workload_flags(scheme, workload)),
            exec
        )
    }
}

/// The report header of an execution found by `explorer`.
pub fn record_header(
    scheme: &Scheme,
    workload: &Workload,
    explorer: &Explorer,
    record: &ExecutionRecord,
    exec: &ExecArgs,
) -> Header {
    Header {
        scheme: scheme.name.to_string(),
        workload: workload_flags(scheme, workload),
        replay: replay_command(scheme, workload, explorer, record, &exec.flags()),
        model: SC_MODEL.to_string(),
    }
}

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
        workload: workload_flags(scheme, workload),
        replay: format!(
            "{} replay --scheme {} --explorer {} --seed {seed:#018x}{}{}",
            program(),
            scheme.name,
            explorer.name(),
            spaced(&workload_flags(scheme, workload)),
            exec.flags()
        ),
        model: SC_MODEL.to_string(),
    }
}
