//! Three- and four-task chains and the S pattern: S, ISA2, WRC, Z6.0 and
//! IRIW. They ask how far ordering reaches: along a chain of tasks each
//! reading the previous one's write (release-acquire chains, locks), and to
//! observers outside the chain (cumulativity, multicopy atomicity).

use super::{exists, int, test, Litmus, Lkmm, Regs};
use harness::kernel::{
    smp_load_acquire, smp_mb, smp_mb__after_spinlock, smp_rmb, smp_store_release, smp_wmb,
    spawn_task, spin_lock, spin_unlock, Spinlock, READ_ONCE, WRITE_ONCE,
};

/// `S+poonceonces`: a write, then a write of the flag; the reader of the
/// flag then writes the first variable. Is the first write ordered before
/// the reader's write?
pub const S_PO: Litmus = test(
    "S+poonceonces",
    "S pattern with no ordering",
    Lkmm::Sometimes,
    "x=2 /\\ 1:r0=1",
    s_po,
);

fn s_po() {
    s_pattern(S_PO.exists, false);
}

/// `S+wmbonceonce+poacquireonce`: `smp_wmb()` instead of a release, with an
/// acquire on the reader's side, orders the first store before the
/// reader's store.
pub const S_WMB_ACQUIRE: Litmus = test(
    "S+wmbonceonce+poacquireonce",
    "S pattern with smp_wmb() and smp_load_acquire()",
    Lkmm::Never,
    "x=2 /\\ 1:r0=1",
    s_wmb_acquire,
);

fn s_wmb_acquire() {
    s_pattern(S_WMB_ACQUIRE.exists, true);
}

#[track_caller]
fn s_pattern(clause: &'static str, ordered: bool) {
    let (x, y) = (int("x"), int("y"));
    let r = Regs::default();
    let p0 = spawn_task("P0", move || {
        WRITE_ONCE(&x, 2);
        if ordered {
            smp_wmb();
        }
        WRITE_ONCE(&y, 1);
    });
    let r1 = r.clone();
    let p1 = spawn_task("P1", move || {
        r1.set(
            0,
            if ordered {
                smp_load_acquire(&y)
            } else {
                READ_ONCE(&y)
            },
        );
        WRITE_ONCE(&x, 1);
    });
    p0.join();
    p1.join();
    let (fx, r0) = (READ_ONCE(&x), r.get(0));
    exists(clause, &[("x", fx), ("1:r0", r0)], fx == 2 && r0 == 1);
}

/// `ISA2+poonceonces`: a three-task chain with no ordering.
pub const ISA2_PO: Litmus = test(
    "ISA2+poonceonces",
    "ISA2 chain with no ordering",
    Lkmm::Sometimes,
    "1:r0=1 /\\ 2:r0=1 /\\ 2:r1=0",
    isa2_po,
);

fn isa2_po() {
    let (x, y, z) = (int("x"), int("y"), int("z"));
    let r = Regs::default();
    let p0 = spawn_task("P0", move || {
        WRITE_ONCE(&x, 1);
        WRITE_ONCE(&y, 1);
    });
    let r1 = r.clone();
    let p1 = spawn_task("P1", move || {
        r1.set(0, READ_ONCE(&y));
        WRITE_ONCE(&z, 1);
    });
    let r2 = r.clone();
    let p2 = spawn_task("P2", move || {
        r2.set(1, READ_ONCE(&z));
        r2.set(2, READ_ONCE(&x));
    });
    p0.join();
    p1.join();
    p2.join();
    check_isa2(ISA2_PO.exists, ("1:r0", "2:r0", "2:r1"), &r);
}

/// `ISA2+pooncerelease+poacquirerelease+poacquireonce`: a release-acquire
/// chain orders P0's first write against P2's final read.
pub const ISA2_RELEASE_ACQUIRE: Litmus = test(
    "ISA2+pooncerelease+poacquirerelease+poacquireonce",
    "ISA2 with a release-acquire chain",
    Lkmm::Never,
    "1:r0=1 /\\ 2:r0=1 /\\ 2:r1=0",
    isa2_release_acquire,
);

fn isa2_release_acquire() {
    let (x, y, z) = (int("x"), int("y"), int("z"));
    let r = Regs::default();
    let p0 = spawn_task("P0", move || {
        WRITE_ONCE(&x, 1);
        smp_store_release(&y, 1);
    });
    let r1 = r.clone();
    let p1 = spawn_task("P1", move || {
        r1.set(0, smp_load_acquire(&y));
        smp_store_release(&z, 1);
    });
    let r2 = r.clone();
    let p2 = spawn_task("P2", move || {
        r2.set(1, smp_load_acquire(&z));
        r2.set(2, READ_ONCE(&x));
    });
    p0.join();
    p1.join();
    p2.join();
    check_isa2(ISA2_RELEASE_ACQUIRE.exists, ("1:r0", "2:r0", "2:r1"), &r);
}

/// `ISA2+pooncelock+pooncelock+pombonce`: the write-write ordering locks
/// give P0 and P1 is visible to P2, which takes no lock but has
/// `smp_mb()`.
pub const ISA2_LOCKS_MB: Litmus = test(
    "ISA2+pooncelock+pooncelock+pombonce",
    "ISA2 with the first two tasks under one spinlock, an smp_mb() observer",
    Lkmm::Never,
    "1:r0=1 /\\ 2:r2=1 /\\ 2:r1=0",
    isa2_locks_mb,
);

fn isa2_locks_mb() {
    let (x, y, z) = (int("x"), int("y"), int("z"));
    let mylock = Spinlock::new("mylock", None);
    let r = Regs::default();
    let p0 = spawn_task("P0", move || {
        spin_lock(&mylock);
        WRITE_ONCE(&x, 1);
        WRITE_ONCE(&y, 1);
        spin_unlock(&mylock);
    });
    let r1 = r.clone();
    let p1 = spawn_task("P1", move || {
        spin_lock(&mylock);
        r1.set(0, READ_ONCE(&y));
        WRITE_ONCE(&z, 1);
        spin_unlock(&mylock);
    });
    let r2 = r.clone();
    let p2 = spawn_task("P2", move || {
        r2.set(1, READ_ONCE(&z));
        smp_mb();
        r2.set(2, READ_ONCE(&x));
    });
    p0.join();
    p1.join();
    p2.join();
    check_isa2(ISA2_LOCKS_MB.exists, ("1:r0", "2:r2", "2:r1"), &r);
}

/// The ISA2/WRC clause: the first two registers read 1, the last 0.
#[track_caller]
fn check_isa2(clause: &str, names: (&str, &str, &str), r: &Regs) {
    let (a, b, c) = (r.get(0), r.get(1), r.get(2));
    exists(
        clause,
        &[(names.0, a), (names.1, b), (names.2, c)],
        a == 1 && b == 1 && c == 0,
    );
}

/// `WRC+poonceonces+Once`: message passing whose first write is made by a
/// third task, with no ordering.
pub const WRC_PO: Litmus = test(
    "WRC+poonceonces+Once",
    "write-to-read causality with no ordering",
    Lkmm::Sometimes,
    "1:r0=1 /\\ 2:r0=1 /\\ 2:r1=0",
    wrc_po,
);

fn wrc_po() {
    wrc(WRC_PO.exists, false);
}

/// `WRC+pooncerelease+rmbonceonce+Once`: a release and a read barrier
/// forbid it.
pub const WRC_RELEASE_RMB: Litmus = test(
    "WRC+pooncerelease+rmbonceonce+Once",
    "write-to-read causality with smp_store_release() and smp_rmb()",
    Lkmm::Never,
    "1:r0=1 /\\ 2:r0=1 /\\ 2:r1=0",
    wrc_release_rmb,
);

fn wrc_release_rmb() {
    wrc(WRC_RELEASE_RMB.exists, true);
}

#[track_caller]
fn wrc(clause: &'static str, ordered: bool) {
    let (x, y) = (int("x"), int("y"));
    let r = Regs::default();
    let p0 = spawn_task("P0", move || WRITE_ONCE(&x, 1));
    let r1 = r.clone();
    let p1 = spawn_task("P1", move || {
        r1.set(0, READ_ONCE(&x));
        if ordered {
            smp_store_release(&y, 1);
        } else {
            WRITE_ONCE(&y, 1);
        }
    });
    let r2 = r.clone();
    let p2 = spawn_task("P2", move || {
        r2.set(1, READ_ONCE(&y));
        if ordered {
            smp_rmb();
        }
        r2.set(2, READ_ONCE(&x));
    });
    p0.join();
    p1.join();
    p2.join();
    check_isa2(clause, ("1:r0", "2:r0", "2:r1"), &r);
}

/// `Z6.0+pooncelock+pooncelock+pombonce`: an unlock and a later lock do not
/// make their ordering apparent to a task that holds no lock.
pub const Z6_LOCKS_MB: Litmus = test(
    "Z6.0+pooncelock+pooncelock+pombonce",
    "Z6.0 with a spinlock chain and an smp_mb() task outside it",
    Lkmm::Sometimes,
    "1:r0=1 /\\ z=2 /\\ 2:r1=0",
    z6_locks_mb,
);

fn z6_locks_mb() {
    z6_locks(Z6_LOCKS_MB.exists, false);
}

/// `Z6.0+pooncelock+poonceLock+pombonce`: the same with
/// `smp_mb__after_spinlock()` after the second lock, which makes it so.
pub const Z6_LOCKS_AFTER_SPINLOCK_MB: Litmus = test(
    "Z6.0+pooncelock+poonceLock+pombonce",
    "Z6.0 with a spinlock chain, smp_mb__after_spinlock(), and an smp_mb() task",
    Lkmm::Never,
    "1:r0=1 /\\ z=2 /\\ 2:r1=0",
    z6_locks_after_spinlock_mb,
);

fn z6_locks_after_spinlock_mb() {
    z6_locks(Z6_LOCKS_AFTER_SPINLOCK_MB.exists, true);
}

#[track_caller]
fn z6_locks(clause: &'static str, after_spinlock: bool) {
    let (x, y, z) = (int("x"), int("y"), int("z"));
    let mylock = Spinlock::new("mylock", None);
    let r = Regs::default();
    let p0 = spawn_task("P0", move || {
        spin_lock(&mylock);
        WRITE_ONCE(&x, 1);
        WRITE_ONCE(&y, 1);
        spin_unlock(&mylock);
    });
    let r1 = r.clone();
    let p1 = spawn_task("P1", move || {
        spin_lock(&mylock);
        if after_spinlock {
            smp_mb__after_spinlock();
        }
        r1.set(0, READ_ONCE(&y));
        WRITE_ONCE(&z, 1);
        spin_unlock(&mylock);
    });
    let r2 = r.clone();
    let p2 = spawn_task("P2", move || {
        WRITE_ONCE(&z, 2);
        smp_mb();
        r2.set(1, READ_ONCE(&x));
    });
    p0.join();
    p1.join();
    p2.join();
    check_z6(clause, READ_ONCE(&z), &r);
}

/// `Z6.0+pooncerelease+poacquirerelease+mbonceonce`: a release-acquire
/// chain does not make its ordering apparent to a task outside it, even one
/// with `smp_mb()`.
pub const Z6_RELEASE_ACQUIRE_MB: Litmus = test(
    "Z6.0+pooncerelease+poacquirerelease+mbonceonce",
    "Z6.0 with a release-acquire chain and an smp_mb() task outside it",
    Lkmm::Sometimes,
    "1:r0=1 /\\ z=2 /\\ 2:r1=0",
    z6_release_acquire_mb,
);

fn z6_release_acquire_mb() {
    let (x, y, z) = (int("x"), int("y"), int("z"));
    let r = Regs::default();
    let p0 = spawn_task("P0", move || {
        WRITE_ONCE(&x, 1);
        smp_store_release(&y, 1);
    });
    let r1 = r.clone();
    let p1 = spawn_task("P1", move || {
        r1.set(0, smp_load_acquire(&y));
        smp_store_release(&z, 1);
    });
    let r2 = r.clone();
    let p2 = spawn_task("P2", move || {
        WRITE_ONCE(&z, 2);
        smp_mb();
        r2.set(1, READ_ONCE(&x));
    });
    p0.join();
    p1.join();
    p2.join();
    check_z6(Z6_RELEASE_ACQUIRE_MB.exists, READ_ONCE(&z), &r);
}

/// The Z6.0 clause `1:r0=1 /\ z=2 /\ 2:r1=0`.
#[track_caller]
fn check_z6(clause: &str, fz: i64, r: &Regs) {
    let (r0, r1) = (r.get(0), r.get(1));
    exists(
        clause,
        &[("1:r0", r0), ("z", fz), ("2:r1", r1)],
        r0 == 1 && fz == 2 && r1 == 0,
    );
}

/// `IRIW+poonceonces+OnceOnce`: can two readers disagree on the order of
/// two writes by two other tasks, with nothing between their reads?
pub const IRIW_PO: Litmus = test(
    "IRIW+poonceonces+OnceOnce",
    "independent reads of independent writes, no ordering",
    Lkmm::Sometimes,
    "1:r0=1 /\\ 1:r1=0 /\\ 3:r0=1 /\\ 3:r1=0",
    iriw_po,
);

fn iriw_po() {
    iriw(IRIW_PO.exists, false);
}

/// `IRIW+mbonceonces+OnceOnce`: `smp_mb()` between each pair of reads makes
/// the readers agree.
pub const IRIW_MB: Litmus = test(
    "IRIW+mbonceonces+OnceOnce",
    "independent reads of independent writes, smp_mb() between the reads",
    Lkmm::Never,
    "1:r0=1 /\\ 1:r1=0 /\\ 3:r0=1 /\\ 3:r1=0",
    iriw_mb,
);

fn iriw_mb() {
    iriw(IRIW_MB.exists, true);
}

#[track_caller]
fn iriw(clause: &'static str, mb: bool) {
    let (x, y) = (int("x"), int("y"));
    let r = Regs::default();
    let p0 = spawn_task("P0", move || WRITE_ONCE(&x, 1));
    let r1 = r.clone();
    let p1 = spawn_task("P1", move || {
        r1.set(0, READ_ONCE(&x));
        if mb {
            smp_mb();
        }
        r1.set(1, READ_ONCE(&y));
    });
    let p2 = spawn_task("P2", move || WRITE_ONCE(&y, 1));
    let r3 = r.clone();
    let p3 = spawn_task("P3", move || {
        r3.set(2, READ_ONCE(&y));
        if mb {
            smp_mb();
        }
        r3.set(3, READ_ONCE(&x));
    });
    p0.join();
    p1.join();
    p2.join();
    p3.join();
    let v = [r.get(0), r.get(1), r.get(2), r.get(3)];
    exists(
        clause,
        &[
            ("1:r0", v[0]),
            ("1:r1", v[1]),
            ("3:r0", v[2]),
            ("3:r1", v[3]),
        ],
        v == [1, 0, 1, 0],
    );
}
