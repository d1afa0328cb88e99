//! The loom backend on small litmus scenarios: which access pairs race
//! (exactly the kernel's rule: conflicting, unordered, at least one plain),
//! which orderings hand memory over, and how deadlocks, hangs and leaks are
//! reported. Where sequential consistency and C11 agree, the shuttle engine
//! must reach the same verdict on the same scenario.

use std::sync::Arc;
use unplug_harness::engine::{explore, Explorer, RunConfig, ScenarioFn};
use unplug_harness::exhaustive::{explore_exhaustive, ExhaustiveConfig, ExhaustiveError};
use unplug_harness::finding::FindingKind;
use unplug_harness::kernel::{
    cpu_relax, kfree, kzalloc, mutex_lock, mutex_unlock, smp_load_acquire, smp_mb,
    smp_store_release, spawn_task, Mutex, Plain, READ_ONCE, WRITE_ONCE,
};

const RACE: Option<FindingKind> = Some(FindingKind::DataRace);
const CLEAN: Option<FindingKind> = None;

type Side = fn(&Plain<i64>, &Plain<i64>);

/// Two tasks running `a` and `b` on cells `x` and `flag`.
fn two_tasks(a: Side, b: Side) -> ScenarioFn {
    Arc::new(move || {
        let x = Plain::new("x", None, 0i64);
        let flag = Plain::new("flag", None, 0i64);
        let ta = spawn_task("a", move || a(&x, &flag));
        let tb = spawn_task("b", move || b(&x, &flag));
        ta.join();
        tb.join();
    })
}

fn loom_verdict(scenario: &ScenarioFn) -> Option<FindingKind> {
    let run = explore_exhaustive(scenario, &ExhaustiveConfig::default())
        .expect("the litmus scenario runs");
    run.verdict()
}

fn shuttle_verdict(scenario: &ScenarioFn) -> Option<FindingKind> {
    let run = RunConfig::until_first_fatal(Explorer::Random, 7, 2_000);
    explore(scenario, &run, None)
        .expect("the litmus scenario runs")
        .verdict()
}

/// Both backends reach `expected` on `a` ∥ `b`.
fn both(a: Side, b: Side, expected: Option<FindingKind>) {
    let s = two_tasks(a, b);
    assert_eq!(loom_verdict(&s), expected, "loom");
    assert_eq!(shuttle_verdict(&s), expected, "shuttle");
}

fn plain_read(x: &Plain<i64>, _: &Plain<i64>) {
    x.read();
}
fn plain_write(x: &Plain<i64>, _: &Plain<i64>) {
    x.write(1);
}
fn once_read(x: &Plain<i64>, _: &Plain<i64>) {
    READ_ONCE(x);
}
fn once_write(x: &Plain<i64>, _: &Plain<i64>) {
    WRITE_ONCE(x, 1);
}

#[test]
fn plain_read_races_with_plain_write() {
    both(plain_read, plain_write, RACE);
}

#[test]
fn plain_writes_race() {
    both(plain_write, plain_write, RACE);
}

#[test]
fn plain_reads_do_not_race() {
    both(plain_read, plain_read, CLEAN);
}

#[test]
fn plain_read_races_with_write_once() {
    both(plain_read, once_write, RACE);
}

#[test]
fn read_once_races_with_plain_write() {
    both(once_read, plain_write, RACE);
}

#[test]
fn marked_accesses_never_race() {
    both(once_read, once_write, CLEAN);
    both(once_write, once_write, CLEAN);
}

#[test]
fn a_mutex_orders_plain_accesses() {
    let s: ScenarioFn = Arc::new(|| {
        let m = Mutex::new("m", None);
        let x = Plain::new("x", None, 0i64);
        let a = spawn_task("a", move || {
            mutex_lock(&m);
            x.write(1);
            mutex_unlock(&m);
        });
        let b = spawn_task("b", move || {
            mutex_lock(&m);
            x.read();
            mutex_unlock(&m);
        });
        a.join();
        b.join();
    });
    assert_eq!(loom_verdict(&s), CLEAN);
    assert_eq!(shuttle_verdict(&s), CLEAN);
}

/// Message passing: the plain payload is handed over by a release/acquire
/// pair on the flag, or by full barriers around relaxed flag accesses; a
/// relaxed flag alone hands nothing over.
#[test]
fn message_passing() {
    fn send_release(x: &Plain<i64>, flag: &Plain<i64>) {
        x.write(1);
        smp_store_release(flag, 1);
    }
    fn recv_acquire(x: &Plain<i64>, flag: &Plain<i64>) {
        if smp_load_acquire(flag) == 1 {
            x.read();
        }
    }
    fn send_relaxed(x: &Plain<i64>, flag: &Plain<i64>) {
        x.write(1);
        WRITE_ONCE(flag, 1);
    }
    fn recv_relaxed(x: &Plain<i64>, flag: &Plain<i64>) {
        if READ_ONCE(flag) == 1 {
            x.read();
        }
    }
    fn send_mb(x: &Plain<i64>, flag: &Plain<i64>) {
        x.write(1);
        smp_mb();
        WRITE_ONCE(flag, 1);
    }
    fn recv_mb(x: &Plain<i64>, flag: &Plain<i64>) {
        if READ_ONCE(flag) == 1 {
            smp_mb();
            x.read();
        }
    }
    both(send_release, recv_acquire, CLEAN);
    both(send_relaxed, recv_relaxed, RACE);
    both(send_mb, recv_mb, CLEAN);
}

/// An ABBA lock order: every live task blocked.
#[test]
fn abba_is_a_deadlock() {
    let s: ScenarioFn = Arc::new(|| {
        let m1 = Mutex::new("m1", None);
        let m2 = Mutex::new("m2", None);
        let a = spawn_task("a", move || {
            mutex_lock(&m1);
            mutex_lock(&m2);
            mutex_unlock(&m2);
            mutex_unlock(&m1);
        });
        let b = spawn_task("b", move || {
            mutex_lock(&m2);
            mutex_lock(&m1);
            mutex_unlock(&m1);
            mutex_unlock(&m2);
        });
        a.join();
        b.join();
    });
    let run = explore_exhaustive(&s, &ExhaustiveConfig::default()).expect("runs");
    assert_eq!(run.verdict(), Some(FindingKind::Deadlock));
    assert!(!run.complete, "a fatal finding ends the exploration");
    let (finding, record) = run.worst().expect("a deadlock finding");
    assert!(
        finding.headline().contains("mutex_lock(&m"),
        "{}",
        finding.headline()
    );
    assert!(record.findings.contains(finding));
}

/// A poll for a flag nobody sets never ends: loom runs out of branches.
#[test]
fn an_endless_poll_is_a_hang() {
    let s: ScenarioFn = Arc::new(|| {
        let flag = Plain::new("flag", None, 0i64);
        let t = spawn_task("poller", move || {
            while READ_ONCE(&flag) == 0 {
                cpu_relax();
            }
        });
        t.join();
    });
    let config = ExhaustiveConfig {
        max_branches: 500,
        ..ExhaustiveConfig::default()
    };
    let run = explore_exhaustive(&s, &config).expect("runs");
    assert_eq!(run.verdict(), Some(FindingKind::Hang));
}

#[test]
fn an_object_never_freed_is_a_leak() {
    let leaky: ScenarioFn = Arc::new(|| {
        kzalloc("buf");
    });
    assert_eq!(loom_verdict(&leaky), Some(FindingKind::Leak));
    let tidy: ScenarioFn = Arc::new(|| kfree(kzalloc("buf")));
    assert_eq!(loom_verdict(&tidy), CLEAN);
}

/// A free racing an access: loom orders them both ways, and the world
/// reports the access that comes second.
#[test]
fn an_access_unordered_with_the_free_is_a_use_after_removal() {
    let s: ScenarioFn = Arc::new(|| {
        let obj = kzalloc("obj");
        let a = spawn_task("user", move || obj.read());
        let b = spawn_task("remove", move || kfree(obj));
        a.join();
        b.join();
    });
    assert_eq!(loom_verdict(&s), Some(FindingKind::UseAfterRemoval));
}

#[test]
fn a_scenario_bug_is_an_error_not_a_finding() {
    let s: ScenarioFn = Arc::new(|| panic!("scenario bug"));
    let err =
        explore_exhaustive(&s, &ExhaustiveConfig::default()).expect_err("the scenario panics");
    assert!(
        matches!(err, ExhaustiveError::ScenarioPanicked(ref m) if m.contains("scenario bug")),
        "{err}"
    );
}

#[test]
fn too_many_tasks_is_an_error() {
    let s: ScenarioFn = Arc::new(|| {
        let tasks: Vec<_> = (0..unplug_harness::runtime::MAX_LOOM_TASKS)
            .map(|i| spawn_task(format!("t{i}"), || {}))
            .collect();
        for t in tasks {
            t.join();
        }
    });
    let err = explore_exhaustive(&s, &ExhaustiveConfig::default()).expect_err("too many tasks");
    assert!(matches!(err, ExhaustiveError::TooManyTasks { .. }), "{err}");
}

#[test]
fn an_oversized_bound_is_an_error() {
    let s: ScenarioFn = Arc::new(|| {});
    let config = ExhaustiveConfig {
        preemption_bound: 1_000,
        ..ExhaustiveConfig::default()
    };
    assert!(matches!(
        explore_exhaustive(&s, &config),
        Err(ExhaustiveError::BoundTooLarge(1_000))
    ));
}
