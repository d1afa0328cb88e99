//! The loom backend reaches every scheme's declared C11 verdict at the
//! scheme's declared preemption bound, with its default workload.
//!
//! The expected verdicts are the zoo's declared values
//! (`Scheme::expected.c11`); these tests compare exploration against them.

use harness::finding::{Detail, FindingKind};
use scenarios::verify::{verify, VerifyError, VerifyOutcome, MAX_LOOM_USERS};
use scenarios::{find, Scheme, Workload};

fn scheme(name: &str) -> &'static Scheme {
    find(name).unwrap_or_else(|| panic!("the zoo has no scheme {name}"))
}

fn verify_default(s: &Scheme) -> VerifyOutcome {
    verify(s, s.default_workload, s.loom_bound()).unwrap_or_else(|e| panic!("{}: {e}", s.name))
}

/// Verify `name` and check the outcome against its declared C11 verdict.
fn reaches_declared_verdict(name: &str) {
    let s = scheme(name);
    let out = verify_default(s);
    assert_eq!(
        out.verdict,
        s.expected.c11,
        "{name}: loom at bound {} reached {:?} ({}) after {} executions",
        out.bound,
        out.verdict,
        out.finding.as_ref().map_or(String::new(), |f| f.headline()),
        out.executions,
    );
    assert_eq!(out.bound, s.loom_bound());
    assert!(out.executions > 0);
    match out.verdict {
        // Clean means clean within the bound: every execution was explored.
        None => {
            assert!(
                out.complete,
                "{name}: clean but the exploration was cut short"
            );
            assert!(out.finding.is_none() && out.record.is_none());
        }
        Some(kind) => {
            let finding = out
                .finding
                .as_ref()
                .expect("a verdict comes with its finding");
            assert_eq!(finding.kind, kind);
            let record = out
                .record
                .as_ref()
                .expect("a finding comes with its execution");
            assert!(
                record.findings.contains(finding),
                "{name}: the record must be the finding's execution"
            );
            assert!(
                !record.events.is_empty(),
                "{name}: the failing execution's trace is its description"
            );
        }
    }
}

#[test]
fn unsynchronized() {
    reaches_declared_verdict("unsynchronized");
}

#[test]
fn srcu_plain_flag() {
    reaches_declared_verdict("srcu-plain-flag");
}

#[test]
fn bool_then_lock_cycle() {
    reaches_declared_verdict("bool-then-lock-cycle");
}

#[test]
fn flag_under_write_lock() {
    reaches_declared_verdict("flag-under-write-lock");
}

#[test]
fn srcu_pointer() {
    reaches_declared_verdict("srcu-pointer");
}

#[test]
fn srcu_once_flag() {
    reaches_declared_verdict("srcu-once-flag");
}

#[test]
fn lock_cycle_before_clear() {
    reaches_declared_verdict("lock-cycle-before-clear");
}

#[test]
fn srcu_no_synchronize() {
    reaches_declared_verdict("srcu-no-synchronize");
}

#[test]
fn synchronize_before_clear() {
    reaches_declared_verdict("synchronize-before-clear");
}

#[test]
fn check_outside_lock() {
    reaches_declared_verdict("check-outside-lock");
}

#[test]
fn srcu_single_drain() {
    reaches_declared_verdict("srcu-single-drain");
}

#[test]
fn nested_down_read() {
    reaches_declared_verdict("nested-down-read");
}

#[test]
fn synchronize_under_mutex() {
    reaches_declared_verdict("synchronize-under-mutex");
}

#[test]
fn percpu_ref_no_devref() {
    reaches_declared_verdict("percpu-ref-no-devref");
}

#[test]
fn percpu_ref_bare_cdev() {
    reaches_declared_verdict("percpu-ref-bare-cdev");
}

#[test]
fn bare_cdev_open_devref() {
    reaches_declared_verdict("bare-cdev-open-devref");
}

#[test]
fn open_unchecked() {
    reaches_declared_verdict("open-unchecked");
}

#[test]
fn counter_flag_no_barrier() {
    reaches_declared_verdict("counter-flag-no-barrier");
}

#[test]
fn counter_flag_mb() {
    reaches_declared_verdict("counter-flag-mb");
}

#[test]
fn every_scheme_is_covered_above() {
    // The per-scheme tests above run in parallel; this keeps the list honest.
    let covered = [
        "unsynchronized",
        "srcu-plain-flag",
        "bool-then-lock-cycle",
        "flag-under-write-lock",
        "srcu-pointer",
        "srcu-once-flag",
        "lock-cycle-before-clear",
        "srcu-no-synchronize",
        "synchronize-before-clear",
        "check-outside-lock",
        "srcu-single-drain",
        "nested-down-read",
        "synchronize-under-mutex",
        "percpu-ref-no-devref",
        "percpu-ref-bare-cdev",
        "bare-cdev-open-devref",
        "open-unchecked",
        "counter-flag-no-barrier",
        "counter-flag-mb",
    ];
    for s in scenarios::ALL {
        assert!(
            covered.contains(&s.name),
            "{} has no loom verdict test",
            s.name
        );
    }
}

/// The use-after-removal loom finds in `counter-flag-no-barrier` is store
/// buffering: in the failing execution, removal's poll of the user count
/// reads a value that no sequentially consistent execution of that trace
/// could — an increment earlier in execution order is not seen.
#[test]
fn counter_flag_no_barrier_fails_by_store_buffering() {
    let out = verify_default(scheme("counter-flag-no-barrier"));
    let record = out.record.expect("the scheme fails under loom");
    let mut sc_value: i64 = 0;
    let mut stale_read = false;
    for e in record
        .events
        .iter()
        .filter(|e| e.text.contains("cxlmd->users"))
    {
        // `atomic_inc(&…) -> 1`, `atomic_read(&…) == 0`: the value is last.
        let value: i64 = e
            .text
            .rsplit(' ')
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("counter events show their value: {}", e.text));
        if e.text.starts_with("atomic_read") {
            stale_read |= value != sc_value;
        } else {
            sc_value = value;
        }
    }
    assert!(
        stale_read,
        "the failing execution must read a stale user count:\n{:#?}",
        record.events
    );
    let Some(Detail::UseAfterRemoval { object, access, .. }) = out.finding.map(|f| f.detail) else {
        panic!("the finding is a use-after-removal");
    };
    assert_eq!(object, "mem0.cxlm");
    assert!(
        access.task.starts_with("user"),
        "the ioctl is the one that touches freed memory"
    );
}

/// The data race in `srcu-plain-flag` is the one from the review: the
/// ioctl's plain read of `state_in_sysfs` against `cdev_device_del()`'s
/// plain store, and nothing more severe exists within the bound.
#[test]
fn srcu_plain_flag_race_is_on_state_in_sysfs() {
    let out = verify_default(scheme("srcu-plain-flag"));
    assert!(out.complete, "a data race does not end the exploration");
    let Some(Detail::DataRace {
        cell,
        first,
        second,
    }) = out.finding.map(|f| f.detail)
    else {
        panic!("the finding is a data race");
    };
    assert_eq!(cell, "mem0.kobj.state_in_sysfs");
    let mut ops = [first.op.as_str(), second.op.as_str()];
    ops.sort_unstable();
    assert_eq!(
        ops,
        [
            "cdev_device_del()  [mem0.kobj.state_in_sysfs = false]",
            "device_is_registered()  [mem0.kobj.state_in_sysfs == true]",
        ]
    );
}

/// Loom's exploration order is deterministic: the same scheme, workload and
/// bound give the same outcome.
#[test]
fn verify_is_deterministic() {
    let s = scheme("check-outside-lock");
    let a = verify_default(s);
    let b = verify_default(s);
    assert_eq!(a.executions, b.executions);
    assert_eq!(a.finding, b.finding);
    let texts = |o: &VerifyOutcome| o.record.as_ref().map(|r| r.events.clone());
    assert_eq!(texts(&a), texts(&b));
}

#[test]
fn more_users_than_loom_threads_is_an_error() {
    let s = scheme("flag-under-write-lock");
    let wl = Workload {
        users: MAX_LOOM_USERS + 1,
        ..s.default_workload
    };
    assert!(
        matches!(verify(s, wl, 1), Err(VerifyError::TooManyUsers { got, .. }) if got == MAX_LOOM_USERS + 1)
    );
}

#[test]
fn invalid_workload_is_an_error() {
    let s = scheme("flag-under-write-lock");
    let wl = Workload {
        users: 0,
        ..s.default_workload
    };
    assert!(matches!(verify(s, wl, 1), Err(VerifyError::Workload(_))));
}

/// A bound of zero explores the non-preemptive schedules only; the C11
/// bug needs a preemption.
#[test]
fn the_store_buffering_bug_needs_a_preemption() {
    let s = scheme("counter-flag-no-barrier");
    let out = verify(s, s.default_workload, 0).expect("verify runs");
    assert_eq!(out.verdict, None::<FindingKind>);
    assert!(out.complete);
}
