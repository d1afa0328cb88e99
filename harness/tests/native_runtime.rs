//! What the tasks of an execution hold is freed however the execution ends:
//! on the native runtime, tasks stopped by a fatal finding run on to their
//! ends once the execution is recorded (nothing unwinds), and tasks that
//! cannot end (a deadlock, a hang) are unwound; under shuttle every stopped
//! task unwinds.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use unplug_harness::engine::{
    explore, Budget, ExecConfig, Explorer, RunConfig, RunStats, Runtime, ScenarioFn, StopPolicy,
};
use unplug_harness::finding::FindingKind;
use unplug_harness::kernel::*;

/// Live guards, and guards dropped while their stack unwound.
#[derive(Default)]
struct Counts {
    live: AtomicUsize,
    unwound: AtomicUsize,
}

/// Something a task's stack owns across its model steps.
struct Guard(Arc<Counts>);

impl Guard {
    fn new(c: &Arc<Counts>) -> Guard {
        c.live.fetch_add(1, Ordering::Relaxed);
        Guard(Arc::clone(c))
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.live.fetch_sub(1, Ordering::Relaxed);
        if std::thread::panicking() {
            self.0.unwound.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn explore_on(runtime: Runtime, scenario: &ScenarioFn, step_budget: u64) -> RunStats {
    let cfg = RunConfig {
        explorer: Explorer::Random,
        seed: 7,
        budget: Budget {
            iterations: Some(300),
            time: None,
        },
        exec: ExecConfig {
            runtime,
            step_budget,
            ..ExecConfig::default()
        },
        stop: StopPolicy::Never,
        shard: (0, 1),
    };
    explore(scenario, &cfg, None).expect("the scenario never panics")
}

/// Two users read an object, each holding a guard across its steps, while
/// a third task frees it: most executions end on a use-after-removal with
/// users still running.
fn use_after_free(counts: &Arc<Counts>) -> ScenarioFn {
    let counts = Arc::clone(counts);
    Arc::new(move || {
        let obj = kzalloc("obj");
        let users: Vec<Task> = (0..2)
            .map(|_| {
                let counts = Arc::clone(&counts);
                spawn_task("user", move || {
                    let _held = Guard::new(&counts);
                    for _ in 0..3 {
                        cond_resched();
                        obj.read();
                    }
                })
            })
            .collect();
        let freer = spawn_task("freer", move || kfree(obj));
        for u in users {
            u.join();
        }
        freer.join();
    })
}

#[test]
fn tasks_stopped_by_a_finding_end_without_unwinding_on_the_native_runtime() {
    let counts = Arc::new(Counts::default());
    let stats = explore_on(Runtime::Native, &use_after_free(&counts), 20_000);
    assert!(stats.first.contains_key(&FindingKind::UseAfterRemoval));
    assert_eq!(counts.live.load(Ordering::Relaxed), 0, "a guard leaked");
    assert_eq!(
        counts.unwound.load(Ordering::Relaxed),
        0,
        "a stopped task unwound"
    );

    let counts = Arc::new(Counts::default());
    let stats = explore_on(Runtime::Shuttle, &use_after_free(&counts), 20_000);
    assert!(stats.first.contains_key(&FindingKind::UseAfterRemoval));
    assert_eq!(counts.live.load(Ordering::Relaxed), 0, "a guard leaked");
    assert!(
        counts.unwound.load(Ordering::Relaxed) > 0,
        "under shuttle, stopped tasks unwind"
    );
}

#[test]
fn tasks_that_cannot_end_are_unwound() {
    // A lock-order inversion: two tasks each hold a mutex the other wants.
    let counts = Arc::new(Counts::default());
    let c = Arc::clone(&counts);
    let deadlock: ScenarioFn = Arc::new(move || {
        let a = Mutex::new("a", None);
        let b = Mutex::new("b", None);
        let (a2, b2) = (a, b);
        let c1 = Arc::clone(&c);
        let t1 = spawn_task("t1", move || {
            let _held = Guard::new(&c1);
            mutex_lock(&a);
            mutex_lock(&b);
            mutex_unlock(&b);
            mutex_unlock(&a);
        });
        let c2 = Arc::clone(&c);
        let t2 = spawn_task("t2", move || {
            let _held = Guard::new(&c2);
            mutex_lock(&b2);
            mutex_lock(&a2);
            mutex_unlock(&a2);
            mutex_unlock(&b2);
        });
        t1.join();
        t2.join();
    });
    let stats = explore_on(Runtime::Native, &deadlock, 20_000);
    assert!(stats.first.contains_key(&FindingKind::Deadlock));
    assert_eq!(counts.live.load(Ordering::Relaxed), 0, "a guard leaked");

    // A task that never ends: cut off as a hang, then unwound.
    let counts = Arc::new(Counts::default());
    let c = Arc::clone(&counts);
    let hang: ScenarioFn = Arc::new(move || {
        let c = Arc::clone(&c);
        let spinner = spawn_task("spinner", move || {
            let _held = Guard::new(&c);
            loop {
                cond_resched();
            }
        });
        let other = spawn_task("other", cond_resched);
        other.join();
        spinner.join();
    });
    let stats = explore_on(Runtime::Native, &hang, 200);
    assert!(stats.first.contains_key(&FindingKind::Hang));
    assert_eq!(counts.live.load(Ordering::Relaxed), 0, "a guard leaked");
    assert!(counts.unwound.load(Ordering::Relaxed) > 0);
}
