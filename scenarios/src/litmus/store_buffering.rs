//! Store buffering (SB) and its relative R: each task writes one variable
//! and then reads (SB) or writes (R) the other; only full barriers order a
//! store before a later load.

use super::{exists, int, test, Litmus, Lkmm, Regs};
use harness::kernel::{smp_mb, spawn_task, READ_ONCE, WRITE_ONCE};

/// `SB+poonceonces`: store buffering with no ordering.
pub const SB_PO: Litmus = test(
    "SB+poonceonces",
    "store buffering with no ordering",
    Lkmm::Sometimes,
    "0:r0=0 /\\ 1:r0=0",
    sb_po,
);

fn sb_po() {
    sb(SB_PO.exists, false);
}

/// `SB+mbonceonces`: `smp_mb()` on both sides forbids it (the core of
/// Dekker's algorithm).
pub const SB_MB: Litmus = test(
    "SB+mbonceonces",
    "store buffering with smp_mb() on both sides",
    Lkmm::Never,
    "0:r0=0 /\\ 1:r0=0",
    sb_mb,
);

fn sb_mb() {
    sb(SB_MB.exists, true);
}

#[track_caller]
fn sb(clause: &'static str, mb: bool) {
    let (x, y) = (int("x"), int("y"));
    let r = Regs::default();
    let r0 = r.clone();
    let p0 = spawn_task("P0", move || {
        WRITE_ONCE(&x, 1);
        if mb {
            smp_mb();
        }
        r0.set(0, READ_ONCE(&y));
    });
    let r1 = r.clone();
    let p1 = spawn_task("P1", move || {
        WRITE_ONCE(&y, 1);
        if mb {
            smp_mb();
        }
        r1.set(1, READ_ONCE(&x));
    });
    p0.join();
    p1.join();
    let (a, b) = (r.get(0), r.get(1));
    exists(clause, &[("0:r0", a), ("1:r0", b)], a == 0 && b == 0);
}

/// `SB+rfionceonce-poonceonces`: each task reads its own store back before
/// reading the other variable; LKMM is not fully multicopy atomic, so this
/// does not order anything.
pub const SB_RFI: Litmus = test(
    "SB+rfionceonce-poonceonces",
    "store buffering with each store read back by its own task first",
    Lkmm::Sometimes,
    "0:r2=0 /\\ 1:r4=0",
    sb_rfi,
);

fn sb_rfi() {
    let (x, y) = (int("x"), int("y"));
    let r = Regs::default();
    let r0 = r.clone();
    let p0 = spawn_task("P0", move || {
        WRITE_ONCE(&x, 1);
        r0.set(0, READ_ONCE(&x));
        r0.set(1, READ_ONCE(&y));
    });
    let r1 = r.clone();
    let p1 = spawn_task("P1", move || {
        WRITE_ONCE(&y, 1);
        r1.set(2, READ_ONCE(&y));
        r1.set(3, READ_ONCE(&x));
    });
    p0.join();
    p1.join();
    let (r2, r4) = (r.get(1), r.get(3));
    exists(
        SB_RFI.exists,
        &[
            ("0:r1", r.get(0)),
            ("0:r2", r2),
            ("1:r3", r.get(2)),
            ("1:r4", r4),
        ],
        r2 == 0 && r4 == 0,
    );
}

/// `R+poonceonces`: the R pattern with no ordering.
pub const R_PO: Litmus = test(
    "R+poonceonces",
    "R pattern (store propagation delay) with no ordering",
    Lkmm::Sometimes,
    "y=2 /\\ 1:r0=0",
    r_po,
);

fn r_po() {
    r_pattern(R_PO.exists, false);
}

/// `R+mbonceonces`: the R pattern fully ordered by `smp_mb()`.
pub const R_MB: Litmus = test(
    "R+mbonceonces",
    "R pattern with smp_mb() on both sides",
    Lkmm::Never,
    "y=2 /\\ 1:r0=0",
    r_mb,
);

fn r_mb() {
    r_pattern(R_MB.exists, true);
}

#[track_caller]
fn r_pattern(clause: &'static str, mb: bool) {
    let (x, y) = (int("x"), int("y"));
    let r = Regs::default();
    let p0 = spawn_task("P0", move || {
        WRITE_ONCE(&x, 1);
        if mb {
            smp_mb();
        }
        WRITE_ONCE(&y, 1);
    });
    let r1 = r.clone();
    let p1 = spawn_task("P1", move || {
        WRITE_ONCE(&y, 2);
        if mb {
            smp_mb();
        }
        r1.set(0, READ_ONCE(&x));
    });
    p0.join();
    p1.join();
    let (fy, r0) = (READ_ONCE(&y), r.get(0));
    exists(clause, &[("y", fy), ("1:r0", r0)], fy == 2 && r0 == 0);
}
