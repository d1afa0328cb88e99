//! Heap allocations per execution of the native engine, and its executions
//! per second on one worker, for the schemes the overhead example measures:
//! what the per-execution set-up and tear-down of the model costs in calls
//! to the allocator.
//!
//! A counting global allocator wraps the system one. The count of a run of
//! `N` executions minus that of a run of 1 (which holds the engine's own
//! one-time set-up: stacks, scheduler, scenario) divided by `N - 1` is the
//! steady-state count per execution.
//!
//! `cargo run --release --example exec_allocs [-- ITERATIONS [SCHEME...]]`

use harness::engine::{explore, Budget, ExecConfig, Explorer, RunConfig, Runtime, StopPolicy};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// The system allocator, counting allocations (reallocations included: each
/// is a call that may move the block).
struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded unchanged to `System`.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        System.alloc_zeroed(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(new_size as u64, Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations and bytes of `n` executions of `scheme`, and their rate.
fn run(scheme: &str, n: u64) -> (u64, u64, f64) {
    let s = unplug::find(scheme).expect("in the zoo");
    let scenario = s.scenario(s.default_workload.clone());
    let run = RunConfig {
        explorer: Explorer::Random,
        seed: 1,
        budget: Budget {
            iterations: Some(n),
            time: None,
        },
        exec: ExecConfig {
            runtime: Runtime::Native,
            ..ExecConfig::default()
        },
        stop: StopPolicy::Never,
        shard: (0, 1),
    };
    let (a0, b0) = (
        ALLOCS.load(Ordering::Relaxed),
        BYTES.load(Ordering::Relaxed),
    );
    let start = Instant::now();
    explore(&scenario, &run, None).expect("runs");
    let rate = n as f64 / start.elapsed().as_secs_f64();
    (
        ALLOCS.load(Ordering::Relaxed) - a0,
        BYTES.load(Ordering::Relaxed) - b0,
        rate,
    )
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let mut schemes: Vec<String> = args.collect();
    if schemes.is_empty() {
        schemes = vec!["unsynchronized".into(), "flag-under-write-lock".into()];
    }
    println!(
        "{:<24} {:>12} {:>12} {:>12}",
        "scheme", "allocs/exec", "bytes/exec", "execs/s"
    );
    for scheme in &schemes {
        let (a1, b1, _) = run(scheme, 1);
        let (an, bn, rate) = run(scheme, n);
        let per = |x: u64, y: u64| x.saturating_sub(y) as f64 / (n - 1) as f64;
        println!(
            "{scheme:<24} {:>12.1} {:>12.0} {:>12.0}",
            per(an, a1),
            per(bn, b1),
            rate
        );
    }
}
