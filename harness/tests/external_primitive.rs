//! A primitive written outside the harness crate with nothing but the
//! public step protocol ([`unplug_harness::protocol`]): the kernel's counting
//! `struct semaphore` (include/linux/semaphore.h, kernel/locking/semaphore.c),
//! explored on both backends like the primitives of `unplug_harness::kernel`.

use std::sync::Arc;
use unplug_harness::engine::{explore, Explorer, RunConfig, RunStats, ScenarioFn};
use unplug_harness::exhaustive::{explore_exhaustive, ExhaustiveConfig, ExhaustiveRun};
use unplug_harness::finding::FindingKind;
use unplug_harness::kernel::{kfree, kzalloc, spawn_task, Object};
use unplug_harness::protocol::{
    step, step_blocking, step_on, Ordering, Prim, PrimitiveState, Target, TaskNames, VectorClock,
};

/// `struct semaphore`: the count of units left, and the clock the last
/// `up()` published (an `up()` happens-before the `down()` that takes its
/// unit, as `__up()` hands the unit to the waiter under `sem->lock`).
#[derive(Debug)]
struct SemaphoreState {
    count: u32,
    release: VectorClock,
}

impl PrimitiveState for SemaphoreState {
    fn describe_holders(&self, _tasks: &TaskNames<'_>) -> String {
        format!("count {}", self.count)
    }
}

/// A semaphore handle.
#[derive(Clone, Copy, Debug)]
struct Semaphore(Prim<SemaphoreState>);

/// `sema_init(&sem, val)`, on a semaphore embedded in `owner` (if any).
#[track_caller]
fn sema_init(name: &'static str, owner: Option<Object>, val: u32) -> Semaphore {
    step(|cx| {
        let state = SemaphoreState {
            count: val,
            release: VectorClock::new(),
        };
        Semaphore(cx.add_prim(name, owner.map(Object::id), state))
    })
}

/// `down(&sem)`: take a unit if one is left (`sem->count--` under
/// `sem->lock`), else sleep on `sem->wait_list` until `up()` wakes the task
/// (`__down_common()`). An acquire.
#[track_caller]
fn down(sem: Semaphore) {
    step_blocking(sem.0, "down", Ordering::Acquire, |cx| {
        let s = cx.state(sem.0);
        if s.count == 0 {
            return None;
        }
        s.count -= 1;
        let clock = s.release;
        cx.acquire(&clock);
        let e = cx.record("down", Target::Prim(sem.0.id()), None);
        let owner = cx.owner(sem.0);
        cx.check_owner(owner, e);
        Some(())
    })
}

/// `up(&sem)`: give a unit back and wake a sleeper (`__up()`). A release.
#[track_caller]
fn up(sem: Semaphore) {
    step_on(sem.0, Ordering::Release, |cx| {
        let e = cx.record("up", Target::Prim(sem.0.id()), None);
        let owner = cx.owner(sem.0);
        if !cx.check_owner(owner, e) {
            return;
        }
        let mut clock = cx.state(sem.0).release;
        cx.release(&mut clock);
        let s = cx.state(sem.0);
        s.release = clock;
        s.count += 1;
        cx.wake_all(sem.0);
    })
}

/// Runs of `scenario` under shuttle from `seed`, stopping at the first
/// fatal finding.
fn shuttle(scenario: &ScenarioFn, seed: u64, iterations: u64) -> RunStats {
    let cfg = RunConfig::until_first_fatal(Explorer::Random, seed, iterations);
    explore(scenario, &cfg, None).expect("the scenario never panics")
}

fn loom(scenario: &ScenarioFn) -> ExhaustiveRun {
    explore_exhaustive(scenario, &ExhaustiveConfig::default())
        .expect("the scenario runs under loom")
}

/// Two tasks each write the object inside `down()`/`up()` of a semaphore
/// initialised to `units`.
fn section(units: u32) -> ScenarioFn {
    Arc::new(move || {
        let data = kzalloc("data");
        let sem = sema_init("sem", None, units);
        let tasks: Vec<_> = ["a", "b"]
            .into_iter()
            .map(|name| {
                spawn_task(name, move || {
                    down(sem);
                    data.write();
                    up(sem);
                })
            })
            .collect();
        for t in tasks {
            t.join();
        }
        kfree(data);
    })
}

/// A binary semaphore orders the two sections: nothing is found, within
/// 2,000 shuttle executions and over loom's whole bounded space.
#[test]
fn a_binary_semaphore_orders_its_sections_on_both_backends() {
    let s = section(1);
    let stats = shuttle(&s, 7, 2_000);
    assert_eq!(stats.executions, 2_000);
    assert_eq!(stats.verdict(), None);
    let run = loom(&s);
    assert!(run.complete, "loom explored the whole bound");
    assert_eq!(run.verdict(), None);
}

/// With two units both tasks are inside at once: their writes race, which
/// shows the clocks `down()`/`up()` attach are what ordered them above.
#[test]
fn two_units_let_the_sections_race_on_both_backends() {
    let s = section(2);
    for seed in 0..10 {
        let stats = shuttle(&s, seed, 2_000);
        assert!(
            stats.first.contains_key(&FindingKind::DataRace),
            "seed {seed}: {:?}",
            stats.verdict()
        );
    }
    assert_eq!(loom(&s).verdict(), Some(FindingKind::DataRace));
}

/// Two semaphores taken in opposite orders (an ABBA): some schedule parks
/// both tasks, and the deadlock report names each `down()`.
#[test]
fn abba_on_two_semaphores_deadlocks_on_both_backends() {
    let s: ScenarioFn = Arc::new(|| {
        let a = sema_init("a", None, 1);
        let b = sema_init("b", None, 1);
        let t1 = spawn_task("t1", move || {
            down(a);
            down(b);
            up(b);
            up(a);
        });
        let t2 = spawn_task("t2", move || {
            down(b);
            down(a);
            up(a);
            up(b);
        });
        t1.join();
        t2.join();
    });
    for seed in 0..10 {
        let stats = shuttle(&s, seed, 2_000);
        assert_eq!(stats.verdict(), Some(FindingKind::Deadlock), "seed {seed}");
        let (_, record) = &stats.distinct[0];
        let text = format!("{:?}", record.findings[0].detail);
        assert!(
            text.contains("down(&a)") && text.contains("down(&b)"),
            "{text}"
        );
    }
    assert_eq!(loom(&s).verdict(), Some(FindingKind::Deadlock));
}

/// A semaphore embedded in a driver object that the remove path frees while
/// a user may still `down()` it: a use-after-removal of the object.
#[test]
fn down_on_a_freed_semaphore_is_a_use_after_removal_on_both_backends() {
    let s: ScenarioFn = Arc::new(|| {
        let dev = kzalloc("dev");
        let sem = sema_init("dev->sem", Some(dev), 1);
        let user = spawn_task("user", move || {
            down(sem);
            up(sem);
        });
        let remove = spawn_task("remove", move || kfree(dev));
        user.join();
        remove.join();
    });
    for seed in 0..10 {
        let stats = shuttle(&s, seed, 2_000);
        assert_eq!(
            stats.verdict(),
            Some(FindingKind::UseAfterRemoval),
            "seed {seed}"
        );
    }
    assert_eq!(loom(&s).verdict(), Some(FindingKind::UseAfterRemoval));
}
