//! Coherence: the four single-variable tests. Every access of one variable
//! is ordered by coherence alone, in LKMM and in C11 alike.

use super::{exists, int, test, Litmus, Lkmm, Regs};
use harness::kernel::{spawn_task, READ_ONCE, WRITE_ONCE};

/// `CoRR+poonceonce+Once`: two reads of one variable by one task are
/// ordered.
pub const CO_RR: Litmus = test(
    "CoRR+poonceonce+Once",
    "read-read coherence: two successive READ_ONCE(x) are ordered",
    Lkmm::Never,
    "1:r0=1 /\\ 1:r1=0",
    co_rr,
);

fn co_rr() {
    let x = int("x");
    let r = Regs::default();
    let p0 = spawn_task("P0", move || WRITE_ONCE(&x, 1));
    let r1 = r.clone();
    let p1 = spawn_task("P1", move || {
        r1.set(0, READ_ONCE(&x));
        r1.set(1, READ_ONCE(&x));
    });
    p0.join();
    p1.join();
    let (r0, r1) = (r.get(0), r.get(1));
    exists(
        CO_RR.exists,
        &[("1:r0", r0), ("1:r1", r1)],
        r0 == 1 && r1 == 0,
    );
}

/// `CoRW+poonceonce+Once`: a read followed by a write of the same variable
/// are ordered.
pub const CO_RW: Litmus = test(
    "CoRW+poonceonce+Once",
    "read-write coherence: READ_ONCE(x) then WRITE_ONCE(x) are ordered",
    Lkmm::Never,
    "x=2 /\\ 0:r0=2",
    co_rw,
);

fn co_rw() {
    let x = int("x");
    let r = Regs::default();
    let r0 = r.clone();
    let p0 = spawn_task("P0", move || {
        r0.set(0, READ_ONCE(&x));
        WRITE_ONCE(&x, 1);
    });
    let p1 = spawn_task("P1", move || WRITE_ONCE(&x, 2));
    p0.join();
    p1.join();
    let (fx, r0) = (READ_ONCE(&x), r.get(0));
    exists(CO_RW.exists, &[("x", fx), ("0:r0", r0)], fx == 2 && r0 == 2);
}

/// `CoWR+poonceonce+Once`: a write followed by a read of the same variable
/// are ordered.
pub const CO_WR: Litmus = test(
    "CoWR+poonceonce+Once",
    "write-read coherence: WRITE_ONCE(x) then READ_ONCE(x) are ordered",
    Lkmm::Never,
    "x=1 /\\ 0:r0=2",
    co_wr,
);

fn co_wr() {
    let x = int("x");
    let r = Regs::default();
    let r0 = r.clone();
    let p0 = spawn_task("P0", move || {
        WRITE_ONCE(&x, 1);
        r0.set(0, READ_ONCE(&x));
    });
    let p1 = spawn_task("P1", move || WRITE_ONCE(&x, 2));
    p0.join();
    p1.join();
    let (fx, r0) = (READ_ONCE(&x), r.get(0));
    exists(CO_WR.exists, &[("x", fx), ("0:r0", r0)], fx == 1 && r0 == 2);
}

/// `CoWW+poonceonce`: two writes of the same variable are ordered.
pub const CO_WW: Litmus = test(
    "CoWW+poonceonce",
    "write-write coherence: two successive WRITE_ONCE(x) are ordered",
    Lkmm::Never,
    "x=1",
    co_ww,
);

fn co_ww() {
    let x = int("x");
    let p0 = spawn_task("P0", move || {
        WRITE_ONCE(&x, 1);
        WRITE_ONCE(&x, 2);
    });
    p0.join();
    let fx = READ_ONCE(&x);
    exists(CO_WW.exists, &[("x", fx)], fx == 1);
}
