//! The data-race detector's rules, one test each, on both backends: the
//! SC explorers' happens-before detector (sequential consistency) and
//! loom's (C11). The rule is the kernel's: two accesses to one location, at
//! least one a write and at least one plain, race unless one happens-before
//! the other; `kfree()` is a plain write of the whole object.

use std::sync::Arc;
use unplug_harness::engine::{
    explore, Budget, ExecConfig, Explorer, RunConfig, ScenarioFn, StopPolicy,
};
use unplug_harness::exhaustive::{explore_exhaustive, ExhaustiveConfig};
use unplug_harness::finding::{Detail, FindingKind};
use unplug_harness::kernel::{
    atomic_dec, atomic_inc, atomic_read, cpu_relax, kfree, kzalloc, smp_load_acquire, smp_mb,
    smp_mb__before_atomic, smp_store_release, spawn_task, Atomic, Object, Plain, READ_ONCE,
    WRITE_ONCE,
};

const RACE: Option<FindingKind> = Some(FindingKind::DataRace);
const CLEAN: Option<FindingKind> = None;

fn loom_verdict(s: &ScenarioFn) -> Option<FindingKind> {
    explore_exhaustive(s, &ExhaustiveConfig::default())
        .expect("the scenario runs")
        .verdict()
}

/// The verdict of every shuttle explorer over ten seeds, which must agree.
fn shuttle_verdict(s: &ScenarioFn) -> Option<FindingKind> {
    let mut verdicts = Vec::new();
    for explorer in [Explorer::Random, Explorer::Pct { depth: None }] {
        for seed in 1..=10 {
            let run = RunConfig {
                explorer: explorer.clone(),
                seed,
                budget: Budget {
                    iterations: Some(1_000),
                    time: None,
                },
                exec: ExecConfig::default(),
                stop: StopPolicy::FirstFatal,
                shard: (0, 1),
            };
            verdicts.push(explore(s, &run, None).expect("runs").verdict());
        }
    }
    verdicts.dedup();
    assert_eq!(
        verdicts.len(),
        1,
        "explorers and seeds disagree: {verdicts:?}"
    );
    verdicts[0]
}

fn both(s: ScenarioFn, expected: Option<FindingKind>) {
    assert_eq!(shuttle_verdict(&s), expected, "shuttle");
    assert_eq!(loom_verdict(&s), expected, "loom");
}

fn spin(flag: &Plain<i64>) {
    while READ_ONCE(flag) == 0 {
        cpu_relax();
    }
}

/// `a` and `b` as two tasks on cells `x` and `ready`.
fn pair(a: fn(&Plain<i64>, &Plain<i64>), b: fn(&Plain<i64>, &Plain<i64>)) -> ScenarioFn {
    Arc::new(move || {
        let x = Plain::new("x", None, 0i64);
        let ready = Plain::new("ready", None, 0i64);
        let ta = spawn_task("a", move || a(&x, &ready));
        let tb = spawn_task("b", move || b(&x, &ready));
        ta.join();
        tb.join();
    })
}

/// A marked write does not erase a marked read from the history: a later
/// plain write by the same task, unordered with the read, races with it.
#[test]
fn a_marked_write_keeps_earlier_marked_reads() {
    let s = pair(
        |x, ready| {
            READ_ONCE(x);
            WRITE_ONCE(ready, 1);
        },
        |x, ready| {
            spin(ready);
            WRITE_ONCE(x, 1);
            x.write(2);
        },
    );
    both(s, RACE);
}

/// A marked write does not erase a plain read either, even one that
/// happens-before it: a later marked write unordered with the read races
/// with it.
#[test]
fn a_marked_write_keeps_plain_reads_for_later_marked_writes() {
    let s: ScenarioFn = Arc::new(|| {
        let x = Plain::new("x", None, 0i64);
        let ready = Plain::new("ready", None, 0i64);
        let go = Plain::new("go", None, 0i64);
        let a = spawn_task("a", move || {
            x.read();
            smp_store_release(&ready, 1);
        });
        let b = spawn_task("b", move || {
            while smp_load_acquire(&ready) == 0 {
                cpu_relax();
            }
            WRITE_ONCE(&x, 1);
            WRITE_ONCE(&go, 1);
        });
        // No second spinner (two spinners can wake each other forever):
        // c writes only once it saw b's write done.
        let c = spawn_task("c", move || {
            if READ_ONCE(&go) == 1 {
                WRITE_ONCE(&x, 2);
            }
        });
        a.join();
        b.join();
        c.join();
    });
    both(s, RACE);
}

/// A later marked read does not replace an earlier plain read of the same
/// task: a marked write unordered with the plain read races with it.
#[test]
fn a_marked_read_does_not_replace_a_plain_read() {
    let s = pair(
        |x, ready| {
            x.read();
            READ_ONCE(x);
            WRITE_ONCE(ready, 1);
        },
        |x, ready| {
            spin(ready);
            WRITE_ONCE(x, 1);
        },
    );
    both(s, RACE);
}

/// A marked write does not hide an earlier plain write from a later marked
/// read: the plain write happens-before the marked one, but not the read.
#[test]
fn a_marked_write_keeps_the_last_plain_write() {
    let s: ScenarioFn = Arc::new(|| {
        let x = Plain::new("x", None, 0i64);
        let ready = Plain::new("ready", None, 0i64);
        let go = Plain::new("go", None, 0i64);
        let a = spawn_task("a", move || {
            x.write(1);
            smp_store_release(&ready, 1);
        });
        let b = spawn_task("b", move || {
            while smp_load_acquire(&ready) == 0 {
                cpu_relax();
            }
            WRITE_ONCE(&x, 2);
            WRITE_ONCE(&go, 1);
        });
        let c = spawn_task("c", move || {
            if READ_ONCE(&go) == 1 {
                READ_ONCE(&x);
            }
        });
        a.join();
        b.join();
        c.join();
    });
    both(s, RACE);
}

/// Concurrent marked writes are kept per task: a plain read ordered after
/// one of them but not the other races with the other.
#[test]
fn concurrent_marked_writes_are_all_kept() {
    let s: ScenarioFn = Arc::new(|| {
        let x = Plain::new("x", None, 0i64);
        let ready = Plain::new("ready", None, 0i64);
        let a = spawn_task("a", move || {
            WRITE_ONCE(&x, 1);
        });
        let b = spawn_task("b", move || {
            WRITE_ONCE(&x, 2);
            smp_store_release(&ready, 1);
        });
        let c = spawn_task("c", move || {
            while smp_load_acquire(&ready) == 0 {
                cpu_relax();
            }
            x.read();
        });
        a.join();
        b.join();
        c.join();
    });
    both(s, RACE);
}

/// Release/acquire orders the marked read before both writes: no race.
#[test]
fn release_acquire_orders_the_read_before_the_writes() {
    let s = pair(
        |x, ready| {
            READ_ONCE(x);
            smp_store_release(ready, 1);
        },
        |x, ready| {
            while smp_load_acquire(ready) == 0 {
                cpu_relax();
            }
            WRITE_ONCE(x, 1);
            x.write(2);
        },
    );
    both(s, CLEAN);
}

/// `read *obj; publish` against `wait; kfree(obj)`, with the given pair.
fn read_then_free(publish: fn(&Plain<i64>), wait: fn(&Plain<i64>)) -> ScenarioFn {
    Arc::new(move || {
        let obj = kzalloc("obj");
        let done = Plain::new("done", None, 0i64);
        let a = spawn_task("user", move || {
            obj.read();
            publish(&done);
        });
        let b = spawn_task("remove", move || {
            wait(&done);
            kfree(obj);
        });
        a.join();
        b.join();
    })
}

/// The free is a plain write of the object: a read that does not
/// happen-before it races with it (it is not a use-after-free: the read
/// came first).
#[test]
fn kfree_races_with_an_unordered_earlier_read() {
    both(read_then_free(|d| WRITE_ONCE(d, 1), spin), RACE);
}

#[test]
fn kfree_after_acquire_does_not_race() {
    fn wait(d: &Plain<i64>) {
        while smp_load_acquire(d) == 0 {
            cpu_relax();
        }
    }
    both(read_then_free(|d| smp_store_release(d, 1), wait), CLEAN);
}

/// The free writes every cell embedded in the object: even a marked read
/// of a field races with an unordered free, and the report names the field.
#[test]
fn kfree_races_with_a_marked_access_to_an_embedded_field() {
    let s: ScenarioFn = Arc::new(|| {
        let obj = kzalloc("obj");
        let field = Plain::new("obj->field", Some(obj), 0i64);
        let done = Plain::new("done", None, 0i64);
        let a = spawn_task("user", move || {
            READ_ONCE(&field);
            WRITE_ONCE(&done, 1);
        });
        let b = spawn_task("remove", move || {
            spin(&done);
            kfree(obj);
        });
        a.join();
        b.join();
    });
    both(s.clone(), RACE);
    let run = explore_exhaustive(&s, &ExhaustiveConfig::default()).expect("runs");
    let (finding, _) = run.worst().expect("a race");
    let Detail::DataRace { cell, .. } = &finding.detail else {
        panic!("{}", finding.headline())
    };
    assert_eq!(cell, "obj->field");
}

/// Object writes are plain: two unordered writes race, two reads do not.
#[test]
fn object_accesses_are_plain() {
    fn two(a: fn(Object), b: fn(Object)) -> ScenarioFn {
        Arc::new(move || {
            let obj = kzalloc("obj");
            let ta = spawn_task("a", move || a(obj));
            let tb = spawn_task("b", move || b(obj));
            ta.join();
            tb.join();
            kfree(obj);
        })
    }
    both(two(|o| o.write(), |o| o.write()), RACE);
    both(two(|o| o.read(), |o| o.write()), RACE);
    both(two(|o| o.read(), |o| o.read()), CLEAN);
}

/// "Wait for the users to drop to zero, then free": each user's
/// `smp_mb__before_atomic(); atomic_dec()` pairs with the poller's
/// `smp_mb()` after it saw zero, even when another user's increment and
/// decrement came in between (they continue the release sequence); with a
/// bare `atomic_dec()` the users' reads race with the free.
#[test]
fn a_counter_drained_to_zero_orders_the_free_only_with_barriers() {
    fn scenario(barrier: bool) -> ScenarioFn {
        Arc::new(move || {
            let obj = kzalloc("obj");
            let users = Atomic::new("users", None, 2);
            let user = move || {
                obj.read();
                if barrier {
                    smp_mb__before_atomic();
                }
                atomic_dec(&users);
            };
            let a = spawn_task("user0", user);
            let b = spawn_task("user1", move || {
                atomic_inc(&users);
                user();
                user();
            });
            let r = spawn_task("remove", move || {
                while atomic_read(&users) != 0 {
                    cpu_relax();
                }
                smp_mb();
                kfree(obj);
            });
            a.join();
            b.join();
            r.join();
        })
    }
    both(scenario(true), CLEAN);
    both(scenario(false), RACE);
}

/// A task's relaxed store publishes only what preceded its last fence: before
/// its first fence that is the history it was spawned with, not its own
/// accesses. The reader's `smp_mb()` cannot acquire what was never released.
#[test]
fn write_once_before_any_fence_publishes_none_of_the_writers_accesses() {
    let s = pair(
        |x, ready| {
            x.write(1);
            WRITE_ONCE(ready, 1);
        },
        |x, ready| {
            if READ_ONCE(ready) == 1 {
                smp_mb();
                x.read();
            }
        },
    );
    both(s, RACE);
}

/// SRCU's store-buffering pair is per index: an updater's check of
/// `count[1]` (the first drain of `synchronize_srcu()`) orders nothing for a
/// reader that then increments `count[0]`. In every execution where the
/// reader's increment of `count[0]` falls between that check and the index
/// flip, and its plain read of `x` comes after the updater's plain write
/// before `synchronize_srcu()`, the two race (nothing orders them: the
/// grace period has not waited for this reader, and the reader did not
/// load the flipped index). A detector pairing checks of one index with
/// increments of the other finds none of these races.
#[test]
fn an_srcu_check_of_one_index_does_not_order_readers_of_the_other() {
    use unplug_harness::engine::{run_single, Drive};
    use unplug_harness::kernel::{srcu_read_lock, srcu_read_unlock, synchronize_srcu, SrcuStruct};
    let s: ScenarioFn = Arc::new(|| {
        let ss = SrcuStruct::new("ss");
        let x = Plain::new("x", None, 0i64);
        let u = spawn_task("updater", move || {
            x.write(1);
            synchronize_srcu(&ss);
        });
        let r = spawn_task("reader", move || {
            let idx = srcu_read_lock(&ss);
            x.read();
            srcu_read_unlock(&ss, idx);
        });
        u.join();
        r.join();
    });
    let mut in_window = 0;
    for seed in 0..3_000 {
        let drive = Drive::Seed {
            explorer: Explorer::Random,
            seed,
        };
        let record = run_single(&s, &drive, ExecConfig::default())
            .expect("runs")
            .record;
        let at = |text: &str| record.events.iter().position(|e| e.text == text);
        let (Some(write), Some(check), Some(flip), Some(inc), Some(read)) = (
            at("x = 1"),
            at("synchronize_srcu(&ss): drained -> 1"),
            at("synchronize_srcu(&ss): flip -> 1"),
            at("srcu_read_lock(&ss) -> 0"),
            at("x == 1"),
        ) else {
            continue;
        };
        if !(write < check && check < inc && inc < flip && write < read) {
            continue;
        }
        in_window += 1;
        assert!(
            record
                .findings
                .iter()
                .any(|f| matches!(&f.detail, Detail::DataRace { cell, .. } if cell == "x")),
            "seed {seed}: no race reported in {:?}",
            record.events.iter().map(|e| &e.text).collect::<Vec<_>>()
        );
    }
    assert!(
        in_window > 0,
        "no execution of 3000 put the reader in the window"
    );
}
