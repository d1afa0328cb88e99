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
//! * `minimal`: a hand-written plain-shuttle model of the same scheme, one
//!   atomic operation per data touch of the driver alone (no cdev, no
//!   references, no open path) — the smallest model a shuttle user could
//!   write, with about a quarter of unplug's events;
//! * `faithful`: a hand-written plain-shuttle model at unplug's level of
//!   detail (the open path of fs/char_dev.c, the krefs, the completion, the
//!   driver's locks), one shuttle operation per kernel operation — what a
//!   shuttle user modelling the same kernel code would write.
//!
//! `cargo run --release --example overhead [-- ITERATIONS [ROUNDS]]`: with
//! several rounds every cell is measured once per round, interleaved, and
//! the table shows medians over the rounds.
//!
//! With `OVERHEAD_CLOCK=cpu` a rate is executions per second of the CPU
//! time the workers' threads got (each thread's own run time from
//! `/proc/thread-self/schedstat`, summed, divided by the workers): what the
//! wall-clock rate would be with a core per worker, for a machine other
//! processes keep busy. Contention between workers that costs CPU (lock
//! spinning, cache lines bouncing) still counts; time spent descheduled
//! does not.

use harness::engine::{
    explore, shuttle_baseline_body, Budget, ExecConfig, Explorer, RunConfig, Runtime, StopPolicy,
};
use shuttle::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use shuttle::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering as StdOrdering};
use std::sync::Arc;
use std::time::Instant;

/// Whether rates are per CPU second of the workers (`OVERHEAD_CLOCK=cpu`)
/// rather than per wall-clock second.
fn cpu_clock() -> bool {
    std::env::var("OVERHEAD_CLOCK").is_ok_and(|v| v == "cpu")
}

/// The calling thread's run time so far, in nanoseconds (the first field of
/// `/proc/thread-self/schedstat`); 0 where it cannot be read.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// CPU nanoseconds of the workers' threads, summed.
static WORKER_CPU_NS: AtomicU64 = AtomicU64::new(0);

/// Run `body` on a worker thread, adding its CPU time to `WORKER_CPU_NS`.
fn timed_worker(body: impl FnOnce()) {
    let start = thread_cpu_ns();
    body();
    WORKER_CPU_NS.fetch_add(thread_cpu_ns() - start, StdOrdering::Relaxed);
}

/// `n` executions by `workers` workers in `f`, per second (of wall-clock
/// time, or of the workers' mean CPU time: see [`cpu_clock`]).
fn per_second(n: u64, workers: u64, f: impl FnOnce()) -> f64 {
    WORKER_CPU_NS.store(0, StdOrdering::Relaxed);
    let start = Instant::now();
    f();
    let wall = start.elapsed().as_secs_f64();
    if cpu_clock() {
        let cpu = WORKER_CPU_NS.load(StdOrdering::Relaxed) as f64 / 1e9 / workers as f64;
        n as f64 / cpu
    } else {
        n as f64 / wall
    }
}

fn unplug_rate(scheme: &str, n: u64, workers: u64, runtime: Runtime) -> f64 {
    let s = unplug::find(scheme).expect("in the zoo");
    let scenario = s.scenario(s.default_workload.clone());
    per_second(n, workers, || {
        std::thread::scope(|scope| {
            for w in 0..workers {
                let scenario = Arc::clone(&scenario);
                scope.spawn(move || {
                    timed_worker(|| {
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
                    })
                });
            }
        });
    })
}

fn in_parallel(workers: u64, n: u64, body: impl Fn(u64) + Sync) -> f64 {
    per_second(n, workers, || {
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| timed_worker(|| body(n / workers)));
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

/// A scheme by hand at the kernel model's level of detail: the same
/// objects, locks, references and completion as unplug's model of
/// `chrdev_open()`/`cdev_put()` in fs/char_dev.c, `cdev_device_del()` and
/// the driver, each kernel operation one shuttle operation (a spinlock or
/// mutex a `shuttle::sync::Mutex`, a kref an atomic counter with
/// `kobject_get_unless_zero()`'s compare-and-swap loop, a completion a
/// mutex and condvar, a freed object a liveness flag checked on use). With
/// `under_write_lock` it is `flag-under-write-lock` (the ioctl tests
/// `cxlmd->cxlm` under `down_read()`, removal clears it under
/// `down_write()`), without it `unsynchronized`. No data-race detection:
/// shuttle has none, so this is cheaper per operation than what unplug
/// checks.
fn faithful(under_write_lock: bool) {
    use shuttle::sync::{Condvar, Mutex};
    struct Dev {
        /// `cdev_map`'s entry for the device (`kobj_map()`), under its mutex.
        map: Mutex<bool>,
        /// `cdev_lock` and `inode->i_cdev`.
        i_cdev: Mutex<bool>,
        /// `cdev.kobj.kref` and `dev.kobj.kref`.
        cdev_kref: AtomicUsize,
        dev_kref: AtomicUsize,
        /// `dev.kobj.state_in_sysfs`.
        in_sysfs: AtomicBool,
        /// `cxlmd->cxlm`, and whether `cxlm` and `cxlmd` are allocated.
        cxlm_ptr: AtomicUsize,
        cxlm_alive: AtomicBool,
        cxlmd_alive: AtomicBool,
        /// The driver's `mutex` held across removal.
        mutex: Mutex<()>,
        /// `cxl_memdev_rwsem`.
        rwsem: RwLock<()>,
        /// `all_users_opened`: opens done, and its wait queue.
        opened: Mutex<usize>,
        opened_cv: Condvar,
    }
    /// `kobject_get_unless_zero()`: a compare-and-swap loop.
    fn get_unless_zero(kref: &AtomicUsize) -> bool {
        let mut n = kref.load(Ordering::SeqCst);
        while n != 0 {
            match kref.compare_exchange(n, n + 1, Ordering::SeqCst, Ordering::SeqCst) {
                Ok(_) => return true,
                Err(now) => n = now,
            }
        }
        false
    }
    /// `kref_put()` on `dev.kobj`: the last put frees `cxlmd`.
    fn put_dev(d: &Dev) {
        if d.dev_kref.fetch_sub(1, Ordering::SeqCst) == 1 {
            d.cxlmd_alive.store(false, Ordering::SeqCst);
        }
    }
    /// `cdev_put()`: the last put runs `cdev_purge()` and drops the cdev's
    /// reference on its parent device.
    fn cdev_put(d: &Dev) {
        if d.cdev_kref.fetch_sub(1, Ordering::SeqCst) == 1 {
            *d.i_cdev.lock().expect("not poisoned") = false;
            put_dev(d);
        }
    }
    const USERS: usize = 2;
    // probe: kzalloc, kref_init, cdev_add, get_device, cdev_device_add.
    let d = Arc::new(Dev {
        map: Mutex::new(false),
        i_cdev: Mutex::new(false),
        cdev_kref: AtomicUsize::new(0),
        dev_kref: AtomicUsize::new(0),
        in_sysfs: AtomicBool::new(false),
        cxlm_ptr: AtomicUsize::new(0),
        cxlm_alive: AtomicBool::new(false),
        cxlmd_alive: AtomicBool::new(false),
        mutex: Mutex::new(()),
        rwsem: RwLock::new(()),
        opened: Mutex::new(0),
        opened_cv: Condvar::new(),
    });
    d.cxlmd_alive.store(true, Ordering::SeqCst);
    d.dev_kref.store(1, Ordering::SeqCst);
    d.cxlm_alive.store(true, Ordering::SeqCst);
    d.cxlm_ptr.store(1, Ordering::SeqCst);
    d.cdev_kref.store(1, Ordering::SeqCst);
    *d.map.lock().expect("not poisoned") = true;
    d.dev_kref.fetch_add(1, Ordering::SeqCst);
    d.in_sysfs.store(true, Ordering::SeqCst);
    let users: Vec<_> = (0..USERS)
        .map(|_| {
            let d = Arc::clone(&d);
            shuttle::thread::spawn(move || {
                // chrdev_open(): the cached cdev under cdev_lock, else
                // kobj_lookup() under the map's mutex, then install it.
                let cached = {
                    let i_cdev = d.i_cdev.lock().expect("not poisoned");
                    *i_cdev && get_unless_zero(&d.cdev_kref)
                };
                if !cached {
                    let mapped = *d.map.lock().expect("not poisoned");
                    if !mapped || !get_unless_zero(&d.cdev_kref) {
                        let mut n = d.opened.lock().expect("not poisoned");
                        *n += 1;
                        d.opened_cv.notify_all();
                        return;
                    }
                    let mut i_cdev = d.i_cdev.lock().expect("not poisoned");
                    if *i_cdev {
                        get_unless_zero(&d.cdev_kref);
                        drop(i_cdev);
                        cdev_put(&d);
                    } else {
                        *i_cdev = true;
                    }
                }
                // The driver's open: get_device().
                d.dev_kref.fetch_add(1, Ordering::SeqCst);
                {
                    let mut n = d.opened.lock().expect("not poisoned");
                    *n += 1;
                    d.opened_cv.notify_all();
                }
                // ioctl: cxlmd->cxlm, then the use of *cxlm.
                let guard = under_write_lock.then(|| d.rwsem.read().expect("not poisoned"));
                if d.cxlm_ptr.load(Ordering::SeqCst) != 0 {
                    let _use_after_removal = !d.cxlm_alive.load(Ordering::SeqCst);
                }
                drop(guard);
                // release: put_device(), then fput()'s cdev_put().
                put_dev(&d);
                cdev_put(&d);
            })
        })
        .collect();
    let remover = {
        let d = Arc::clone(&d);
        shuttle::thread::spawn(move || {
            {
                let mut n = d.opened.lock().expect("not poisoned");
                while *n < USERS {
                    n = d.opened_cv.wait(n).expect("not poisoned");
                }
            }
            let guard = d.mutex.lock().expect("not poisoned");
            d.in_sysfs.store(false, Ordering::SeqCst);
            *d.map.lock().expect("not poisoned") = false;
            cdev_put(&d);
            if under_write_lock {
                let _w = d.rwsem.write().expect("not poisoned");
                d.cxlm_ptr.store(0, Ordering::SeqCst);
            }
            // devres_release_all(): kfree(cxlm).
            d.cxlm_alive.store(false, Ordering::SeqCst);
            drop(guard);
            put_dev(&d);
        })
    };
    for u in users {
        u.join().expect("no panic");
    }
    remover.join().expect("no panic");
}

/// A scheme's name, its minimal and its faithful hand-written model.
type HandModels = (&'static str, fn(), fn());

/// The median of `xs` (the upper one of an even count).
fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// One round's rates of one scheme, in the order of the table's columns,
/// for 1 and 2 workers.
fn round(scheme: &str, n: u64, minimal: fn(), faithful: fn()) -> [[f64; 5]; 2] {
    [1, 2].map(|workers| {
        [
            unplug_rate(scheme, n, workers, Runtime::Native),
            unplug_rate(scheme, n, workers, Runtime::Shuttle),
            shuttle_with_model(scheme, n, workers),
            in_parallel(workers, n, |k| shuttle::check_random(minimal, k as usize)),
            in_parallel(workers, n, |k| shuttle::check_random(faithful, k as usize)),
        ]
    })
}

fn main() {
    let arg = |i: usize, default: u64| {
        std::env::args()
            .nth(i)
            .and_then(|a| a.parse().ok())
            .unwrap_or(default)
    };
    let n = arg(1, 100_000);
    let rounds = arg(2, 1).max(1);
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    let clock = if cpu_clock() {
        "per CPU second of each worker"
    } else {
        "per second"
    };
    println!(
        "{n} executions per cell, {rounds} round(s) interleaved, medians over rounds (ratios: the median of each round's ratio), {cores} cores; executions {clock}"
    );
    println!(
        "{:<22} {:>7} {:>9} {:>10} {:>13} {:>9} {:>9} {:>10} {:>10} {:>10} {:>10} {:>12}",
        "scheme",
        "workers",
        "native",
        "on shuttle",
        "shuttle+model",
        "minimal",
        "faithful",
        "/on shuttle",
        "/shuttle+m",
        "/minimal",
        "/faithful",
        "/minimal 1w"
    );
    let hand: [HandModels; 2] = [
        ("unsynchronized", minimal_unsynchronized, || faithful(false)),
        (
            "flag-under-write-lock",
            minimal_flag_under_write_lock,
            || faithful(true),
        ),
    ];
    // Rounds interleave every cell, so a burst of load on a shared machine
    // slows a few cells of one round rather than every sample of one cell,
    // and each round's ratios compare cells measured minutes apart at most.
    let samples: Vec<Vec<[[f64; 5]; 2]>> = (0..rounds)
        .map(|_| {
            hand.iter()
                .map(|&(scheme, minimal, faithful)| round(scheme, n, minimal, faithful))
                .collect()
        })
        .collect();
    for (k, (scheme, _, _)) in hand.iter().enumerate() {
        for (w, workers) in [1, 2].into_iter().enumerate() {
            let cell = |c: usize| median(samples.iter().map(|r| r[k][w][c]).collect());
            let ratio =
                |c: usize| median(samples.iter().map(|r| r[k][w][0] / r[k][w][c]).collect());
            // The goal's second rate: unplug on `workers` workers against
            // the minimal model on one.
            let vs_minimal_1w = median(samples.iter().map(|r| r[k][w][0] / r[k][0][3]).collect());
            println!(
                "{scheme:<22} {workers:>7} {:>9.0} {:>10.0} {:>13.0} {:>9.0} {:>9.0} {:>10.2}x {:>9.2}x {:>9.2}x {:>9.2}x {:>11.2}x",
                cell(0),
                cell(1),
                cell(2),
                cell(3),
                cell(4),
                ratio(1),
                ratio(2),
                ratio(3),
                ratio(4),
                vs_minimal_1w
            );
        }
    }
}
