//! The primitives the litmus suite added, on both backends: `smp_wmb()` /
//! `smp_rmb()`, spinlocks, `rcu_dereference()`, `xchg()`/`cmpxchg()` and
//! their variants, and scenario assertions (`BUG_ON`, `WARN_ON`) as
//! findings with their own report.

use std::sync::Arc;
use unplug_harness::engine::{explore, Explorer, RunConfig, ScenarioFn};
use unplug_harness::exhaustive::{explore_exhaustive, ExhaustiveConfig};
use unplug_harness::finding::{AssertionKind, Detail, FindingKind};
use unplug_harness::kernel::{
    atomic_add_unless, atomic_read, cmpxchg, smp_mb__after_atomic, xchg, xchg_acquire,
    xchg_relaxed, xchg_release, Atomic,
};
use unplug_harness::kernel::{
    kfree, kzalloc, rcu_assign_pointer, rcu_dereference, rcu_read_lock, rcu_read_unlock, smp_rmb,
    smp_wmb, spawn_task, spin_lock, spin_unlock, Plain, Spinlock, BUG_ON, READ_ONCE, WARN_ON,
    WRITE_ONCE,
};
use unplug_harness::report::{render, Detailing, Header};

const RACE: Option<FindingKind> = Some(FindingKind::DataRace);
const ASSERTION: Option<FindingKind> = Some(FindingKind::Assertion);
const CLEAN: Option<FindingKind> = None;

fn loom_verdict(scenario: &ScenarioFn) -> Option<FindingKind> {
    explore_exhaustive(scenario, &ExhaustiveConfig::default())
        .expect("the scenario runs")
        .verdict()
}

fn shuttle_run(scenario: &ScenarioFn) -> unplug_harness::engine::RunStats {
    let run = RunConfig::until_first_fatal(Explorer::Random, 11, 2_000);
    explore(scenario, &run, None).expect("the scenario runs")
}

fn both(scenario: ScenarioFn, expected: Option<FindingKind>, what: &str) {
    assert_eq!(loom_verdict(&scenario), expected, "loom: {what}");
    assert_eq!(
        shuttle_run(&scenario).verdict(),
        expected,
        "shuttle: {what}"
    );
}

/// Plain data published by a `WRITE_ONCE` flag, with or without the
/// barriers on each side.
fn message_passing(wmb: bool, rmb: bool) -> ScenarioFn {
    Arc::new(move || {
        let data = Plain::new("data", None, 0i64);
        let flag = Plain::new("flag", None, 0i64);
        let a = spawn_task("a", move || {
            data.write(1);
            if wmb {
                smp_wmb();
            }
            WRITE_ONCE(&flag, 1);
        });
        let b = spawn_task("b", move || {
            if READ_ONCE(&flag) == 1 {
                if rmb {
                    smp_rmb();
                }
                data.read();
            }
        });
        a.join();
        b.join();
    })
}

#[test]
fn smp_wmb_and_smp_rmb_together_order_plain_data_behind_a_flag() {
    both(message_passing(true, true), CLEAN, "wmb + rmb");
    both(message_passing(false, true), RACE, "rmb alone");
    both(message_passing(true, false), RACE, "wmb alone");
}

#[test]
fn a_spinlock_orders_its_critical_sections() {
    let locked = |lock: bool| -> ScenarioFn {
        Arc::new(move || {
            let x = Plain::new("x", None, 0i64);
            let l = Spinlock::new("l", None);
            let tasks: Vec<_> = (0..2)
                .map(|i| {
                    spawn_task(format!("t{i}"), move || {
                        if lock {
                            spin_lock(&l);
                        }
                        x.write(x.read() + 1);
                        if lock {
                            spin_unlock(&l);
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.join();
            }
        })
    };
    both(locked(true), CLEAN, "under the lock");
    both(locked(false), RACE, "without it");
}

#[test]
fn unlocking_a_spinlock_not_held_is_an_invariant_failure() {
    let s: ScenarioFn = Arc::new(|| {
        let l = Spinlock::new("l", None);
        spin_unlock(&l);
    });
    both(
        s,
        Some(FindingKind::Invariant),
        "spin_unlock without spin_lock",
    );
}

#[test]
fn rcu_dereference_orders_the_initialisation_of_what_it_points_to() {
    let publish = |rcu: bool| -> ScenarioFn {
        Arc::new(move || {
            let p = Plain::new("p", None, None);
            let w = spawn_task("writer", move || {
                let obj = kzalloc("obj");
                let field = Plain::new("obj.field", Some(obj), 0i64);
                field.write(1);
                if rcu {
                    rcu_assign_pointer(&p, Some(obj));
                } else {
                    WRITE_ONCE(&p, Some(obj));
                }
                // Kept alive to the end: a reader may still use it.
                let _ = field;
            });
            let r = spawn_task("reader", move || {
                rcu_read_lock();
                let seen = if rcu {
                    rcu_dereference(&p)
                } else {
                    READ_ONCE(&p)
                };
                if let Some(obj) = seen {
                    obj.read();
                }
                rcu_read_unlock();
            });
            w.join();
            r.join();
            if let Some(obj) = READ_ONCE(&p) {
                kfree(obj);
            }
        })
    };
    // The object's memory is an access checked against its allocation by
    // use-after-removal, not by the race detector; what rcu_dereference
    // must give is a clean run.
    both(publish(true), CLEAN, "rcu_assign_pointer / rcu_dereference");
}

#[test]
fn bug_on_and_warn_on_are_assertion_findings_only_when_their_condition_holds() {
    let bug: ScenarioFn = Arc::new(|| {
        let x = Plain::new("x", None, 0i64);
        let t = spawn_task("t", move || WRITE_ONCE(&x, 1));
        BUG_ON(READ_ONCE(&x) == 1);
        t.join();
    });
    both(bug, ASSERTION, "BUG_ON on a value another task may write");
    let quiet: ScenarioFn = Arc::new(|| {
        BUG_ON(false);
        assert!(!WARN_ON(false));
    });
    both(quiet, CLEAN, "conditions that never hold");
    let warn: ScenarioFn = Arc::new(|| {
        assert!(WARN_ON(true));
    });
    both(warn, ASSERTION, "WARN_ON(true)");
}

#[test]
fn an_assertion_report_names_the_kernel_splat_and_the_site() {
    let bug: ScenarioFn = Arc::new(|| BUG_ON(true));
    let stats = shuttle_run(&bug);
    let (_, record) = &stats.distinct[0];
    let finding = &record.findings[0];
    let Detail::Assertion { kind, at, .. } = &finding.detail else {
        panic!("an assertion, got {finding:?}");
    };
    assert_eq!(*kind, AssertionKind::Bug);
    assert!(
        at.site.starts_with("barriers_locks_assertions.rs:"),
        "{}",
        at.site
    );
    let header = Header {
        scheme: "probe".into(),
        workload: String::new(),
        replay: String::new(),
        model: "sequential consistency".into(),
    };
    let text = render(&header, record, finding, Detailing::Full);
    assert!(
        text.contains(&format!("kernel BUG at {}!", at.site)),
        "{text}"
    );
    assert_eq!(finding.kind.name(), "assertion");
}

/// Plain data handed over through a flag set and taken with exchanges of
/// the given orderings.
fn handoff(set: fn(&Plain<i64>), take: fn(&Plain<i64>) -> i64) -> ScenarioFn {
    Arc::new(move || {
        let data = Plain::new("data", None, 0i64);
        let flag = Plain::new("flag", None, 0i64);
        let a = spawn_task("a", move || {
            data.write(1);
            set(&flag);
        });
        let b = spawn_task("b", move || {
            if take(&flag) == 1 {
                data.read();
            }
        });
        a.join();
        b.join();
    })
}

#[test]
fn xchg_orders_by_its_suffix() {
    both(
        handoff(
            |f| {
                xchg_release(f, 1);
            },
            |f| xchg_acquire(f, 2),
        ),
        CLEAN,
        "release / acquire",
    );
    both(
        handoff(
            |f| {
                xchg(f, 1);
            },
            |f| xchg(f, 2),
        ),
        CLEAN,
        "fully ordered",
    );
    both(
        handoff(
            |f| {
                xchg_relaxed(f, 1);
            },
            |f| xchg_relaxed(f, 2),
        ),
        RACE,
        "relaxed",
    );
    both(
        handoff(
            |f| {
                xchg_release(f, 1);
            },
            |f| xchg_relaxed(f, 2),
        ),
        RACE,
        "release, then relaxed",
    );
}

#[test]
fn a_failed_cmpxchg_orders_nothing_unless_followed_by_smp_mb_after_atomic() {
    // a's cmpxchg(flag, 0, 1) succeeds (fully ordered); b's cmpxchg(flag,
    // 0, 5) fails when it reads a's 1.
    both(
        handoff(
            |f| {
                cmpxchg(f, 0, 1);
            },
            |f| cmpxchg(f, 0, 5),
        ),
        RACE,
        "failed cmpxchg alone",
    );
    both(
        handoff(
            |f| {
                cmpxchg(f, 0, 1);
            },
            |f| {
                let v = cmpxchg(f, 0, 5);
                smp_mb__after_atomic();
                v
            },
        ),
        CLEAN,
        "failed cmpxchg + smp_mb__after_atomic()",
    );
}

#[test]
fn atomic_add_unless_adds_unless_it_sees_the_limit() {
    let s: ScenarioFn = Arc::new(|| {
        let v = Atomic::new("v", None, 1);
        let t = spawn_task("t", move || {
            assert!(atomic_add_unless(&v, 1, 0));
        });
        t.join();
        BUG_ON(atomic_read(&v) != 2);
        assert!(!atomic_add_unless(&Atomic::new("w", None, 0), 1, 0));
    });
    both(s, CLEAN, "add unless 0");
}
