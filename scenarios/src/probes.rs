//! Probes: small scenarios, outside the zoo, whose verdict pins down one
//! rule of the model — of the data-race detector (a plain access racing a
//! marked one, a free racing a read, …), of lockdep's held-lock checks (a
//! file operation returning with a lock held) and of KASAN's double-free.
//! They run under every command that takes a scheme name; `all` does not
//! include them.
//!
//! The rule is the kernel's (tools/memory-model/Documentation/explanation.txt,
//! "PLAIN ACCESSES AND DATA RACES"; KCSAN reports the same pairs): two
//! accesses to one location, at least one a write and at least one plain,
//! race unless one happens-before the other. A `READ_ONCE()` of a flag that
//! a `WRITE_ONCE()` set orders nothing; an `smp_load_acquire()` reading an
//! `smp_store_release()` does.

use crate::memdev_file_ops;
use crate::schemes::memdev::Memdev;
use crate::schemes::{Body, Expected, Scheme, DEFAULT_WORKLOAD};
use crate::workload::{Driver, Probe, Workload};
use harness::finding::FindingKind;
use harness::kernel::{
    cdev_device_del, cpu_relax, down_read, down_write, kfree, kzalloc, smp_load_acquire,
    smp_store_release, spawn_task, up_read, up_write, File, Plain, RwSemaphore, ENXIO, READ_ONCE,
    WRITE_ONCE,
};

const RACE: Expected = Expected {
    sc: Some(FindingKind::DataRace),
    c11: Some(FindingKind::DataRace),
    object: None,
    site: None,
    also: None,
};

const CLEAN: Expected = Expected {
    sc: None,
    c11: None,
    object: None,
    site: None,
    also: None,
};

/// A self-contained probe with the same expected verdict on both models.
const fn probe(
    name: &'static str,
    summary: &'static str,
    expected: Expected,
    body: fn(),
) -> Scheme {
    Scheme {
        name,
        summary,
        expected,
        default_workload: DEFAULT_WORKLOAD,
        body: Body::Scenario(body),
        loom_bound: None,
    }
}

/// A memdev driver probe with the same expected verdict on both models.
const fn driver_probe(
    name: &'static str,
    summary: &'static str,
    kind: FindingKind,
    probe: fn(&Workload) -> Probe,
) -> Scheme {
    Scheme {
        name,
        summary,
        expected: Expected {
            sc: Some(kind),
            c11: Some(kind),
            object: None,
            site: None,
            also: None,
        },
        default_workload: DEFAULT_WORKLOAD,
        body: Body::Driver(probe),
        loom_bound: None,
    }
}

/// Every probe.
pub static ALL: &[Scheme] = &[
    driver_probe(
        "probe-ioctl-returns-holding-read-lock",
        "ioctl returns -EBUSY between down_read() and up_read(); removal's down_write() waits forever",
        FindingKind::Deadlock,
        ReadLockLeak::probe_busy,
    ),
    driver_probe(
        "probe-ioctl-leaks-read-lock-on-enxio",
        "ioctl returns -ENXIO on a NULL pointer without up_read(): a lock held when returning to user space",
        FindingKind::LockHeldAtExit,
        ReadLockLeak::probe_enxio,
    ),
    driver_probe(
        "probe-kfree-devm-data",
        "removal kfree()s the devm-allocated driver data, which devres frees again",
        FindingKind::DoubleFree,
        KfreeDevm::probe,
    ),
    probe(
        "probe-marked-write-keeps-read",
        "READ_ONCE(x); WRITE_ONCE(ready, 1) || READ_ONCE(ready); WRITE_ONCE(x, 1); x = 2",
        RACE,
        marked_write_keeps_read,
    ),
    probe(
        "probe-marked-read-keeps-plain-read",
        "r = x; READ_ONCE(x); WRITE_ONCE(ready, 1) || READ_ONCE(ready); WRITE_ONCE(x, 1)",
        RACE,
        marked_read_keeps_plain_read,
    ),
    probe(
        "probe-read-then-free",
        "read *obj; WRITE_ONCE(done, 1) || READ_ONCE(done); kfree(obj)",
        RACE,
        read_then_free,
    ),
    probe(
        "probe-release-acquire-free",
        "read *obj; smp_store_release(&done, 1) || smp_load_acquire(&done); kfree(obj)",
        CLEAN,
        release_acquire_free,
    ),
    probe(
        "probe-release-acquire-write",
        "READ_ONCE(x); smp_store_release(&ready, 1) || smp_load_acquire(&ready); WRITE_ONCE(x, 1); x = 2",
        CLEAN,
        release_acquire_write,
    ),
];

/// Spin until `flag` is set, with a marked relaxed load: the loop ends in
/// an order, but no happens-before.
#[track_caller]
fn spin_once(flag: &Plain<i64>) {
    while READ_ONCE(flag) == 0 {
        cpu_relax();
    }
}

/// Spin until `flag` is set, with an acquire load.
#[track_caller]
fn spin_acquire(flag: &Plain<i64>) {
    while smp_load_acquire(flag) == 0 {
        cpu_relax();
    }
}

/// Run `a` and `b` as two tasks on a fresh `x` and `ready`.
fn two_tasks(a: fn(&Plain<i64>, &Plain<i64>), b: fn(&Plain<i64>, &Plain<i64>)) {
    let x = Plain::new("x", None, 0i64);
    let ready = Plain::new("ready", None, 0i64);
    let ta = spawn_task("a", move || a(&x, &ready));
    let tb = spawn_task("b", move || b(&x, &ready));
    ta.join();
    tb.join();
}

/// ```c
/// /* CPU0 */                    /* CPU1 */
/// r0 = READ_ONCE(x);            while (!READ_ONCE(ready)) cpu_relax();
/// WRITE_ONCE(ready, 1);         WRITE_ONCE(x, 1);
///                               x = 2;
/// ```
///
/// `x = 2` races with CPU0's `READ_ONCE(x)`: the plain write is unordered
/// with it, and the marked `WRITE_ONCE(x, 1)` in between (which does not race
/// with the marked read) must not hide the read from the check.
fn marked_write_keeps_read() {
    two_tasks(
        |x, ready| {
            READ_ONCE(x);
            WRITE_ONCE(ready, 1);
        },
        |x, ready| {
            spin_once(ready);
            WRITE_ONCE(x, 1);
            x.write(2);
        },
    );
}

/// ```c
/// /* CPU0 */                    /* CPU1 */
/// r0 = x;                       while (!READ_ONCE(ready)) cpu_relax();
/// r1 = READ_ONCE(x);            WRITE_ONCE(x, 1);
/// WRITE_ONCE(ready, 1);
/// ```
///
/// `WRITE_ONCE(x, 1)` races with the plain `r0 = x`; CPU0's later marked
/// read of `x` does not replace the plain one in the history.
fn marked_read_keeps_plain_read() {
    two_tasks(
        |x, ready| {
            x.read();
            READ_ONCE(x);
            WRITE_ONCE(ready, 1);
        },
        |x, ready| {
            spin_once(ready);
            WRITE_ONCE(x, 1);
        },
    );
}

/// Run the publish-then-free pattern on a fresh object, with `publish` and
/// `wait` as the flag's accessors.
fn publish_then_free(publish: fn(&Plain<i64>), wait: fn(&Plain<i64>)) {
    let obj = kzalloc("obj");
    let done = Plain::new("done", None, 0i64);
    let user = spawn_task("user", move || {
        obj.read();
        publish(&done);
    });
    let remove = spawn_task("remove", move || {
        wait(&done);
        kfree(obj);
    });
    user.join();
    remove.join();
}

/// ```c
/// /* CPU0 */                    /* CPU1 */
/// r0 = obj->data;               while (!READ_ONCE(done)) cpu_relax();
/// WRITE_ONCE(done, 1);          kfree(obj);
/// ```
///
/// The free comes after the read in every execution (so it is no
/// use-after-free), but nothing orders the read before it: `kfree()` is a
/// plain write of the whole object, and the two race. On a weakly ordered
/// CPU the read may be satisfied after the memory was reused.
fn read_then_free() {
    publish_then_free(|done| WRITE_ONCE(done, 1), spin_once);
}

/// [`read_then_free`] with `smp_store_release()` / `smp_load_acquire()`:
/// the read happens-before the free. No race.
fn release_acquire_free() {
    publish_then_free(|done| smp_store_release(done, 1), spin_acquire);
}

/// [`marked_write_keeps_read`] with `smp_store_release()` /
/// `smp_load_acquire()` on `ready`: the read happens-before both writes.
/// No race.
fn release_acquire_write() {
    two_tasks(
        |x, ready| {
            READ_ONCE(x);
            smp_store_release(ready, 1);
        },
        |x, ready| {
            spin_acquire(ready);
            WRITE_ONCE(x, 1);
            x.write(2);
        },
    );
}

/// The merged fix's locking with an early return that skips `up_read()`:
///
/// ```c
/// down_read(&cxl_memdev_rwsem);
/// cxlm = cxlmd->cxlm;
/// if (!cxlm)
///         return -ENXIO;                  /* probe-ioctl-leaks-read-lock-on-enxio */
/// if (!cxl_mbox_ready(cxlm))
///         return -EBUSY;                  /* probe-ioctl-returns-holding-read-lock */
/// rc = cxl_send_cmd(cxlm, ...);
/// up_read(&cxl_memdev_rwsem);
/// ```
///
/// With `busy`, every ioctl on a live device leaks the read lock, and a
/// removal that comes later waits in `down_write()` for a reader that has
/// returned to user space: a deadlock whose holder has exited. Without it,
/// only an ioctl that finds the pointer cleared leaks it, after removal
/// is done with the lock: lockdep's warning, and nothing waits.
struct ReadLockLeak {
    md: Memdev,
    rwsem: RwSemaphore,
    busy: bool,
}

impl ReadLockLeak {
    fn probe_busy(wl: &Workload) -> Probe {
        let rwsem = RwSemaphore::new("cxl_memdev_rwsem");
        Memdev::probe_each(wl, move |_, md| ReadLockLeak {
            md,
            rwsem,
            busy: true,
        })
    }

    fn probe_enxio(wl: &Workload) -> Probe {
        let rwsem = RwSemaphore::new("cxl_memdev_rwsem");
        Memdev::probe_each(wl, move |_, md| ReadLockLeak {
            md,
            rwsem,
            busy: false,
        })
    }
}

impl Driver for ReadLockLeak {
    memdev_file_ops!(md);

    fn ioctl(&self, _file: &File, _cmd: u32, _arg: u64) -> i64 {
        down_read(&self.rwsem);
        let Some(cxlm) = self.md.cxlm_ptr.read() else {
            return -ENXIO;
        };
        if self.busy {
            return -16; // -EBUSY
        }
        let rc = Memdev::send_cmd(cxlm);
        up_read(&self.rwsem);
        rc
    }

    fn remove(&self) {
        let md = &self.md;
        md.unbind(|| {
            cdev_device_del(&md.cdev, &md.dev);
            down_write(&self.rwsem);
            md.cxlm_ptr.write(None);
            up_write(&self.rwsem);
        });
    }
}

/// The merged fix, whose removal also `kfree()`s the driver data that
/// `devm_kzalloc()` allocated: `devres_release_all()` frees it again when
/// the driver unbinds, a double free in every execution.
///
/// ```c
/// cdev_device_del(&cxlmd->cdev, &cxlmd->dev);
/// down_write(&cxl_memdev_rwsem);
/// cxlmd->cxlm = NULL;
/// up_write(&cxl_memdev_rwsem);
/// kfree(cxlm);                            /* devm-managed: freed again */
/// ```
struct KfreeDevm {
    md: Memdev,
    rwsem: RwSemaphore,
}

impl KfreeDevm {
    fn probe(wl: &Workload) -> Probe {
        let rwsem = RwSemaphore::new("cxl_memdev_rwsem");
        Memdev::probe_each(wl, move |_, md| KfreeDevm { md, rwsem })
    }
}

impl Driver for KfreeDevm {
    memdev_file_ops!(md);

    fn ioctl(&self, _file: &File, _cmd: u32, _arg: u64) -> i64 {
        down_read(&self.rwsem);
        let rc = Memdev::send_cmd_if(self.md.cxlm_ptr.read());
        up_read(&self.rwsem);
        rc
    }

    fn remove(&self) {
        let md = &self.md;
        md.unbind(|| {
            cdev_device_del(&md.cdev, &md.dev);
            down_write(&self.rwsem);
            md.cxlm_ptr.write(None);
            up_write(&self.rwsem);
            kfree(md.cxlm);
        });
    }
}
