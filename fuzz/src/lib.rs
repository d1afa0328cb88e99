//! The one body shared by every unplug fuzz target.
//!
//! A fuzz input is a schedule: its bytes drive the harness's bytes scheduler
//! (see `unplug::fuzz`), on the scheme and workload the target's entry in
//! `unplug::fuzz_targets()` names. After each execution:
//!
//! * its interleaving features (`harness::feedback`) are counted into an
//!   array of 8-bit counters that libFuzzer reads as extra coverage, because
//!   code coverage is the same for every interleaving of the same code;
//! * any finding aborts the process (a panic, which libFuzzer's Rust runtime
//!   turns into an abort) so that libFuzzer saves the input as an artifact.
//!   Data races count: "data race only" is the verdict of the patch under
//!   review, and a target blind to it would call that scheme clean.
//!
//! Set `UNPLUG_FUZZ_FEEDBACK=0` to run without the interleaving feedback
//! (code coverage only), to measure what it buys, or to a list of feature
//! kinds (`switch,comm,preempt`) to feed only those.

use harness::engine::BytesSession;
use harness::feedback::{for_each_feature, FeatureKind};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

pub use libfuzzer_sys;
pub use unplug;

/// Number of interleaving counters. Feature hashes are folded into this
/// many slots; the zoo's scenarios produce a few thousand distinct pairs at
/// most, so collisions stay rare while libFuzzer's per-run scan stays cheap.
pub const COUNTERS: usize = 1 << 14;

/// The interleaving counters. libFuzzer finds every array in the
/// `__libfuzzer_extra_counters` section through the linker's
/// `__start_`/`__stop_` symbols, clears it before each run and folds the
/// non-zero counters (bucketed by hit count) into its feature set, exactly
/// like its own inline 8-bit counters. `#[used]` keeps the otherwise
/// write-only array from being discarded.
///
/// Not `__sancov_cntrs`: that section holds the compiler's own inline
/// counters, and libFuzzer requires it to match the PC table
/// (`__sancov_pcs`) entry for entry; an array added there makes libFuzzer
/// stop at start-up with "The size of coverage PC tables does not match".
#[used]
#[link_section = "__libfuzzer_extra_counters"]
static EXTRA_COUNTERS: [AtomicU8; COUNTERS] = [const { AtomicU8::new(0) }; COUNTERS];

/// The interleaving feature kinds fed to libFuzzer, from
/// `UNPLUG_FUZZ_FEEDBACK`, read once per process: unset or `1` for all,
/// `0` for none, or a comma-separated list of `switch`, `comm`, `preempt`.
pub fn feedback_kinds() -> &'static [FeatureKind] {
    static KINDS: OnceLock<Vec<FeatureKind>> = OnceLock::new();
    KINDS.get_or_init(|| {
        let all = vec![
            FeatureKind::Switch,
            FeatureKind::Communication,
            FeatureKind::Preemptions,
        ];
        match std::env::var("UNPLUG_FUZZ_FEEDBACK") {
            Err(_) => all,
            Ok(v) if v == "1" => all,
            Ok(v) => v
                .split(',')
                .filter_map(|k| match k.trim() {
                    "switch" => Some(FeatureKind::Switch),
                    "comm" => Some(FeatureKind::Communication),
                    "preempt" => Some(FeatureKind::Preemptions),
                    _ => None,
                })
                .collect(),
        }
    })
}

fn bump(hash: u64) {
    let slot = &EXTRA_COUNTERS[(hash % COUNTERS as u64) as usize];
    // One fuzzing thread: a load and a store suffice, saturating so that a
    // hot pair never wraps back to "not seen".
    slot.store(
        slot.load(Ordering::Relaxed).saturating_add(1),
        Ordering::Relaxed,
    );
}

/// The target's session: one per process (a fuzz binary runs one target),
/// kept across inputs because starting a run per input costs more than the
/// execution (see `harness::engine::BytesSession`).
fn session(name: &str) -> &'static Mutex<BytesSession> {
    static SESSION: OnceLock<Mutex<BytesSession>> = OnceLock::new();
    SESSION.get_or_init(|| {
        let target = unplug::fuzz_target(name)
            .unwrap_or_else(|| panic!("no fuzz target '{name}' in unplug::fuzz_targets()"));
        Mutex::new(unplug::fuzz::session(&target))
    })
}

/// Run one fuzz input on target `name`; panics (so libFuzzer aborts and
/// saves the input) if the execution has a finding or the scenario itself
/// panicked. The record is the one `unplug::fuzz::run_input` gives for
/// the same bytes, which is how `unplug replay` replays an artifact.
pub fn run(name: &str, data: &[u8]) {
    let result = session(name)
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .run(data);
    let record = match result {
        Ok(record) => record,
        Err(e) => panic!("{name}: {e}"),
    };
    let kinds = feedback_kinds();
    if !kinds.is_empty() {
        for_each_feature(&record, |kind, hash| {
            if kinds.contains(&kind) {
                bump(hash);
            }
        });
    }
    if let Some(finding) = record.worst() {
        panic!("{name}: {}", finding.headline());
    }
}

/// Define a fuzz target for the entry `name` of `unplug::fuzz_targets()`.
///
/// A driver crate's own fuzz crate names its registry too:
/// `unplug_fuzz::fuzz_target!("tpm_no_ops_sem", driver_crate::registry());`
/// installs it before the first input, so the target names a scheme of
/// that crate.
#[macro_export]
macro_rules! fuzz_target {
    ($name:literal) => {
        $crate::libfuzzer_sys::fuzz_target!(|data: &[u8]| $crate::run($name, data));
    };
    ($name:literal, $registry:expr) => {
        $crate::libfuzzer_sys::fuzz_target!(|data: &[u8]| {
            static INSTALL: ::std::sync::Once = ::std::sync::Once::new();
            INSTALL.call_once(|| {
                if let Err(e) = $crate::unplug::schemes::install($registry) {
                    panic!("{}: {e}", $name);
                }
            });
            $crate::run($name, data)
        });
    };
}
