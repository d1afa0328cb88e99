//! Message passing (MP): P0 writes data then a flag, P1 reads the flag then
//! the data; can P1 see the flag and miss the data?

use super::{exists, int, test, Litmus, Lkmm, Regs};
use harness::kernel::{
    kfree, kzalloc, rcu_assign_pointer, rcu_dereference, rcu_read_lock, rcu_read_unlock,
    smp_load_acquire, smp_rmb, smp_store_release, smp_wmb, spawn_task, spin_lock, spin_unlock,
    Plain, Spinlock, READ_ONCE, WRITE_ONCE,
};

/// `MP+poonceonces`: no ordering at all.
pub const MP_PO: Litmus = test(
    "MP+poonceonces",
    "message passing with no ordering at all",
    Lkmm::Sometimes,
    "1:r0=1 /\\ 1:r1=0",
    mp_po,
);

fn mp_po() {
    let (x, y) = (int("x"), int("y"));
    let r = Regs::default();
    let p0 = spawn_task("P0", move || {
        WRITE_ONCE(&x, 1);
        WRITE_ONCE(&y, 1);
    });
    let r1 = r.clone();
    let p1 = spawn_task("P1", move || {
        r1.set(0, READ_ONCE(&y));
        r1.set(1, READ_ONCE(&x));
    });
    p0.join();
    p1.join();
    check_mp(MP_PO.exists, "1", &r);
}

/// `MP+pooncerelease+poacquireonce`: `smp_store_release()` of the flag and
/// `smp_load_acquire()` of it suffice.
pub const MP_RELEASE_ACQUIRE: Litmus = test(
    "MP+pooncerelease+poacquireonce",
    "message passing with smp_store_release() / smp_load_acquire()",
    Lkmm::Never,
    "1:r0=1 /\\ 1:r1=0",
    mp_release_acquire,
);

fn mp_release_acquire() {
    let (x, y) = (int("x"), int("y"));
    let r = Regs::default();
    let p0 = spawn_task("P0", move || {
        WRITE_ONCE(&x, 1);
        smp_store_release(&y, 1);
    });
    let r1 = r.clone();
    let p1 = spawn_task("P1", move || {
        r1.set(0, smp_load_acquire(&y));
        r1.set(1, READ_ONCE(&x));
    });
    p0.join();
    p1.join();
    check_mp(MP_RELEASE_ACQUIRE.exists, "1", &r);
}

/// `MP+wmbonceonce+rmbonceonce`: `smp_wmb()` between the stores and
/// `smp_rmb()` between the loads suffice.
pub const MP_WMB_RMB: Litmus = test(
    "MP+wmbonceonce+rmbonceonce",
    "message passing with smp_wmb() / smp_rmb()",
    Lkmm::Never,
    "1:r0=1 /\\ 1:r1=0",
    mp_wmb_rmb,
);

fn mp_wmb_rmb() {
    let (x, y) = (int("x"), int("y"));
    let r = Regs::default();
    let p0 = spawn_task("P0", move || {
        WRITE_ONCE(&x, 1);
        smp_wmb();
        WRITE_ONCE(&y, 1);
    });
    let r1 = r.clone();
    let p1 = spawn_task("P1", move || {
        r1.set(0, READ_ONCE(&y));
        smp_rmb();
        r1.set(1, READ_ONCE(&x));
    });
    p0.join();
    p1.join();
    check_mp(MP_WMB_RMB.exists, "1", &r);
}

/// `MP+onceassign+derefonce`: `rcu_assign_pointer()` and
/// `rcu_dereference()` keep an RCU reader from seeing pre-initialisation
/// garbage through a newly published pointer. The test's `int *y` starts
/// pointing at `z`; here `x` and `z` are each the one field of an
/// allocation, and `y` points at the allocation.
pub const MP_ASSIGN_DEREF: Litmus = test(
    "MP+onceassign+derefonce",
    "RCU publication: rcu_assign_pointer() / rcu_dereference()",
    Lkmm::Never,
    "1:r0=x /\\ 1:r1=0",
    mp_assign_deref,
);

fn mp_assign_deref() {
    let xo = kzalloc("x_obj");
    let zo = kzalloc("z_obj");
    let x: Plain<i64> = Plain::new("x", Some(xo), 0);
    let z: Plain<i64> = Plain::new("z", Some(zo), 0);
    let y = Plain::new("y", None, Some(zo));
    let r = Regs::default();
    let p0 = spawn_task("P0", move || {
        WRITE_ONCE(&x, 1);
        rcu_assign_pointer(&y, Some(xo));
    });
    let r1 = r.clone();
    let p1 = spawn_task("P1", move || {
        rcu_read_lock();
        let r0 = rcu_dereference(&y);
        // READ_ONCE(*r0): the field of whichever allocation y points at.
        let field = if r0 == Some(xo) { x } else { z };
        r1.set(0, i64::from(r0 == Some(xo)));
        r1.set(1, READ_ONCE(&field));
        rcu_read_unlock();
    });
    p0.join();
    p1.join();
    let (points_at_x, r1) = (r.get(0) == 1, r.get(1));
    let shown = if points_at_x { "x" } else { "z" };
    let values = format!("1:r0={shown} 1:r1={r1}");
    harness::kernel::litmus_exists(MP_ASSIGN_DEREF.exists, values, points_at_x && r1 == 0);
    kfree(xo);
    kfree(zo);
}

/// `MP+polocks`: the flag's store and load under a lock, which stands in
/// for release and acquire.
pub const MP_LOCKS: Litmus = test(
    "MP+polocks",
    "message passing with the flag accessed under a spinlock",
    Lkmm::Never,
    "1:r0=1 /\\ 1:r1=0",
    mp_locks,
);

fn mp_locks() {
    let (x, y) = (int("x"), int("y"));
    let mylock = Spinlock::new("mylock", None);
    let r = Regs::default();
    let p0 = spawn_task("P0", move || {
        WRITE_ONCE(&x, 1);
        spin_lock(&mylock);
        WRITE_ONCE(&y, 1);
        spin_unlock(&mylock);
    });
    let r1 = r.clone();
    let p1 = spawn_task("P1", move || {
        spin_lock(&mylock);
        r1.set(0, READ_ONCE(&y));
        spin_unlock(&mylock);
        r1.set(1, READ_ONCE(&x));
    });
    p0.join();
    p1.join();
    check_mp(MP_LOCKS.exists, "1", &r);
}

/// `MP+porevlocks`: the data's store and load under a lock instead.
pub const MP_REVLOCKS: Litmus = test(
    "MP+porevlocks",
    "message passing with the data accessed under a spinlock",
    Lkmm::Never,
    "0:r0=1 /\\ 0:r1=0",
    mp_revlocks,
);

fn mp_revlocks() {
    let (x, y) = (int("x"), int("y"));
    let mylock = Spinlock::new("mylock", None);
    let r = Regs::default();
    let r0 = r.clone();
    let p0 = spawn_task("P0", move || {
        r0.set(0, READ_ONCE(&y));
        spin_lock(&mylock);
        r0.set(1, READ_ONCE(&x));
        spin_unlock(&mylock);
    });
    let p1 = spawn_task("P1", move || {
        spin_lock(&mylock);
        WRITE_ONCE(&x, 1);
        spin_unlock(&mylock);
        WRITE_ONCE(&y, 1);
    });
    p0.join();
    p1.join();
    check_mp(MP_REVLOCKS.exists, "0", &r);
}

/// `MP+unlocklockonceonce+fencermbonceonce`: two critical sections of
/// different locks on one CPU; stores in the first propagate before stores
/// in the second.
pub const MP_UNLOCKLOCK_RMB: Litmus = test(
    "MP+unlocklockonceonce+fencermbonceonce",
    "stores in consecutive critical sections of different locks, read with smp_rmb()",
    Lkmm::Never,
    "1:r1=1 /\\ 1:r2=0",
    mp_unlocklock_rmb,
);

fn mp_unlocklock_rmb() {
    let (x, y) = (int("x"), int("y"));
    let s = Spinlock::new("s", None);
    let t = Spinlock::new("t", None);
    let r = Regs::default();
    let p0 = spawn_task("P0", move || {
        spin_lock(&s);
        WRITE_ONCE(&x, 1);
        spin_unlock(&s);
        spin_lock(&t);
        WRITE_ONCE(&y, 1);
        spin_unlock(&t);
    });
    let r1 = r.clone();
    let p1 = spawn_task("P1", move || {
        r1.set(0, READ_ONCE(&y));
        smp_rmb();
        r1.set(1, READ_ONCE(&x));
    });
    p0.join();
    p1.join();
    let (r1, r2) = (r.get(0), r.get(1));
    exists(
        MP_UNLOCKLOCK_RMB.exists,
        &[("1:r1", r1), ("1:r2", r2)],
        r1 == 1 && r2 == 0,
    );
}

/// The MP clause `P:r0=1 /\ P:r1=0` on process `p`'s registers.
#[track_caller]
fn check_mp(clause: &str, p: &str, r: &Regs) {
    let (r0, r1) = (r.get(0), r.get(1));
    let (n0, n1) = (format!("{p}:r0"), format!("{p}:r1"));
    exists(clause, &[(&n0, r0), (&n1, r1)], r0 == 1 && r1 == 0);
}
