//! The kernel's memory-model litmus tests (tools/memory-model/litmus-tests/
//! in the kernel tree) as self-contained scenarios: a conformance suite for
//! the model, against results nobody here wrote.
//!
//! Each test is translated line for line: its processes `P0`, `P1`, … are
//! tasks spawned by init, its `READ_ONCE()`/`smp_store_release()`/locks are
//! the model's primitives of the same names, its registers are values the
//! tasks hand back, and its `exists` clause is checked by init after joining
//! every task ([`harness::kernel::litmus_exists`]): an outcome the test asks
//! about shows up as an [`FindingKind::Assertion`] finding. The LKMM result
//! (`Result: Never` / `Sometimes` in the test's header) is declared next to
//! each test, together with what a backend cannot produce by construction
//! and every known disagreement, with its reason. [`run`] explores a test
//! under the SC explorers and under loom and compares.
//!
//! The tests are grouped by pattern, one file per family; the last file
//! holds the tests of Documentation/litmus-tests/ (atomics, locking) that
//! the model's primitives can express.

use crate::schemes::{Body, Expected, Scheme, DEFAULT_WORKLOAD};
use harness::finding::FindingKind;
use harness::kernel::{litmus_exists, Plain};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

mod atomics_and_locking;
mod chains;
mod coherence;
mod load_buffering;
mod message_passing;
pub mod run;
mod store_buffering;

/// The result the kernel memory model gives a test (its header's
/// `Result:` line, as herd7 computes it from tools/memory-model).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lkmm {
    /// No execution allowed by LKMM satisfies the `exists` clause.
    Never,
    /// Some execution allowed by LKMM satisfies it.
    Sometimes,
}

impl Lkmm {
    /// As the test header writes it.
    pub fn name(self) -> &'static str {
        match self {
            Lkmm::Never => "Never",
            Lkmm::Sometimes => "Sometimes",
        }
    }
}

/// One litmus test of the kernel tree, translated.
pub struct Litmus {
    /// The scenario, registered under the test's kernel name
    /// (`MP+pooncerelease+poacquireonce`).
    pub scheme: Scheme,
    /// The published LKMM result, transcribed from the test's header.
    pub lkmm: Lkmm,
    /// The `exists` clause, as in the test.
    pub exists: &'static str,
    /// Why the `exists` outcome needs load buffering (a load reading from
    /// a store that comes later in another task's program order, in a
    /// cycle), if it does. Neither backend can produce such an outcome:
    /// the SC explorers execute every access in order, and loom's C11
    /// model has no load buffering.
    pub load_buffering: Option<&'static str>,
    /// Why loom cannot produce the `exists` outcome by construction, if it
    /// cannot (besides load buffering).
    pub loom_limit: Option<&'static str>,
    /// A known disagreement between a backend and LKMM, with its reason.
    pub divergence: Option<&'static str>,
}

impl Litmus {
    /// The test's kernel name.
    pub fn name(&self) -> &'static str {
        self.scheme.name
    }

    /// Why loom cannot produce the outcome, if it cannot by construction.
    pub fn loom_unexplorable(&self) -> Option<&'static str> {
        self.load_buffering.or(self.loom_limit)
    }

    /// The outcome needs load buffering: LB-shaped.
    const fn lb(mut self, reason: &'static str) -> Self {
        self.load_buffering = Some(reason);
        self.scheme.expected = expected(self.lkmm, true);
        self
    }

    /// Loom cannot produce the outcome, for this reason. (No translated
    /// test needs it today: every non-LB outcome LKMM allows, loom
    /// produces.)
    #[allow(dead_code)]
    const fn loom_limit(mut self, reason: &'static str) -> Self {
        self.loom_limit = Some(reason);
        self.scheme.expected = expected(self.lkmm, true);
        self
    }

    /// A declared disagreement, explained.
    const fn diverges(mut self, reason: &'static str) -> Self {
        self.divergence = Some(reason);
        self
    }
}

/// What the model is expected to give a test: the SC explorers reach
/// no weak outcome (every test's `exists` outcome is non-SC), loom reaches
/// a `Sometimes` outcome unless it cannot by construction.
const fn expected(lkmm: Lkmm, loom_unexplorable: bool) -> Expected {
    let reached = matches!(lkmm, Lkmm::Sometimes) && !loom_unexplorable;
    Expected {
        sc: None,
        c11: if reached {
            Some(FindingKind::Assertion)
        } else {
            None
        },
        object: None,
        site: None,
        also: None,
    }
}

/// A test with nothing special declared.
const fn test(
    name: &'static str,
    summary: &'static str,
    lkmm: Lkmm,
    exists: &'static str,
    body: fn(),
) -> Litmus {
    Litmus {
        scheme: Scheme {
            name,
            summary,
            expected: expected(lkmm, false),
            default_workload: DEFAULT_WORKLOAD,
            body: Body::Scenario(body),
            loom_bound: None,
        },
        lkmm,
        exists,
        load_buffering: None,
        loom_limit: None,
        divergence: None,
    }
}

/// Every translated test, by family.
pub static ALL: &[Litmus] = &[
    coherence::CO_RR,
    coherence::CO_RW,
    coherence::CO_WR,
    coherence::CO_WW,
    message_passing::MP_PO,
    message_passing::MP_RELEASE_ACQUIRE,
    message_passing::MP_WMB_RMB,
    message_passing::MP_ASSIGN_DEREF,
    message_passing::MP_LOCKS,
    message_passing::MP_REVLOCKS,
    message_passing::MP_UNLOCKLOCK_RMB,
    store_buffering::SB_PO,
    store_buffering::SB_MB,
    store_buffering::SB_RFI,
    store_buffering::R_PO,
    store_buffering::R_MB,
    load_buffering::LB_PO,
    load_buffering::LB_CTRL_MB,
    load_buffering::LB_ACQUIRE_RELEASE,
    load_buffering::LB_UNLOCKLOCK_ACQUIRE,
    load_buffering::DEP_PLAIN,
    chains::S_PO,
    chains::S_WMB_ACQUIRE,
    chains::ISA2_PO,
    chains::ISA2_RELEASE_ACQUIRE,
    chains::ISA2_LOCKS_MB,
    chains::WRC_PO,
    chains::WRC_RELEASE_RMB,
    chains::Z6_LOCKS_MB,
    chains::Z6_LOCKS_AFTER_SPINLOCK_MB,
    chains::Z6_RELEASE_ACQUIRE_MB,
    chains::IRIW_PO,
    chains::IRIW_MB,
    atomics_and_locking::ATOMIC_RMW_MB_AFTER_ATOMIC,
    atomics_and_locking::ATOMIC_RMW_VS_SET,
    atomics_and_locking::CMPXCHG_FAIL_ORDERED_1,
    atomics_and_locking::CMPXCHG_FAIL_UNORDERED_1,
    atomics_and_locking::CMPXCHG_FAIL_ORDERED_2,
    atomics_and_locking::CMPXCHG_FAIL_UNORDERED_2,
    atomics_and_locking::DCL_BROKEN,
    atomics_and_locking::DCL_FIXED,
    atomics_and_locking::RM_FIXED,
];

/// Tests of the kernel's litmus directories that are not translated, with
/// why.
pub static SKIPPED: &[(&str, &str)] = &[
    (
        "MP+polockmbonce+poacquiresilsil",
        "uses spin_is_locked(), which LKMM models as a read of the lock's state ordered with the lock's own accesses; the model has no spin_is_locked()",
    ),
    (
        "MP+polockonce+poacquiresilsil",
        "uses spin_is_locked() (see above)",
    ),
    (
        "RM-broken",
        "Documentation/litmus-tests/locking/: its result is DEADLOCK, not Never or Sometimes",
    ),
    (
        "RCU+sync+free, RCU+sync+read",
        "Documentation/litmus-tests/rcu/: use synchronize_rcu(), which the model does not have (it has SRCU)",
    ),
];

/// Look a test up by its kernel name.
pub fn find(name: &str) -> Option<&'static Litmus> {
    ALL.iter().find(|t| t.name() == name)
}

/// A test's `int` variable, initially 0 (litmus tests start from zeroed
/// memory unless their init block says otherwise).
#[track_caller]
fn int(name: &'static str) -> Plain<i64> {
    Plain::new(name, None, 0)
}

/// The registers of a test's processes: values each task hands back to
/// init for the final check (outside the model, like herd7's final state).
#[derive(Clone, Default)]
struct Regs(Arc<[AtomicI64; 4]>);

impl Regs {
    fn set(&self, i: usize, v: i64) {
        // Every task of an execution runs on one OS thread.
        self.0[i].store(v, Ordering::Relaxed);
    }

    fn get(&self, i: usize) -> i64 {
        self.0[i].load(Ordering::Relaxed)
    }
}

/// The `exists` clause, checked by init after the joins, on `observed`
/// (`("1:r0", 1)`, `("x", 2)`): an assertion finding if `holds`.
#[track_caller]
fn exists(clause: &str, observed: &[(&str, i64)], holds: bool) {
    let values: Vec<String> = observed.iter().map(|(n, v)| format!("{n}={v}")).collect();
    litmus_exists(clause, values.join(" "), holds);
}
