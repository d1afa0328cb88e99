//! The kernel model's primitives, each checked by exploring a tiny scenario
//! built to show one property.

use std::sync::Arc;
use unplug_harness::engine::{
    explore, Budget, ExecConfig, Explorer, RunConfig, RunStats, ScenarioFn, StopPolicy,
};
use unplug_harness::finding::{Detail, FindingKind};
use unplug_harness::kernel::*;

fn run(body: impl Fn() + Send + Sync + 'static, iterations: u64) -> RunStats {
    let scenario: ScenarioFn = Arc::new(body);
    let cfg = RunConfig {
        explorer: Explorer::Portfolio,
        seed: 42,
        budget: Budget {
            iterations: Some(iterations),
            time: None,
        },
        exec: ExecConfig::default(),
        stop: StopPolicy::Never,
        shard: (0, 1),
    };
    explore(&scenario, &cfg, None).expect("the scenario never panics")
}

fn kinds(stats: &RunStats) -> Vec<FindingKind> {
    stats.first.keys().copied().collect()
}

fn join_all(tasks: Vec<Task>) {
    for t in tasks {
        t.join();
    }
}

#[test]
fn a_queued_writer_blocks_new_readers_so_a_nested_down_read_deadlocks() {
    let stats = run(
        || {
            let sem = RwSemaphore::new("sem");
            let reader = spawn_task("reader", move || {
                down_read(&sem);
                down_read(&sem);
                up_read(&sem);
                up_read(&sem);
            });
            let writer = spawn_task("writer", move || {
                down_write(&sem);
                up_write(&sem);
            });
            join_all(vec![reader, writer]);
        },
        2_000,
    );
    assert_eq!(kinds(&stats), vec![FindingKind::Deadlock]);
    let (_, record) = &stats.distinct[0];
    let Detail::Deadlock { waits, .. } = &record.findings[0].detail else {
        panic!("not a deadlock")
    };
    let text = format!("{waits:?}");
    assert!(
        text.contains("down_read(&sem)") && text.contains("down_write(&sem)"),
        "{text}"
    );
    assert!(
        text.contains("writer queued: writer"),
        "names the queued writer: {text}"
    );
}

#[test]
fn readers_share_the_semaphore_and_writers_exclude_them() {
    // Two readers and a writer touching a plain cell: the lock orders every
    // conflicting pair, so nothing is found in any interleaving.
    let stats = run(
        || {
            let sem = RwSemaphore::new("sem");
            let x = Plain::new("x", None, 0i64);
            let mut tasks = Vec::new();
            for i in 0..2 {
                tasks.push(spawn_task(format!("reader{i}"), move || {
                    down_read(&sem);
                    x.read();
                    up_read(&sem);
                }));
            }
            tasks.push(spawn_task("writer", move || {
                down_write(&sem);
                x.write(1);
                up_write(&sem);
            }));
            join_all(tasks);
        },
        3_000,
    );
    assert!(kinds(&stats).is_empty(), "{:?}", kinds(&stats));
}

#[test]
fn unordered_plain_accesses_race_and_marked_ones_do_not() {
    let plain = run(
        || {
            let flag = Plain::new("flag", None, true);
            let a = spawn_task("reader", move || {
                flag.read();
            });
            let b = spawn_task("writer", move || flag.write(false));
            join_all(vec![a, b]);
        },
        200,
    );
    assert_eq!(kinds(&plain), vec![FindingKind::DataRace]);

    let marked = run(
        || {
            let flag = Plain::new("flag", None, true);
            let a = spawn_task("reader", move || {
                READ_ONCE(&flag);
            });
            let b = spawn_task("writer", move || WRITE_ONCE(&flag, false));
            join_all(vec![a, b]);
        },
        200,
    );
    assert!(kinds(&marked).is_empty());
}

#[test]
fn release_acquire_message_passing_orders_the_payload() {
    // The payload is plain; it is safe only because the flag is published
    // with release and read with acquire.
    let message_passing = |release: bool| {
        move || {
            let data = Plain::new("data", None, 0i64);
            let ready = Plain::new("ready", None, false);
            let producer = spawn_task("producer", move || {
                data.write(42);
                if release {
                    smp_store_release(&ready, true);
                } else {
                    WRITE_ONCE(&ready, true);
                }
            });
            let consumer = spawn_task("consumer", move || {
                let seen = if release {
                    smp_load_acquire(&ready)
                } else {
                    READ_ONCE(&ready)
                };
                if seen {
                    data.read();
                }
            });
            join_all(vec![producer, consumer]);
        }
    };
    assert!(kinds(&run(message_passing(true), 500)).is_empty());
    assert_eq!(
        kinds(&run(message_passing(false), 500)),
        vec![FindingKind::DataRace],
        "relaxed publication orders nothing"
    );
}

#[test]
fn full_barriers_turn_relaxed_flags_into_ordering() {
    // Message passing through relaxed accesses is ordered by smp_mb() on
    // both sides (C11 fence-to-fence synchronisation), and only then.
    let with_barriers = |mb: bool| {
        move || {
            let data = Plain::new("data", None, 0i64);
            let ready = Plain::new("ready", None, false);
            let producer = spawn_task("producer", move || {
                data.write(1);
                if mb {
                    smp_mb();
                }
                WRITE_ONCE(&ready, true);
            });
            let consumer = spawn_task("consumer", move || {
                if READ_ONCE(&ready) {
                    if mb {
                        smp_mb();
                    }
                    data.read();
                }
            });
            join_all(vec![producer, consumer]);
        }
    };
    assert!(kinds(&run(with_barriers(true), 500)).is_empty());
    assert_eq!(
        kinds(&run(with_barriers(false), 500)),
        vec![FindingKind::DataRace]
    );
}

/// Two devices' worth of SRCU: a reader on the second device, removal of
/// both in turn; the reader dereferences the second device's pointer.
fn srcu_two_grace_periods(single_drain: bool) -> impl Fn() + Send + Sync + 'static {
    move || {
        let ss = if single_drain {
            SrcuStruct::new_single_drain("ss")
        } else {
            SrcuStruct::new("ss")
        };
        let data = kzalloc("data");
        let ptr = Plain::new("ptr", None, Some(data));
        let reader = spawn_task("reader", move || {
            let idx = srcu_read_lock(&ss);
            if let Some(d) = srcu_dereference(&ptr, &ss) {
                d.read();
            }
            srcu_read_unlock(&ss, idx);
        });
        let updater = spawn_task("updater", move || {
            synchronize_srcu(&ss); // the first device's grace period
            rcu_assign_pointer(&ptr, None);
            synchronize_srcu(&ss);
            kfree(data);
        });
        join_all(vec![reader, updater]);
    }
}

#[test]
fn srcu_double_drain_waits_for_a_reader_stalled_across_a_grace_period() {
    let correct = run(srcu_two_grace_periods(false), 20_000);
    assert!(kinds(&correct).is_empty(), "{:?}", kinds(&correct));
    let broken = run(srcu_two_grace_periods(true), 20_000);
    // Where the stalled reader's read comes before the free it is still not
    // ordered before it (the broken grace period did not wait for it): a
    // data race with the free.
    assert_eq!(
        kinds(&broken),
        vec![FindingKind::UseAfterRemoval, FindingKind::DataRace]
    );
}

#[test]
fn an_object_never_freed_is_a_leak_and_a_freed_one_is_poisoned() {
    let leak = run(
        || {
            kzalloc("forgotten");
        },
        1,
    );
    assert_eq!(kinds(&leak), vec![FindingKind::Leak]);

    let uaf = run(
        || {
            let obj = kzalloc("obj");
            let user = spawn_task("user", move || obj.read());
            let freer = spawn_task("freer", move || kfree(obj));
            join_all(vec![user, freer]);
        },
        200,
    );
    // Read after the free: a use-after-removal; read before it, with nothing
    // ordering the two: a data race with the free (a plain write).
    assert_eq!(
        kinds(&uaf),
        vec![FindingKind::UseAfterRemoval, FindingKind::DataRace]
    );
    let (_, record) = &stats_for(&uaf, FindingKind::UseAfterRemoval);
    let Detail::UseAfterRemoval {
        object,
        access,
        free,
        ..
    } = &record.findings[0].detail
    else {
        panic!("not a use-after-removal")
    };
    assert_eq!(object, "obj");
    assert_eq!(
        (access.task.as_str(), free.task.as_str()),
        ("user", "freer")
    );
}

fn stats_for(
    stats: &RunStats,
    kind: FindingKind,
) -> (String, unplug_harness::engine::ExecutionRecord) {
    stats
        .distinct
        .iter()
        .find(|(_, r)| r.findings.iter().any(|f| f.kind == kind))
        .cloned()
        .expect("a record of that kind")
}

#[test]
fn the_last_kref_put_runs_the_release_once_after_every_other_put() {
    let stats = run(
        || {
            let obj = kzalloc("obj");
            let kref = Kref::new("obj.kref", Some(obj));
            let users: Vec<Task> = (0..2)
                .map(|i| {
                    kref_get(&kref);
                    spawn_task(format!("user{i}"), move || {
                        obj.read();
                        kref_put(&kref, || kfree(obj));
                    })
                })
                .collect();
            kref_put(&kref, || kfree(obj));
            join_all(users);
        },
        2_000,
    );
    // Freed exactly once (a double free would be a use-after-removal), after
    // every user is done with it, and not leaked.
    assert!(kinds(&stats).is_empty(), "{:?}", kinds(&stats));
}

#[test]
fn polling_a_flag_nobody_will_set_is_a_hang_not_a_stuck_run() {
    let stats = run(
        || {
            let flag = Plain::new("flag", None, false);
            let poller = spawn_task("poller", move || {
                while !READ_ONCE(&flag) {
                    cpu_relax();
                }
            });
            let idle = spawn_task("idle", || cond_resched());
            join_all(vec![poller, idle]);
        },
        50,
    );
    assert_eq!(kinds(&stats), vec![FindingKind::Hang]);
}

#[test]
fn a_livelock_exhausts_the_step_budget() {
    let scenario: ScenarioFn = Arc::new(|| {
        let a = spawn_task("a", || loop {
            cond_resched();
        });
        let b = spawn_task("b", || loop {
            cond_resched();
        });
        join_all(vec![a, b]);
    });
    let cfg = RunConfig {
        explorer: Explorer::Random,
        seed: 1,
        budget: Budget {
            iterations: Some(3),
            time: None,
        },
        exec: ExecConfig {
            step_budget: 500,
            race_detection: true,
            ..ExecConfig::default()
        },
        stop: StopPolicy::Never,
        shard: (0, 1),
    };
    let stats = explore(&scenario, &cfg, None).expect("runs");
    assert_eq!(kinds(&stats), vec![FindingKind::Hang]);
    assert_eq!(
        stats.executions, 3,
        "each execution is cut off and the run goes on"
    );
}

#[test]
fn completions_and_mutexes_order_their_users() {
    let stats = run(
        || {
            let m = Mutex::new("m", None);
            let done = Completion::new("done", None);
            let x = Plain::new("x", None, 0i64);
            let a = spawn_task("a", move || {
                mutex_lock(&m);
                x.write(1);
                mutex_unlock(&m);
                complete(&done);
            });
            let b = spawn_task("b", move || {
                wait_for_completion(&done);
                x.read();
                mutex_lock(&m);
                x.write(2);
                mutex_unlock(&m);
            });
            join_all(vec![a, b]);
        },
        2_000,
    );
    assert!(kinds(&stats).is_empty(), "{:?}", kinds(&stats));
}
