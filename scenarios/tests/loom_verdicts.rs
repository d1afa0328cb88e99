//! The loom backend, deepening the preemption bound from 1 within
//! `unplug compare`'s loom budget, reaches every scheme's declared C11
//! verdict (kind and object) with its default workload.
//!
//! The expected verdicts are the zoo's declared values
//! (`Scheme::expected.c11`); these tests compare exploration against them.

use harness::exhaustive::DEFAULT_PREEMPTION_BOUND;
use harness::finding::Detail;
use unplug::verdict::{expected_words, judge, Judgement, Model, Outcome, Verdict};
use unplug::verify::{
    deepen, verify, DeepenConfig, DeepenEnd, VerifyError, VerifyOutcome, MAX_LOOM_USERS,
};
use unplug::{find, Scheme, Workload};

fn scheme(name: &str) -> &'static Scheme {
    find(name).unwrap_or_else(|| panic!("the zoo has no scheme {name}"))
}

fn verify_default(s: &Scheme) -> VerifyOutcome {
    verify(s, s.default_workload.clone(), s.loom_bound())
        .unwrap_or_else(|e| panic!("{}: {e}", s.name))
}

/// The loom budget of `unplug compare`'s loom cell.
const LOOM_EXECUTIONS: u64 = 10_000;

/// Deepen `name` from bound 1 within compare's loom budget, and hold the
/// verdict against its declared C11 expectation (kind and object).
fn reaches_declared_verdict(name: &str) {
    let s = scheme(name);
    let config = DeepenConfig {
        executions: LOOM_EXECUTIONS,
        ..DeepenConfig::default()
    };
    let d = deepen(s, s.default_workload.clone(), &config, &|_, _| {})
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let verdict =
        Verdict::from_deepening(&d, |b| format!("unplug verify {name} --preemptions {b}"));
    assert_eq!(
        judge(&verdict, s),
        Judgement::Match,
        "{name}: loom says {verdict}; expected {}",
        expected_words(&s.expected, Model::C11)
    );
    assert!(verdict.executions > 0 && verdict.executions <= LOOM_EXECUTIONS);
    match &verdict.outcome {
        // No finding means every execution within some bound was explored,
        // at least the default bound.
        Outcome::Exhaustive { bound, .. } => {
            assert!(*bound >= DEFAULT_PREEMPTION_BOUND, "{name}: {verdict}");
            assert!(d.worst().is_none());
        }
        Outcome::Found(found) => {
            let bound = found.bound.expect("a loom finding names its bound");
            assert!(
                bound <= s.loom_bound(),
                "{name}: found at bound {bound}, deeper than the declared {}",
                s.loom_bound()
            );
            let round = d.worst().expect("a verdict comes with its exploration");
            let finding = round.finding.as_ref().expect("and its finding");
            let record = round.record.as_ref().expect("and its execution");
            assert!(
                record.findings.contains(finding),
                "{name}: the record must be the finding's execution"
            );
            assert!(
                !record.events.is_empty(),
                "{name}: the failing execution's trace is its description"
            );
            // The deepening explored every shallower bound completely first.
            for r in d.rounds.iter().filter(|r| r.bound < bound) {
                assert!(
                    r.complete || r.verdict.is_some(),
                    "{name}: bound {}",
                    r.bound
                );
            }
        }
        other => panic!("{name}: {other:?}"),
    }
}

/// At exactly bound 2 the single-drain bug is out of reach: the complete
/// bound-2 exploration finds nothing, which is a mismatch with the declared
/// use-after-removal, never a match.
#[test]
fn srcu_single_drain_at_bound_two_is_complete_and_a_mismatch() {
    let s = scheme("srcu-single-drain");
    let config = DeepenConfig {
        from: 2,
        to: Some(2),
        executions: LOOM_EXECUTIONS,
        ..DeepenConfig::default()
    };
    let d = deepen(s, s.default_workload.clone(), &config, &|_, _| {}).expect("runs");
    assert_eq!(d.end, DeepenEnd::LastBound);
    let verdict = Verdict::from_deepening(&d, |_| String::new());
    assert!(
        matches!(verdict.outcome, Outcome::Exhaustive { bound: 2, .. }),
        "{verdict}"
    );
    assert!(matches!(judge(&verdict, s), Judgement::Mismatch(_)));
}

/// A budget that cuts the first bound short gives no answer, never a
/// match, whatever the expectation.
#[test]
fn a_run_cut_short_is_never_a_match() {
    for name in ["flag-under-write-lock", "srcu-single-drain"] {
        let s = scheme(name);
        let config = DeepenConfig {
            executions: 5,
            ..DeepenConfig::default()
        };
        let d = deepen(s, s.default_workload.clone(), &config, &|_, _| {}).expect("runs");
        let verdict = Verdict::from_deepening(&d, |_| String::new());
        assert!(
            matches!(verdict.outcome, Outcome::Incomplete { .. }),
            "{name}: {verdict}"
        );
        assert!(matches!(judge(&verdict, s), Judgement::Inconclusive(_)));
    }
}

/// Ctrl-C (the cancel flag) stops loom before its next execution: the
/// deepening ends as interrupted, keeps what the bounds before showed, says
/// which bound it stopped in, and is never a match. The flag is set as
/// bound `at` starts, so the outcome does not depend on timing.
#[test]
fn an_interrupted_deepening_keeps_its_evidence_and_is_never_a_match() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let cases = [
        // Clean within bound 1, stopped as bound 2 starts.
        (
            "flag-under-write-lock",
            2,
            "no finding at ≤ 1 preemptions, complete",
        ),
        // Stopped before anything ran: no evidence at all.
        (
            "flag-under-write-lock",
            1,
            "incomplete: interrupted after 0 executions at bound 1",
        ),
        // A data race at bound 1, deepening on (`--all-bounds`) for a fatal
        // finding, which the interrupted bound 2 does not rule out.
        (
            "srcu-plain-flag",
            2,
            "data-race of mem0.kobj.state_in_sysfs",
        ),
    ];
    for (name, at, evidence) in cases {
        let s = scheme(name);
        let cancel = Arc::new(AtomicBool::new(false));
        let config = DeepenConfig {
            executions: LOOM_EXECUTIONS,
            cancel: Some(Arc::clone(&cancel)),
            past_first_finding: true,
            ..DeepenConfig::default()
        };
        let d = deepen(s, s.default_workload.clone(), &config, &|bound, _| {
            if bound == at {
                cancel.store(true, Ordering::Relaxed);
            }
        })
        .expect("runs");
        assert_eq!(d.end, DeepenEnd::Interrupted, "{name}");
        assert_eq!(d.last().map(|r| r.bound), Some(at), "{name}");
        let verdict = Verdict::from_deepening(&d, |_| String::new());
        assert!(verdict.interrupted, "{name}: {verdict}");
        let text = verdict.to_string();
        assert!(text.contains(evidence), "{name}: {text}");
        if at > 1 {
            assert!(text.contains("interrupted"), "{name}: {text}");
        }
        assert!(
            matches!(judge(&verdict, s), Judgement::Inconclusive(_)),
            "{name}: {verdict}"
        );
    }
}

/// The zoo in four shards, so that the test runner explores them in
/// parallel; every scheme of the table is in exactly one.
const SHARDS: usize = 4;

fn shard(k: usize) {
    for (i, s) in unplug::ALL.iter().enumerate() {
        if i % SHARDS == k {
            reaches_declared_verdict(s.name);
        }
    }
}

#[test]
fn every_scheme_reaches_its_declared_c11_verdict_shard_0() {
    shard(0);
}

#[test]
fn every_scheme_reaches_its_declared_c11_verdict_shard_1() {
    shard(1);
}

#[test]
fn every_scheme_reaches_its_declared_c11_verdict_shard_2() {
    shard(2);
}

#[test]
fn every_scheme_reaches_its_declared_c11_verdict_shard_3() {
    shard(3);
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
        ..s.default_workload.clone()
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
        ..s.default_workload.clone()
    };
    assert!(matches!(verify(s, wl, 1), Err(VerifyError::Workload(_))));
}

/// A bound of zero explores the non-preemptive schedules only; the C11
/// use-after-removal needs a preemption, and nothing else is wrong with the
/// gate (its data accesses are ordered before the decrement and the free
/// after the poll), so bound 0 finds nothing, completely.
#[test]
fn the_store_buffering_bug_needs_a_preemption() {
    let s = scheme("counter-flag-no-barrier");
    let out = verify(s, s.default_workload.clone(), 0).expect("verify runs");
    assert_eq!(out.verdict, None);
    assert!(out.complete);
}
