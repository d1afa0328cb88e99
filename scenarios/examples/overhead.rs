//! Executions per second of the unplug engine against plain shuttle, in one
//! run, on `unsynchronized` and `flag-under-write-lock` with two users:
//!
//! * `native`: our engine (explorer random, race detection on) on its own
//!   coroutine runtime, as `unplug fuzz` runs it, with 1 and 2 workers;
//! * `on shuttle`: the same engine and scheduler on shuttle's runtime
//!   (`--runtime shuttle`): the same decisions, so the ratio isolates the
//!   runtime;
//! * `shuttle+model`: shuttle's own `check_random` over the same scenario
//!   code (the kernel model included), so the ratio isolates the engine;
//! * `shuttle minimal`: a hand-written plain-shuttle model of the same
//!   scheme, one atomic operation per data touch — what a shuttle user would
//!   write without unplug.
//!
//! `cargo run --release --example overhead [-- ITERATIONS]`

use harness::engine::{
    explore, shuttle_baseline_body, Budget, ExecConfig, Explorer, RunConfig, Runtime, StopPolicy,
};
use shuttle::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use shuttle::sync::RwLock;
use std::sync::Arc;
use std::time::Instant;

fn per_second(n: u64, f: impl FnOnce()) -> f64 {
    let start = Instant::now();
    f();
    n as f64 / start.elapsed().as_secs_f64()
}

fn unplug_rate(scheme: &str, n: u64, workers: u64, runtime: Runtime) -> f64 {
    let s = unplug::find(scheme).expect("in the zoo");
    let scenario = s.scenario(s.default_workload.clone());
    per_second(n, || {
        std::thread::scope(|scope| {
            for w in 0..workers {
                let scenario = Arc::clone(&scenario);
                scope.spawn(move || {
                    let run = RunConfig {
                        explorer: Explorer::Random,
                        seed: 1,
                        budget: Budget {
                            iterations: Some(n / workers),
                            time: None,
                        },
                        exec: ExecConfig {
                            runtime,
                            ..ExecConfig::default()
                        },
                        stop: StopPolicy::Never,
                        shard: (w, workers),
                    };
                    explore(&scenario, &run, None).expect("runs");
                });
            }
        });
    })
}

fn in_parallel(workers: u64, n: u64, body: impl Fn(u64) + Sync) -> f64 {
    per_second(n, || {
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| body(n / workers));
            }
        });
    })
}

fn shuttle_with_model(scheme: &str, n: u64, workers: u64) -> f64 {
    let s = unplug::find(scheme).expect("in the zoo");
    let scenario = s.scenario(s.default_workload.clone());
    in_parallel(workers, n, |k| {
        shuttle::check_random(
            shuttle_baseline_body(&scenario, ExecConfig::default()),
            k as usize,
        )
    })
}

/// `unsynchronized` by hand: two users read the pointer and the data; the
/// remover clears and frees (a flag stands for the allocation's liveness).
fn minimal_unsynchronized() {
    let data_alive = Arc::new(AtomicBool::new(true));
    let ptr = Arc::new(AtomicUsize::new(1));
    let users: Vec<_> = (0..2)
        .map(|_| {
            let (alive, ptr) = (Arc::clone(&data_alive), Arc::clone(&ptr));
            shuttle::thread::spawn(move || {
                if ptr.load(Ordering::SeqCst) != 0 {
                    let _use_after_removal = !alive.load(Ordering::SeqCst);
                }
            })
        })
        .collect();
    let remover = {
        let alive = Arc::clone(&data_alive);
        shuttle::thread::spawn(move || alive.store(false, Ordering::SeqCst))
    };
    for u in users {
        u.join().expect("no panic");
    }
    remover.join().expect("no panic");
}

/// `flag-under-write-lock` by hand.
fn minimal_flag_under_write_lock() {
    let lock = Arc::new(RwLock::new(()));
    let data_alive = Arc::new(AtomicBool::new(true));
    let ptr = Arc::new(AtomicUsize::new(1));
    let users: Vec<_> = (0..2)
        .map(|_| {
            let (lock, alive, ptr) = (Arc::clone(&lock), Arc::clone(&data_alive), Arc::clone(&ptr));
            shuttle::thread::spawn(move || {
                let _g = lock.read().expect("not poisoned");
                if ptr.load(Ordering::SeqCst) != 0 {
                    assert!(alive.load(Ordering::SeqCst));
                }
            })
        })
        .collect();
    let remover = shuttle::thread::spawn(move || {
        {
            let _g = lock.write().expect("not poisoned");
            ptr.store(0, Ordering::SeqCst);
        }
        data_alive.store(false, Ordering::SeqCst);
    });
    for u in users {
        u.join().expect("no panic");
    }
    remover.join().expect("no panic");
}

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    println!("{n} executions per cell, {cores} cores; executions/s");
    println!(
        "{:<22} {:>7} {:>9} {:>10} {:>13} {:>9} {:>10} {:>10} {:>10}",
        "scheme",
        "workers",
        "native",
        "on shuttle",
        "shuttle+model",
        "minimal",
        "/on shuttle",
        "/shuttle+m",
        "/minimal"
    );
    let minimal: [(&str, fn()); 2] = [
        ("unsynchronized", minimal_unsynchronized),
        ("flag-under-write-lock", minimal_flag_under_write_lock),
    ];
    for (scheme, hand) in minimal {
        for workers in [1, 2] {
            let native = unplug_rate(scheme, n, workers, Runtime::Native);
            let on_shuttle = unplug_rate(scheme, n, workers, Runtime::Shuttle);
            let baseline = shuttle_with_model(scheme, n, workers);
            let plain = in_parallel(workers, n, |k| shuttle::check_random(hand, k as usize));
            println!(
                "{scheme:<22} {workers:>7} {native:>9.0} {on_shuttle:>10.0} {baseline:>13.0} {plain:>9.0} {:>10.2}x {:>9.2}x {:>9.2}x",
                native / on_shuttle,
                native / baseline,
                native / plain
            );
        }
    }
}
