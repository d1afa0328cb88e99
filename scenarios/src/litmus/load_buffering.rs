//! Load buffering (LB): each task reads one variable and then writes the
//! other; can both reads see the other task's (later) write?
//!
//! Every `exists` outcome here needs a load to read from a store that comes
//! later in the other task's program order, in a cycle. Neither backend can
//! produce that by construction: the SC explorers run each access in
//! program order against one memory, and loom's C11 model has no load
//! buffering (a load reads only stores already executed). The `Sometimes`
//! of `LB+poonceonces` is therefore out of reach of both, and the `Never`s
//! hold vacuously: the model says "not explorable", not "Never".

use super::{exists, int, test, Litmus, Lkmm, Regs};
use harness::kernel::{
    smp_load_acquire, smp_mb, smp_store_release, spawn_task, spin_lock, spin_unlock, Plain,
    Spinlock, READ_ONCE, WRITE_ONCE,
};

const LB: &str = "each read reads from the other task's po-later write: load buffering";

/// `LB+poonceonces`: no ordering at all.
pub const LB_PO: Litmus = test(
    "LB+poonceonces",
    "load buffering with no ordering",
    Lkmm::Sometimes,
    "0:r0=1 /\\ 1:r0=1",
    lb_po,
)
.lb(LB);

fn lb_po() {
    let (x, y) = (int("x"), int("y"));
    let r = Regs::default();
    let r0 = r.clone();
    let p0 = spawn_task("P0", move || {
        r0.set(0, READ_ONCE(&x));
        WRITE_ONCE(&y, 1);
    });
    let r1 = r.clone();
    let p1 = spawn_task("P1", move || {
        r1.set(1, READ_ONCE(&y));
        WRITE_ONCE(&x, 1);
    });
    p0.join();
    p1.join();
    check_lb(LB_PO.exists, ("0:r0", "1:r0"), &r);
}

/// `LB+ctrlonceonce+mbonceonce`: a control dependency on one side and
/// `smp_mb()` on the other.
pub const LB_CTRL_MB: Litmus = test(
    "LB+ctrlonceonce+mbonceonce",
    "load buffering with a control dependency and smp_mb()",
    Lkmm::Never,
    "0:r0=1 /\\ 1:r0=1",
    lb_ctrl_mb,
)
.lb(LB);

fn lb_ctrl_mb() {
    let (x, y) = (int("x"), int("y"));
    let r = Regs::default();
    let r0 = r.clone();
    let p0 = spawn_task("P0", move || {
        let v = READ_ONCE(&x);
        r0.set(0, v);
        if v != 0 {
            WRITE_ONCE(&y, 1);
        }
    });
    let r1 = r.clone();
    let p1 = spawn_task("P1", move || {
        r1.set(1, READ_ONCE(&y));
        smp_mb();
        WRITE_ONCE(&x, 1);
    });
    p0.join();
    p1.join();
    check_lb(LB_CTRL_MB.exists, ("0:r0", "1:r0"), &r);
}

/// `LB+poacquireonce+pooncerelease`: a release-acquire pair.
pub const LB_ACQUIRE_RELEASE: Litmus = test(
    "LB+poacquireonce+pooncerelease",
    "load buffering with smp_store_release() / smp_load_acquire()",
    Lkmm::Never,
    "0:r0=1 /\\ 1:r0=1",
    lb_acquire_release,
)
.lb(LB);

fn lb_acquire_release() {
    let (x, y) = (int("x"), int("y"));
    let r = Regs::default();
    let r0 = r.clone();
    let p0 = spawn_task("P0", move || {
        r0.set(0, READ_ONCE(&x));
        smp_store_release(&y, 1);
    });
    let r1 = r.clone();
    let p1 = spawn_task("P1", move || {
        r1.set(1, smp_load_acquire(&y));
        WRITE_ONCE(&x, 1);
    });
    p0.join();
    p1.join();
    check_lb(LB_ACQUIRE_RELEASE.exists, ("0:r0", "1:r0"), &r);
}

/// `LB+unlocklockonceonce+poacquireonce`: two critical sections of
/// different locks on one CPU order the first's load before the second's
/// store.
pub const LB_UNLOCKLOCK_ACQUIRE: Litmus = test(
    "LB+unlocklockonceonce+poacquireonce",
    "load buffering across consecutive critical sections of different locks",
    Lkmm::Never,
    "0:r1=1 /\\ 1:r2=1",
    lb_unlocklock_acquire,
)
.lb(LB);

fn lb_unlocklock_acquire() {
    let (x, y) = (int("x"), int("y"));
    let s = Spinlock::new("s", None);
    let t = Spinlock::new("t", None);
    let r = Regs::default();
    let r0 = r.clone();
    let p0 = spawn_task("P0", move || {
        spin_lock(&s);
        r0.set(0, READ_ONCE(&x));
        spin_unlock(&s);
        spin_lock(&t);
        WRITE_ONCE(&y, 1);
        spin_unlock(&t);
    });
    let r1 = r.clone();
    let p1 = spawn_task("P1", move || {
        r1.set(1, smp_load_acquire(&y));
        WRITE_ONCE(&x, 1);
    });
    p0.join();
    p1.join();
    check_lb(LB_UNLOCKLOCK_ACQUIRE.exists, ("0:r1", "1:r2"), &r);
}

/// `dep+plain`: plain accesses carry dependencies like registers do, so
/// the value P0 read controls its store through `*z1` and `*z2`.
pub const DEP_PLAIN: Litmus = test(
    "dep+plain",
    "a control dependency carried through plain accesses",
    Lkmm::Never,
    "x=1 /\\ y=1",
    dep_plain,
)
.lb("x=1 needs P1 to read y=1, which P0 stores only after reading x=1: a load-buffering cycle (out of thin air)");

fn dep_plain() {
    let (x, y) = (int("x"), int("y"));
    let z1: Plain<i64> = int("z1");
    let z2: Plain<i64> = int("z2");
    let p0 = spawn_task("P0", move || {
        let a = READ_ONCE(&x);
        z1.write(a);
        z2.write(z1.read());
        if z2.read() == 1 {
            WRITE_ONCE(&y, 1);
        }
    });
    let p1 = spawn_task("P1", move || {
        let r = smp_load_acquire(&y);
        smp_store_release(&x, r);
    });
    p0.join();
    p1.join();
    let (fx, fy) = (READ_ONCE(&x), READ_ONCE(&y));
    exists(
        DEP_PLAIN.exists,
        &[("x", fx), ("y", fy)],
        fx == 1 && fy == 1,
    );
}

/// The LB clause: both named registers read 1.
#[track_caller]
fn check_lb(clause: &str, names: (&str, &str), r: &Regs) {
    let (a, b) = (r.get(0), r.get(1));
    exists(clause, &[(names.0, a), (names.1, b)], a == 1 && b == 1);
}
