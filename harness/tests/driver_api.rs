//! The kernel API a driver's removal path is written with, on both
//! backends: value-returning atomics, bit operations, trylocks,
//! `refcount_inc_not_zero()`, plain RCU grace periods and callbacks, wait
//! queues, work items, the device lock and devres actions.

use std::sync::Arc;
use unplug_harness::engine::{explore, ExecConfig, Explorer, RunConfig, ScenarioFn};
use unplug_harness::exhaustive::{explore_exhaustive, ExhaustiveConfig};
use unplug_harness::finding::FindingKind;
use unplug_harness::kernel::{
    atomic_dec_and_test, atomic_read, atomic_sub_return_release, call_rcu, cancel_work_sync,
    clear_bit_unlock, device_initialize, device_lock, device_release_driver, device_unlock,
    devm_add_action_or_reset, devm_kzalloc, down_read_trylock, down_write, down_write_trylock,
    flush_work, kfree, kref_put, kzalloc, mutex_lock, mutex_trylock, mutex_unlock, put_device,
    rcu_assign_pointer, rcu_barrier, rcu_dereference, rcu_read_lock, rcu_read_unlock,
    refcount_inc_not_zero, schedule_work, set_bit, smp_load_acquire, smp_store_release, spawn_task,
    spin_trylock, spin_unlock, synchronize_rcu, test_and_clear_bit, test_and_set_bit,
    test_and_set_bit_lock, test_bit, up_read, up_write, wait_event, wake_up, Atomic, Kref, Mutex,
    Object, Plain, RwSemaphore, Spinlock, WaitQueueHead, BUG_ON, INIT_WORK, READ_ONCE, WRITE_ONCE,
};

const RACE: Option<FindingKind> = Some(FindingKind::DataRace);
const UAF: Option<FindingKind> = Some(FindingKind::UseAfterRemoval);
const CLEAN: Option<FindingKind> = None;

fn loom_verdict(scenario: &ScenarioFn) -> Option<FindingKind> {
    explore_exhaustive(scenario, &ExhaustiveConfig::default())
        .expect("the scenario runs")
        .verdict()
}

fn shuttle_verdict(scenario: &ScenarioFn, seed: u64) -> Option<FindingKind> {
    let run = RunConfig::until_first_fatal(Explorer::Random, seed, 2_000);
    explore(scenario, &run, None)
        .expect("the scenario runs")
        .verdict()
}

/// The same verdict under loom's exhaustive search and under shuttle's
/// random exploration (2 000 executions each for 10 seeds).
fn both(scenario: ScenarioFn, expected: Option<FindingKind>, what: &str) {
    assert_eq!(loom_verdict(&scenario), expected, "loom: {what}");
    for seed in 0..10 {
        assert_eq!(
            shuttle_verdict(&scenario, seed),
            expected,
            "shuttle seed {seed}: {what}"
        );
    }
}

/// "Last one out frees": two holders drop a count of two with
/// `atomic_dec_and_test()`; whoever reaches zero frees the object, which
/// the other wrote before its decrement. Fully ordered: no race, no
/// use-after-free; and exactly one of them frees.
#[test]
fn atomic_dec_and_test_orders_the_last_put() {
    let s: ScenarioFn = Arc::new(|| {
        let obj = kzalloc("obj");
        let a_data = Plain::new("obj.a", Some(obj), 0i64);
        let b_data = Plain::new("obj.b", Some(obj), 0i64);
        let count = Atomic::new("obj.count", None, 2);
        let put = move |mine: Plain<i64>| {
            mine.write(1);
            if atomic_dec_and_test(&count) {
                kfree(obj);
            }
        };
        let a = spawn_task("a", move || put(a_data));
        let b = spawn_task("b", move || put(b_data));
        a.join();
        b.join();
        BUG_ON(atomic_read(&count) != 0);
    });
    both(s, CLEAN, "atomic_dec_and_test");
}

/// Message passing through a counter: a release decrement publishes the
/// data to a reader that sees the new count only if the reader acquires
/// (`atomic_sub_return_release` then an acquire of the count through
/// `atomic_dec_and_test`, fully ordered). With a relaxed read of the count
/// instead, the plain data read races.
#[test]
fn release_sub_return_publishes_to_an_ordered_reader() {
    let scenario = |ordered_reader: bool| -> ScenarioFn {
        Arc::new(move || {
            let data = Plain::new("data", None, 0i64);
            let count = Atomic::new("count", None, 2);
            let a = spawn_task("a", move || {
                data.write(1);
                atomic_sub_return_release(1, &count);
            });
            let b = spawn_task("b", move || {
                let seen = if ordered_reader {
                    atomic_dec_and_test(&count)
                } else {
                    atomic_read(&count) == 1
                };
                if seen {
                    data.read();
                }
            });
            a.join();
            b.join();
        })
    };
    both(scenario(true), CLEAN, "release + fully ordered RMW");
    both(scenario(false), RACE, "release + relaxed read");
}

/// A bit lock: `test_and_set_bit_lock()` / `clear_bit_unlock()` order the
/// critical sections; `set_bit()`/`test_and_clear_bit()` used as a
/// one-shot flag give exactly one winner.
#[test]
fn bit_lock_and_one_shot_flag() {
    let lock: ScenarioFn = Arc::new(|| {
        let flags = Plain::new("flags", None, 0i64);
        let data = Plain::new("data", None, 0i64);
        let side = move || {
            while test_and_set_bit_lock(0, &flags) {
                unplug_harness::kernel::cpu_relax();
            }
            data.write(data.read() + 1);
            clear_bit_unlock(0, &flags);
        };
        let a = spawn_task("a", side);
        let b = spawn_task("b", side);
        a.join();
        b.join();
        BUG_ON(data.read() != 2 || test_bit(0, &flags));
    });
    both(lock, CLEAN, "bit lock");

    let one_shot: ScenarioFn = Arc::new(|| {
        let flags = Plain::new("flags", None, 0i64);
        let wins = Atomic::new("wins", None, 0);
        set_bit(3, &flags);
        let take = move || {
            if test_and_clear_bit(3, &flags) {
                unplug_harness::kernel::atomic_inc(&wins);
            }
        };
        let a = spawn_task("a", take);
        let b = spawn_task("b", take);
        a.join();
        b.join();
        BUG_ON(atomic_read(&wins) != 1 || test_and_set_bit(3, &flags));
    });
    both(one_shot, CLEAN, "test_and_clear_bit one-shot");
}

/// A plain bit flag without a lock: `test_bit()` then a plain write of the
/// data races with the other task's guarded write.
#[test]
fn test_bit_is_not_a_lock() {
    let s: ScenarioFn = Arc::new(|| {
        let flags = Plain::new("flags", None, 0i64);
        let data = Plain::new("data", None, 0i64);
        let side = move || {
            if !test_bit(0, &flags) {
                set_bit(0, &flags);
                data.write(1);
            }
        };
        let a = spawn_task("a", side);
        let b = spawn_task("b", side);
        a.join();
        b.join();
    });
    both(s, RACE, "test_bit then set_bit");
}

/// Trylocks: two tasks each try every lock once; whoever gets a lock
/// writes under it. No race, and the locks end free.
#[test]
fn trylocks_exclude() {
    let s: ScenarioFn = Arc::new(|| {
        let m = Mutex::new("m", None);
        let l = Spinlock::new("l", None);
        let sem = RwSemaphore::new("sem");
        let x = Plain::new("x", None, 0i64);
        let y = Plain::new("y", None, 0i64);
        let z = Plain::new("z", None, 0i64);
        let side = move || {
            if mutex_trylock(&m) {
                x.write(x.read() + 1);
                mutex_unlock(&m);
            }
            if spin_trylock(&l) {
                y.write(y.read() + 1);
                spin_unlock(&l);
            }
            if down_write_trylock(&sem) {
                z.write(z.read() + 1);
                up_write(&sem);
            } else if down_read_trylock(&sem) {
                up_read(&sem);
            }
        };
        let a = spawn_task("a", side);
        let b = spawn_task("b", side);
        a.join();
        b.join();
        BUG_ON(!mutex_trylock(&m) || !spin_trylock(&l) || !down_write_trylock(&sem));
        mutex_unlock(&m);
        spin_unlock(&l);
        up_write(&sem);
    });
    both(s, CLEAN, "trylocks");
}

/// `down_read_trylock()` fails while a writer holds the semaphore.
#[test]
fn down_read_trylock_fails_under_a_writer() {
    let s: ScenarioFn = Arc::new(|| {
        let sem = RwSemaphore::new("sem");
        down_write(&sem);
        let t = spawn_task("reader", move || BUG_ON(down_read_trylock(&sem)));
        t.join();
        up_write(&sem);
        BUG_ON(mutex_trylock_twice());
    });
    both(s, CLEAN, "down_read_trylock under a writer");
}

/// A second `mutex_trylock()` by the holder fails (no recursion).
fn mutex_trylock_twice() -> bool {
    let m = Mutex::new("m2", None);
    mutex_lock(&m);
    let again = mutex_trylock(&m);
    mutex_unlock(&m);
    again
}

/// A lookup that takes a reference with `refcount_inc_not_zero()` under
/// the lock that the last put also takes never resurrects a dying object.
#[test]
fn refcount_inc_not_zero_under_the_lookup_lock() {
    let s: ScenarioFn = Arc::new(|| {
        let table = Mutex::new("table_lock", None);
        let obj = kzalloc("obj");
        let kref = Kref::new("obj.kref", Some(obj));
        let slot: Plain<Option<Object>> = Plain::new("table[0]", None, Some(obj));
        let lookup = spawn_task("lookup", move || {
            mutex_lock(&table);
            let got = slot.read().is_some() && refcount_inc_not_zero(&kref);
            mutex_unlock(&table);
            if got {
                obj.read();
                mutex_lock(&table);
                kref_put(&kref, || {
                    slot.write(None);
                    kfree(obj);
                });
                mutex_unlock(&table);
            }
        });
        mutex_lock(&table);
        kref_put(&kref, || {
            slot.write(None);
            kfree(obj);
        });
        mutex_unlock(&table);
        lookup.join();
    });
    both(s, CLEAN, "refcount_inc_not_zero");
}

/// The canonical RCU removal: unpublish, `synchronize_rcu()`, free. With
/// the grace period no reader touches the freed object; without it a
/// reader still inside its critical section does.
#[test]
fn synchronize_rcu_waits_for_pre_existing_readers() {
    let scenario = |grace_period: bool| -> ScenarioFn {
        Arc::new(move || {
            let obj = kzalloc("obj");
            let field = Plain::new("obj.field", Some(obj), 0i64);
            let gp: Plain<Option<Object>> = Plain::new("gp", None, Some(obj));
            let reader = spawn_task("reader", move || {
                rcu_read_lock();
                if rcu_dereference(&gp).is_some() {
                    field.read();
                }
                rcu_read_unlock();
            });
            rcu_assign_pointer(&gp, None);
            if grace_period {
                synchronize_rcu();
            }
            kfree(obj);
            reader.join();
        })
    };
    both(scenario(true), CLEAN, "with synchronize_rcu");
    both(scenario(false), UAF, "without synchronize_rcu");
}

/// `call_rcu()` defers the free past a grace period; `rcu_barrier()`
/// waits for it before the scenario ends.
#[test]
fn call_rcu_frees_after_the_readers() {
    let s: ScenarioFn = Arc::new(|| {
        let obj = kzalloc("obj");
        let field = Plain::new("obj.field", Some(obj), 0i64);
        let gp: Plain<Option<Object>> = Plain::new("gp", None, Some(obj));
        let reader = spawn_task("reader", move || {
            rcu_read_lock();
            if rcu_dereference(&gp).is_some() {
                field.read();
            }
            rcu_read_unlock();
        });
        rcu_assign_pointer(&gp, None);
        call_rcu(move || kfree(obj));
        reader.join();
        rcu_barrier();
    });
    both(s, CLEAN, "call_rcu");
}

/// `wait_event()` / `wake_up()`: the waiter always gets past the wait (no
/// lost wake-up: that would be a deadlock). Its first check of the
/// condition takes no lock and implies no barrier, as in the kernel
/// (Documentation/memory-barriers.txt, "Sleep and wake-up functions"): a
/// condition read with `READ_ONCE()` does not order the data the waker
/// wrote before it, so the plain read races (loom may instead show the
/// stale value, failing the `BUG_ON`); with `smp_store_release()` /
/// `smp_load_acquire()` on the condition it is clean.
#[test]
fn wait_event_sees_the_condition_and_its_data() {
    let scenario = |acquire: bool| -> ScenarioFn {
        Arc::new(move || {
            let wq = WaitQueueHead::new("wq", None);
            let done = Plain::new("done", None, 0i64);
            let data = Plain::new("data", None, 0i64);
            let waiter = spawn_task("waiter", move || {
                if acquire {
                    wait_event(&wq, || smp_load_acquire(&done) == 1);
                } else {
                    wait_event(&wq, || READ_ONCE(&done) == 1);
                }
                BUG_ON(data.read() != 7);
            });
            data.write(7);
            if acquire {
                smp_store_release(&done, 1);
            } else {
                WRITE_ONCE(&done, 1);
            }
            wake_up(&wq);
            waiter.join();
        })
    };
    both(
        scenario(true),
        CLEAN,
        "wait_event/wake_up with acquire/release",
    );
    let unordered = scenario(false);
    let loom = loom_verdict(&unordered);
    assert!(
        matches!(loom, Some(FindingKind::DataRace | FindingKind::Assertion)),
        "loom: {loom:?}"
    );
    for seed in 0..10 {
        assert_eq!(
            shuttle_verdict(&unordered, seed),
            RACE,
            "shuttle seed {seed}"
        );
    }
}

/// A condition nobody sets: the waiter never returns.
#[test]
fn wait_event_without_wake_up_is_stuck() {
    let s: ScenarioFn = Arc::new(|| {
        let wq = WaitQueueHead::new("wq", None);
        let done = Plain::new("done", None, 0i64);
        let waiter = spawn_task("waiter", move || {
            wait_event(&wq, || READ_ONCE(&done) == 1);
        });
        wake_up(&wq);
        waiter.join();
    });
    assert!(loom_verdict(&s).is_some(), "loom: a stuck waiter is found");
    assert!(
        shuttle_verdict(&s, 1).is_some(),
        "shuttle: a stuck waiter is found"
    );
}

/// A work item on an object: freeing the object with the work still
/// queued is a use-after-free when the worker runs it; `cancel_work_sync()`
/// before the free is the fix, and `flush_work()` orders the work's writes
/// before the caller.
#[test]
fn work_on_a_freed_object() {
    let scenario = |cancel: bool| -> ScenarioFn {
        Arc::new(move || {
            let obj = kzalloc("obj");
            let counter = Plain::new("obj.counter", Some(obj), 0i64);
            let work = INIT_WORK("obj.work", Some(obj), move || {
                counter.write(counter.read() + 1);
            });
            schedule_work(&work);
            if cancel {
                cancel_work_sync(&work);
            }
            // Without the cancel, the run queued on the object may come
            // after the free: nothing waits for it.
            kfree(obj);
        })
    };
    both(scenario(true), CLEAN, "cancel_work_sync before kfree");
    both(scenario(false), UAF, "kfree with the work queued");

    let flushed: ScenarioFn = Arc::new(|| {
        let data = Plain::new("data", None, 0i64);
        let work = INIT_WORK("work", None, move || data.write(5));
        BUG_ON(!schedule_work(&work));
        flush_work(&work);
        BUG_ON(data.read() != 5);
        BUG_ON(flush_work(&work));
    });
    both(flushed, CLEAN, "flush_work orders the run");
}

/// `device_release_driver()` holds `device_lock()` around the driver's
/// remove: a sysfs-style path under the device lock is excluded from it;
/// devres actions run at unbind, newest first, with the allocations.
#[test]
fn device_lock_and_devres_actions() {
    let s: ScenarioFn = Arc::new(|| {
        let parent = kzalloc("pdev");
        let dev = device_initialize("dev", parent, move || kfree(parent));
        let priv_ = devm_kzalloc(&dev, "priv");
        let state = Plain::new("priv.state", Some(priv_), 0i64);
        let order = Plain::new("order", None, 0i64);
        BUG_ON(
            devm_add_action_or_reset(&dev, move || {
                // Registered after the allocation, so run before its free.
                BUG_ON(order.read() != 0);
                order.write(1);
                state.write(2);
            }) != 0,
        );
        let d2 = dev.clone();
        let sysfs = spawn_task("sysfs", move || {
            device_lock(&d2);
            // The driver is bound while the lock is held and the remove
            // path has not run, or gone: the remove clears the flag first.
            if READ_ONCE(&order) == 0 {
                state.write(1);
            }
            device_unlock(&d2);
        });
        device_release_driver(&dev, || {});
        sysfs.join();
        BUG_ON(order.read() != 1);
        put_device(&dev);
    });
    both(s, CLEAN, "device_lock and devm actions");
}

/// The tasks the new primitives spawn (`kworker`, `rcu_callback`) and the
/// tasks they park keep executions a function of the seed: the same seed
/// gives the same events, findings and schedule; different seeds explore
/// different interleavings.
#[test]
fn spawned_workers_keep_executions_deterministic() {
    use unplug_harness::engine::{execution_seed, run_single, Drive};
    let s: ScenarioFn = Arc::new(|| {
        let obj = kzalloc("obj");
        let field = Plain::new("obj.field", Some(obj), 0i64);
        let gp: Plain<Option<Object>> = Plain::new("gp", None, Some(obj));
        let wq = WaitQueueHead::new("wq", None);
        let done = Plain::new("done", None, 0i64);
        let work = INIT_WORK("work", None, move || {
            smp_store_release(&done, 1);
            wake_up(&wq);
        });
        let reader = spawn_task("reader", move || {
            rcu_read_lock();
            if rcu_dereference(&gp).is_some() {
                field.read();
            }
            rcu_read_unlock();
            wait_event(&wq, || smp_load_acquire(&done) == 1);
        });
        schedule_work(&work);
        rcu_assign_pointer(&gp, None);
        call_rcu(move || kfree(obj));
        reader.join();
        flush_work(&work);
        rcu_barrier();
    });
    let run = |seed: u64| {
        run_single(
            &s,
            &Drive::Seed {
                explorer: Explorer::Random,
                seed,
            },
            ExecConfig::default(),
        )
        .expect("runs")
        .record
    };
    for seed in [1, 2, 0xdead_beef] {
        let (a, b) = (run(seed), run(seed));
        assert_eq!(a.events, b.events, "seed {seed}");
        assert_eq!(a.findings, b.findings, "seed {seed}");
        assert_eq!(a.schedule, b.schedule, "seed {seed}");
        assert!(a.findings.is_empty(), "seed {seed}: {:?}", a.findings);
    }
    let schedules: std::collections::BTreeSet<Vec<u8>> = (0..20)
        .map(|i| run(execution_seed(0, i)).schedule)
        .collect();
    assert!(
        schedules.len() > 10,
        "{} distinct schedules",
        schedules.len()
    );
    both(s, CLEAN, "work + RCU + wait queue");
}
