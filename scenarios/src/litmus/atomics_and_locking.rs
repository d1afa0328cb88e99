//! The tests of the kernel's Documentation/litmus-tests/ (`atomic/` and
//! `locking/`) that use primitives the model has: atomics with
//! `smp_mb__after_atomic()`, `cmpxchg()` that fails, double-checked
//! locking, and the "roach motel" test of what may move into a critical
//! section.

use super::{exists, int, test, Litmus, Lkmm, Regs};
use harness::kernel::{
    atomic_add_unless, atomic_inc, atomic_inc_return, atomic_read, atomic_set, cmpxchg,
    smp_load_acquire, smp_mb__after_atomic, smp_rmb, smp_store_release, spawn_task, spin_lock,
    spin_unlock, Atomic, Plain, Spinlock, READ_ONCE, WRITE_ONCE,
};

/// `Atomic-RMW+mb__after_atomic-is-stronger-than-acquire`: an atomic RMW
/// followed by `smp_mb__after_atomic()` orders both its read and its write
/// before later accesses.
pub const ATOMIC_RMW_MB_AFTER_ATOMIC: Litmus = test(
    "Atomic-RMW+mb__after_atomic-is-stronger-than-acquire",
    "atomic_inc() + smp_mb__after_atomic() orders the increment before a later store",
    Lkmm::Never,
    "0:r0=1 /\\ 0:r1=0",
    atomic_rmw_mb_after_atomic,
);

fn atomic_rmw_mb_after_atomic() {
    let x = int("x");
    let y = Atomic::new("y", None, 0);
    let r = Regs::default();
    let r0 = r.clone();
    let p0 = spawn_task("P0", move || {
        r0.set(0, READ_ONCE(&x));
        smp_rmb();
        r0.set(1, atomic_read(&y));
    });
    let p1 = spawn_task("P1", move || {
        atomic_inc(&y);
        smp_mb__after_atomic();
        WRITE_ONCE(&x, 1);
    });
    p0.join();
    p1.join();
    let (a, b) = (r.get(0), r.get(1));
    exists(
        ATOMIC_RMW_MB_AFTER_ATOMIC.exists,
        &[("0:r0", a), ("0:r1", b)],
        a == 1 && b == 0,
    );
}

/// `Atomic-RMW-ops-are-atomic-WRT-atomic_set`: `atomic_set()` cannot
/// break the atomicity of an RMW (`atomic_add_unless()`, a cmpxchg loop).
pub const ATOMIC_RMW_VS_SET: Litmus = test(
    "Atomic-RMW-ops-are-atomic-WRT-atomic_set",
    "atomic_set() against atomic_add_unless() on a counter starting at 1",
    Lkmm::Never,
    "v=2",
    atomic_rmw_vs_set,
)
.diverges(
    "loom reaches v=2: its C11 model (after CDSChecker) keeps a partial modification order and leaves out the RMW-atomicity rule (empty in loom 0.7's rt/atomic.rs), so atomic_set()'s plain store can slip between the cmpxchg's read and write; a bare loom model of the same three operations reaches it too. C11 and LKMM forbid it; the SC explorers never reach it",
);

fn atomic_rmw_vs_set() {
    let v = Atomic::new("v", None, 1);
    let p0 = spawn_task("P0", move || {
        atomic_add_unless(&v, 1, 0);
    });
    let p1 = spawn_task("P1", move || atomic_set(&v, 0));
    p0.join();
    p1.join();
    let fv = atomic_read(&v);
    exists(ATOMIC_RMW_VS_SET.exists, &[("v", fv)], fv == 2);
}

/// `cmpxchg-fail-ordered-1`: a failing `cmpxchg()` followed by
/// `smp_mb__after_atomic()` is a full barrier (store buffering forbidden).
pub const CMPXCHG_FAIL_ORDERED_1: Litmus = test(
    "cmpxchg-fail-ordered-1",
    "store buffering with a failing cmpxchg() + smp_mb__after_atomic() on both sides",
    Lkmm::Never,
    "0:r0=0 /\\ 1:r0=0",
    cmpxchg_fail_ordered_1,
);

fn cmpxchg_fail_ordered_1() {
    cmpxchg_fail_sb(CMPXCHG_FAIL_ORDERED_1.exists, true);
}

/// `cmpxchg-fail-unordered-1`: a failing `cmpxchg()` alone is not a full
/// barrier.
pub const CMPXCHG_FAIL_UNORDERED_1: Litmus = test(
    "cmpxchg-fail-unordered-1",
    "store buffering with a failing cmpxchg() on both sides",
    Lkmm::Sometimes,
    "0:r0=0 /\\ 1:r0=0",
    cmpxchg_fail_unordered_1,
);

fn cmpxchg_fail_unordered_1() {
    cmpxchg_fail_sb(CMPXCHG_FAIL_UNORDERED_1.exists, false);
}

#[track_caller]
fn cmpxchg_fail_sb(clause: &'static str, mb: bool) {
    let (x, y, z) = (int("x"), int("y"), int("z"));
    let r = Regs::default();
    let side = move |mine: Plain<i64>, theirs: Plain<i64>, r: Regs, i: usize| {
        WRITE_ONCE(&mine, 1);
        // z is 0 throughout: the cmpxchg(z, 1, 0) always fails.
        r.set(2 + i, cmpxchg(&z, 1, 0));
        if mb {
            smp_mb__after_atomic();
        }
        r.set(i, READ_ONCE(&theirs));
    };
    let r0 = r.clone();
    let p0 = spawn_task("P0", move || side(x, y, r0, 0));
    let r1 = r.clone();
    let p1 = spawn_task("P1", move || side(y, x, r1, 1));
    p0.join();
    p1.join();
    let (a, b) = (r.get(0), r.get(1));
    exists(
        clause,
        &[
            ("0:r0", a),
            ("1:r0", b),
            ("0:r1", r.get(2)),
            ("1:r1", r.get(3)),
        ],
        a == 0 && b == 0,
    );
}

/// `cmpxchg-fail-ordered-2`: `smp_mb__after_atomic()` gives a failing
/// `cmpxchg()` acquire ordering.
pub const CMPXCHG_FAIL_ORDERED_2: Litmus = test(
    "cmpxchg-fail-ordered-2",
    "message passing through a successful cmpxchg(), read by a failing one + smp_mb__after_atomic()",
    Lkmm::Never,
    "0:r1=0 /\\ 1:r1=1 /\\ 1:r2=0",
    cmpxchg_fail_ordered_2,
);

fn cmpxchg_fail_ordered_2() {
    cmpxchg_fail_mp(CMPXCHG_FAIL_ORDERED_2.exists, true);
}

/// `cmpxchg-fail-unordered-2`: a failing `cmpxchg()` is no acquire.
pub const CMPXCHG_FAIL_UNORDERED_2: Litmus = test(
    "cmpxchg-fail-unordered-2",
    "message passing through a successful cmpxchg(), read by a failing one",
    Lkmm::Sometimes,
    "0:r1=0 /\\ 1:r1=1 /\\ 1:r2=0",
    cmpxchg_fail_unordered_2,
);

fn cmpxchg_fail_unordered_2() {
    cmpxchg_fail_mp(CMPXCHG_FAIL_UNORDERED_2.exists, false);
}

#[track_caller]
fn cmpxchg_fail_mp(clause: &'static str, mb: bool) {
    let (x, y) = (int("x"), int("y"));
    let r = Regs::default();
    let r0 = r.clone();
    let p0 = spawn_task("P0", move || {
        WRITE_ONCE(&x, 1);
        r0.set(0, cmpxchg(&y, 0, 1));
    });
    let r1 = r.clone();
    let p1 = spawn_task("P1", move || {
        r1.set(1, cmpxchg(&y, 0, 1));
        if mb {
            smp_mb__after_atomic();
        }
        r1.set(2, READ_ONCE(&x));
    });
    p0.join();
    p1.join();
    let (a, b, c) = (r.get(0), r.get(1), r.get(2));
    exists(
        clause,
        &[("0:r1", a), ("1:r1", b), ("1:r2", c)],
        a == 0 && b == 1 && c == 0,
    );
}

/// `DCL-broken`: double-checked locking with `READ_ONCE()`/`WRITE_ONCE()`
/// of the flag: the lock alone does not order the data for the task that
/// skips it.
pub const DCL_BROKEN: Litmus = test(
    "DCL-broken",
    "double-checked locking with a READ_ONCE/WRITE_ONCE flag",
    Lkmm::Sometimes,
    "0:r2=0 \\/ 1:r2=0",
    dcl_broken,
);

fn dcl_broken() {
    dcl(DCL_BROKEN.exists, false);
}

/// `DCL-fixed`: the same with `smp_load_acquire()`/`smp_store_release()`
/// of the flag.
pub const DCL_FIXED: Litmus = test(
    "DCL-fixed",
    "double-checked locking with an acquire/release flag",
    Lkmm::Never,
    "0:r2=0 \\/ 1:r2=0",
    dcl_fixed,
);

fn dcl_fixed() {
    dcl(DCL_FIXED.exists, true);
}

/// One double-checked-locking process: test the flag, and if unset, take
/// the lock, test again, initialise and set it; then read the data.
fn dcl_process(flag: Plain<i64>, data: Plain<i64>, lck: Spinlock, fixed: bool) -> i64 {
    let r0 = if fixed {
        smp_load_acquire(&flag)
    } else {
        READ_ONCE(&flag)
    };
    if r0 == 0 {
        spin_lock(&lck);
        if READ_ONCE(&flag) == 0 {
            WRITE_ONCE(&data, 1);
            if fixed {
                smp_store_release(&flag, 1);
            } else {
                WRITE_ONCE(&flag, 1);
            }
        }
        spin_unlock(&lck);
    }
    READ_ONCE(&data)
}

#[track_caller]
fn dcl(clause: &'static str, fixed: bool) {
    let (flag, data) = (int("flag"), int("data"));
    let lck = Spinlock::new("lck", None);
    let r = Regs::default();
    let tasks: Vec<_> = (0..2)
        .map(|i| {
            let r = r.clone();
            spawn_task(format!("P{i}"), move || {
                r.set(i, dcl_process(flag, data, lck, fixed));
            })
        })
        .collect();
    for t in tasks {
        t.join();
    }
    let (a, b) = (r.get(0), r.get(1));
    exists(clause, &[("0:r2", a), ("1:r2", b)], a == 0 || b == 0);
}

/// `RM-fixed`: accesses before a critical section may not be moved into
/// it past accesses of another critical section ("roach motel"): if P1
/// read `x` as 0 then 1 before taking the lock, P0's critical section came
/// first and P1's increment sees P0's.
pub const RM_FIXED: Litmus = test(
    "RM-fixed",
    "roach motel: reads before a critical section against another critical section",
    Lkmm::Never,
    "filter (1:r0=0 /\\ 1:r1=1) exists (1:r2=1)",
    rm_fixed,
)
.lb("P1 reads x=1 before its lock, from a store of P0's critical section that the lock orders after P1's: a read from a later store");

fn rm_fixed() {
    let x = int("x");
    let y = Atomic::new("y", None, 0);
    let lck = Spinlock::new("lck", None);
    let r = Regs::default();
    let p0 = spawn_task("P0", move || {
        spin_lock(&lck);
        atomic_inc_return(&y);
        WRITE_ONCE(&x, 1);
        spin_unlock(&lck);
    });
    let r1 = r.clone();
    let p1 = spawn_task("P1", move || {
        r1.set(0, READ_ONCE(&x));
        r1.set(1, READ_ONCE(&x));
        spin_lock(&lck);
        r1.set(2, atomic_inc_return(&y));
        spin_unlock(&lck);
    });
    p0.join();
    p1.join();
    let (r0, r1, r2) = (r.get(0), r.get(1), r.get(2));
    exists(
        RM_FIXED.exists,
        &[("1:r0", r0), ("1:r1", r1), ("1:r2", r2)],
        r0 == 0 && r1 == 1 && r2 == 1,
    );
}
