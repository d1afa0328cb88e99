//! Coverage-guided schedule fuzzing with `cargo fuzz`: the table of fuzz
//! targets, what one fuzz input means, and the bridges between fuzz inputs
//! and corpus entries.
//!
//! **The contract.** A fuzz input's bytes *are* the schedule, with no header:
//! one byte per scheduling decision that has a real choice, `byte %
//! enabled.len()` picking the task (harness `Drive::Bytes`), tasks run to
//! completion when the bytes run out. Target `T` runs scheme
//! [`FuzzTarget::scheme`] under [`FuzzTarget::workload`], listed once in
//! [`fuzz_targets`]: one target per scheme, named after it with `-` turned
//! into `_` and running its default workload, plus the extra workloads of
//! [`EXTRA_TARGETS`]. A libFuzzer artifact saved under
//! `fuzz/artifacts/<target>/` therefore replays with [`artifact_target`] and
//! [`run_input`] alone.

use crate::replay::{entry_for, replay_entry, reproduces, scheme_of, CorpusEntry, ReplayError};
use crate::schemes::Scheme;
use crate::workload::Workload;
use harness::corpus::{entry_paths, CorpusError, Entry};
use harness::engine::{run_single, BytesSession, Drive, EngineError, ExecConfig, SingleRun};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// One `cargo fuzz` target: a scheme under a fixed workload.
#[derive(Clone)]
pub struct FuzzTarget {
    /// The target's name (`fuzz/fuzz_targets/<name>.rs`), a valid Rust
    /// identifier so that it is also a valid binary name.
    pub name: String,
    /// The scheme it runs.
    pub scheme: &'static Scheme,
    /// The workload it runs.
    pub workload: Workload,
}

impl std::fmt::Debug for FuzzTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FuzzTarget")
            .field("name", &self.name)
            .field("scheme", &self.scheme.name)
            .field("workload", &self.workload)
            .finish()
    }
}

/// Targets beyond one per scheme: `(target name, scheme name, workload)`.
///
/// `srcu_single_drain_hard` is the design's hard workload, where a uniformly
/// random scheduler needs on the order of 10^5 executions: six users over two
/// devices sharing the broken SRCU domain, eight ioctls per open, eight
/// bookkeeping steps per device in removal.
pub const EXTRA_TARGETS: &[(&str, &str, Workload)] = &[(
    "srcu_single_drain_hard",
    "srcu-single-drain",
    Workload::knobs(6, 8, false, 2, 8),
)];

/// The name of the default-workload target of a scheme: its name with `-`
/// turned into `_`.
pub fn target_name(scheme: &str) -> String {
    scheme.replace('-', "_")
}

/// Every fuzz target of the [`crate::schemes::active`] registry: one per
/// scheme of its `all` set (default workload), in listing order, then its
/// extra targets (for the zoo, [`EXTRA_TARGETS`]).
pub fn fuzz_targets() -> Vec<FuzzTarget> {
    let registry = crate::schemes::active();
    let per_scheme = registry.schemes.iter().map(|&s| FuzzTarget {
        name: target_name(s.name),
        scheme: s,
        workload: s.default_workload.clone(),
    });
    let extra = registry
        .extra_targets
        .iter()
        .filter_map(|&(name, scheme, ref workload)| {
            Some(FuzzTarget {
                name: name.to_string(),
                scheme: registry.find(scheme)?,
                workload: workload.clone(),
            })
        });
    per_scheme.chain(extra).collect()
}

/// The source of target `name`'s cargo-fuzz binary,
/// `fuzz/fuzz_targets/<name>.rs`: the shared body of the `unplug_fuzz`
/// crate, told which target it runs.
pub fn target_source(name: &str) -> String {
    format!(
        "#![no_main]\n\
         // The target body lives in unplug_fuzz (one copy for every target); the\n\
         // scheme and workload come from unplug::fuzz_targets().\n\
         unplug_fuzz::fuzz_target!(\"{name}\");\n"
    )
}

/// The `[[bin]]` section of `fuzz/Cargo.toml` that declares target `name`
/// (cargo fuzz builds one binary per target, and a manifest cannot declare
/// binaries from code, so each is written out).
pub fn target_manifest_section(name: &str) -> String {
    format!(
        "[[bin]]\nname = \"{name}\"\npath = \"fuzz_targets/{name}.rs\"\ntest = false\ndoc = false\nbench = false\n"
    )
}

/// Look a target up by name (`srcu_single_drain`, `srcu_single_drain_hard`).
pub fn fuzz_target(name: &str) -> Option<FuzzTarget> {
    fuzz_targets().into_iter().find(|t| t.name == name)
}

/// The target a raw libFuzzer artifact belongs to, from where cargo fuzz
/// saved it: `…/fuzz/artifacts/<target>/crash-…` (also `oom-`, `timeout-`,
/// `slow-unit-`, or any file under a target's artifact directory).
pub fn artifact_target(path: &Path) -> Option<FuzzTarget> {
    let dir = path.parent()?;
    let target = dir.file_name()?.to_str()?;
    let artifacts = dir.parent()?.file_name()?;
    if artifacts != "artifacts" {
        return None;
    }
    fuzz_target(target)
}

/// Run one fuzz input on a target: exactly what the fuzz binary does, so an
/// artifact replays here with the same trace.
pub fn run_input(target: &FuzzTarget, bytes: &[u8]) -> Result<SingleRun, EngineError> {
    let scenario = target.scheme.scenario(target.workload.clone());
    run_single(
        &scenario,
        &Drive::Bytes(bytes.to_vec()),
        ExecConfig::default(),
    )
}

/// A long-lived runner for many inputs of one target, as the fuzz binaries
/// use it: each `run(bytes)` gives the record [`run_input`] gives, at a
/// fraction of the cost per input.
pub fn session(target: &FuzzTarget) -> BytesSession {
    BytesSession::new(
        target.scheme.scenario(target.workload.clone()),
        ExecConfig::default(),
    )
}

/// Errors of the fuzz bridges.
#[derive(Debug, thiserror::Error)]
pub enum FuzzError {
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// No fuzz target of that name.
    #[error(
        "unknown fuzz target '{0}' (targets are scheme names with '-' as '_', see fuzz/README.md)"
    )]
    UnknownTarget(String),
    /// A corpus entry could not be read.
    #[error(transparent)]
    Corpus(#[from] CorpusError),
    /// A schedule could not be replayed.
    #[error(transparent)]
    Replay(#[from] ReplayError),
}

/// Turn a fuzz input that found something into a corpus entry (explorer
/// `fuzz`) for its most severe finding; `None` if the input finds nothing.
/// The entry records task choices, so it replays with `Drive::Choices` like
/// any other entry; [`crate::minimize::minimize`] can shrink it afterwards.
pub fn import_input(target: &FuzzTarget, bytes: &[u8]) -> Result<Option<CorpusEntry>, FuzzError> {
    let run = run_input(target, bytes).map_err(ReplayError::from)?;
    Ok(run.record.worst().map(|f| {
        entry_for(
            target.scheme,
            target.workload.clone(),
            "fuzz",
            None,
            &run.record,
            f,
        )
    }))
}

/// Import a raw artifact file from `fuzz/artifacts/<target>/`.
pub fn import_artifact(path: &Path) -> Result<Option<CorpusEntry>, FuzzError> {
    let target = artifact_target(path).ok_or_else(|| {
        let name = path
            .parent()
            .and_then(|d| d.file_name())
            .map(|n| n.to_string_lossy().into_owned());
        FuzzError::UnknownTarget(name.unwrap_or_default())
    })?;
    let bytes = harness::corpus::read_capped(path)?;
    import_input(&target, &bytes)
}

/// The fuzz input that replays a corpus entry: the entry is replayed by its
/// task choices and the replay's byte schedule (the index of each chosen task
/// among the enabled ones) is the input. `None` if the entry does not
/// reproduce its finding (a stale entry makes no useful seed).
pub fn seed_input(entry: &CorpusEntry) -> Result<Option<Vec<u8>>, ReplayError> {
    let run = replay_entry(entry)?;
    Ok(reproduces(entry, &run).then_some(run.record.byte_schedule))
}

/// What [`write_seeds`] did.
#[derive(Debug, Default)]
pub struct SeedSummary {
    /// Seed files written (or already present with the same content).
    pub written: Vec<PathBuf>,
    /// Corpus entries that gave no seed, with the reason.
    pub skipped: Vec<(PathBuf, String)>,
}

/// Write one seed per corpus entry under `corpus_dir` into
/// `out_dir/<target>/seed-<hash>` for every target running the entry's
/// scheme under the entry's workload (cargo fuzz reads
/// `fuzz/corpus/<target>/`). Entries whose workload no target runs, or that
/// no longer reproduce, are skipped and listed.
pub fn write_seeds(corpus_dir: &Path, out_dir: &Path) -> Result<SeedSummary, FuzzError> {
    let targets = fuzz_targets();
    let mut summary = SeedSummary::default();
    for path in entry_paths(corpus_dir)? {
        let entry: CorpusEntry = Entry::load(&path)?;
        let matching: Vec<&FuzzTarget> = targets
            .iter()
            .filter(|t| t.scheme.name == entry.scheme && t.workload == entry.workload)
            .collect();
        if matching.is_empty() {
            // Distinguish an unknown scheme (an error) from an unusual workload.
            scheme_of(&entry)?;
            summary
                .skipped
                .push((path, "no fuzz target runs this workload".into()));
            continue;
        }
        let Some(bytes) = seed_input(&entry)? else {
            summary
                .skipped
                .push((path, "does not reproduce its finding".into()));
            continue;
        };
        for t in matching {
            let file = out_dir
                .join(&t.name)
                .join(format!("seed-{:016x}", fnv(&bytes)));
            write_file(&file, &bytes)?;
            summary.written.push(file);
        }
    }
    Ok(summary)
}

/// FNV-1a: a stable content hash for seed file names, so regenerating seeds
/// rewrites the same files instead of adding copies.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), FuzzError> {
    let io = |source| FuzzError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(io)?;
    }
    let mut f = fs::File::create(path).map_err(io)?;
    f.write_all(bytes).map_err(io)
}
