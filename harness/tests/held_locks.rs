//! lockdep's held-lock checks and KASAN's double-free, on both backends: a
//! lock (or SRCU/RCU read-side section) still held when a task returns to
//! user space or exits is a `lock-held-at-exit` finding naming where it was
//! taken; a deadlock names the task holding each lock waited on, where it
//! took it, and where it returned if it leaked it; a second free, or a put
//! past zero, is a `double-free` naming both frees.

use std::sync::Arc;
use unplug_harness::engine::{
    explore, Budget, ExecConfig, Explorer, RunConfig, RunStats, ScenarioFn, StopPolicy,
};
use unplug_harness::exhaustive::{explore_exhaustive, ExhaustiveConfig};
use unplug_harness::finding::{Detail, Finding, FindingKind};
use unplug_harness::kernel::*;
use unplug_harness::report::{render, Detailing, Header};

fn shuttle(scenario: &ScenarioFn, seed: u64) -> RunStats {
    let cfg = RunConfig {
        explorer: Explorer::Portfolio,
        seed,
        budget: Budget {
            iterations: Some(500),
            time: None,
        },
        exec: ExecConfig::default(),
        stop: StopPolicy::Never,
        shard: (0, 1),
    };
    explore(scenario, &cfg, None).expect("the scenario never panics")
}

/// The verdict and the first finding of kind `kind` under shuttle (over ten
/// seeds, all of which must agree) and under loom.
fn both(scenario: &ScenarioFn, kind: FindingKind) -> (Option<FindingKind>, Vec<Finding>) {
    let mut found = Vec::new();
    let mut verdict = None;
    for seed in 1..=10 {
        let stats = shuttle(scenario, seed);
        let v = stats.verdict();
        if seed > 1 {
            assert_eq!(v, verdict, "seed {seed} disagrees");
        }
        verdict = v;
        if let Some(f) = stats
            .distinct
            .iter()
            .flat_map(|(_, r)| r.findings.iter())
            .find(|f| f.kind == kind)
        {
            found.push(f.clone());
        }
    }
    let run = explore_exhaustive(scenario, &ExhaustiveConfig::default()).expect("loom runs it");
    assert_eq!(run.verdict(), verdict, "loom agrees with shuttle");
    let loom = run
        .fatal
        .iter()
        .chain(run.races.iter())
        .flat_map(|r| r.findings.iter())
        .find(|f| f.kind == kind)
        .cloned();
    found.extend(loom);
    (verdict, found)
}

/// One task runs `body` (which takes a lock and returns), init joins it.
fn leaker(body: fn()) -> ScenarioFn {
    Arc::new(move || spawn_task("leaker", body).join())
}

fn site(line: u32) -> String {
    format!("held_locks.rs:{line}")
}

/// The line of this file carrying the comment `// @marker` (rustfmt moves
/// lines; the markers move with them).
fn line_of(marker: &str) -> u32 {
    let tag = format!("// @{marker}");
    let lines: Vec<usize> = include_str!("held_locks.rs")
        .lines()
        .enumerate()
        .filter(|(_, l)| l.trim_end().ends_with(&tag))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(lines.len(), 1, "one line marked {tag}");
    lines[0] as u32
}

/// Each primitive's acquisition, leaked by a task that exits: reported on
/// both backends, at the line that took it.
#[test]
fn every_lock_kind_held_at_task_exit_is_reported_on_both_backends() {
    let cases: [(fn(), &str, &str); 6] = [
        (
            || down_read(&RwSemaphore::new("sem")), // @exit-down-read
            "down_read(&sem)",
            "exit-down-read",
        ),
        (
            || down_write(&RwSemaphore::new("sem")), // @exit-down-write
            "down_write(&sem)",
            "exit-down-write",
        ),
        (
            || mutex_lock(&Mutex::new("m", None)), // @exit-mutex
            "mutex_lock(&m)",
            "exit-mutex",
        ),
        (
            || spin_lock(&Spinlock::new("l", None)), // @exit-spin
            "spin_lock(&l)",
            "exit-spin",
        ),
        (
            || {
                srcu_read_lock(&SrcuStruct::new("ss")); // @exit-srcu
            },
            "srcu_read_lock(&ss)",
            "exit-srcu",
        ),
        (rcu_read_lock, "rcu_read_lock()", ""),
    ];
    for (body, op, line) in cases {
        let (verdict, found) = both(&leaker(body), FindingKind::LockHeldAtExit);
        assert_eq!(verdict, Some(FindingKind::LockHeldAtExit), "{op}");
        assert_eq!(found.len(), 11, "{op}: every seed and loom report it");
        for f in &found {
            let Detail::LockHeldAtExit {
                task,
                context,
                held,
                ..
            } = &f.detail
            else {
                panic!("{op}: {}", f.headline())
            };
            assert_eq!(task, "leaker");
            assert_eq!(context, "exited");
            assert_eq!(held.len(), 1, "{op}");
            assert!(held[0].op.starts_with(op), "{op}: {}", held[0].op);
            if !line.is_empty() {
                assert_eq!(held[0].site, site(line_of(line)), "{op}");
            }
        }
    }
}

/// Balanced lock/unlock pairs, nested and interleaved with another task:
/// nothing is held at exit.
#[test]
fn released_locks_are_not_reported() {
    let scenario: ScenarioFn = Arc::new(|| {
        let sem = RwSemaphore::new("sem");
        let m = Mutex::new("m", None);
        let ss = SrcuStruct::new("ss");
        let a = spawn_task("a", move || {
            down_read(&sem);
            let idx = srcu_read_lock(&ss);
            rcu_read_lock();
            rcu_read_lock();
            rcu_read_unlock();
            rcu_read_unlock();
            srcu_read_unlock(&ss, idx);
            up_read(&sem);
            mutex_lock(&m);
            mutex_unlock(&m);
            lockdep_sys_exit("ioctl");
        });
        let b = spawn_task("b", move || {
            down_write(&sem);
            up_write(&sem);
            mutex_lock(&m);
            mutex_unlock(&m);
        });
        a.join();
        b.join();
    });
    let (verdict, _) = both(&scenario, FindingKind::LockHeldAtExit);
    assert_eq!(verdict, None);
}

/// `lockdep_sys_exit()` reports the lock at the return from the system call
/// that leaked it — naming the call's last step — and not again when the
/// task exits.
#[test]
fn a_lock_leaked_by_a_system_call_is_reported_at_its_return_once() {
    let scenario: ScenarioFn = Arc::new(|| {
        let sem = RwSemaphore::new("sem");
        let flag = Plain::new("flag", None, 0i64);
        spawn_task("user", move || {
            down_read(&sem); // @sys-take
            let busy = READ_ONCE(&flag) == 0; // @sys-last
            if busy {
                return lockdep_sys_exit("ioctl");
            }
            up_read(&sem);
        })
        .join();
    });
    let stats = shuttle(&scenario, 3);
    let record = &stats.distinct[0].1;
    let held: Vec<&Finding> = record
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::LockHeldAtExit)
        .collect();
    assert_eq!(held.len(), 1, "one report per leaked lock");
    let Detail::LockHeldAtExit {
        context,
        held,
        last,
        ..
    } = &held[0].detail
    else {
        panic!("not a held lock")
    };
    assert!(
        context.starts_with("returned to user space from ioctl at held_locks.rs:"),
        "{context}"
    );
    assert_eq!(held[0].site, site(line_of("sys-take")));
    let last = last.as_ref().expect("the call's last step");
    assert_eq!(last.site, site(line_of("sys-last")));
    assert!(last.op.contains("READ_ONCE(flag)"), "{}", last.op);
}

/// A task takes the read lock and returns; a writer then waits for it
/// forever. The deadlock names the holder, where it took the lock, and
/// where it returned with it — on both backends.
#[test]
fn a_deadlock_names_a_holder_that_exited_and_where_it_returned() {
    let scenario: ScenarioFn = Arc::new(|| {
        let sem = RwSemaphore::new("sem");
        let reader = spawn_task("reader", move || {
            down_read(&sem); // @exited-take
            cond_resched(); // @exited-last
        });
        reader.join();
        let writer = spawn_task("writer", move || {
            down_write(&sem);
            up_write(&sem);
        });
        writer.join();
    });
    let taken = line_of("exited-take");
    let (verdict, found) = both(&scenario, FindingKind::Deadlock);
    assert_eq!(verdict, Some(FindingKind::Deadlock));
    assert_eq!(found.len(), 11);
    for f in &found {
        let Detail::Deadlock { waits, holders } = &f.detail else {
            panic!("not a deadlock")
        };
        assert_eq!(waits.len(), 1);
        assert_eq!(waits[0].0, "writer");
        assert_eq!(holders.len(), 1, "{holders:?}");
        let h = &holders[0];
        assert_eq!(h.lock, "sem");
        assert_eq!(h.acquired.task, "reader");
        assert_eq!(h.acquired.site, site(taken));
        let exited = h.exited.as_ref().expect("the holder exited");
        assert_eq!(exited.site, site(line_of("exited-last")), "its last step");
    }
    // The report says so, in the summary and on the diagram.
    let stats = shuttle(&scenario, 1);
    let (_, record) = stats
        .distinct
        .iter()
        .find(|(_, r)| r.findings.iter().any(|f| f.kind == FindingKind::Deadlock))
        .expect("a deadlock");
    let finding = record
        .findings
        .iter()
        .find(|f| f.kind == FindingKind::Deadlock)
        .expect("a deadlock");
    let text = render(&header(), record, finding, Detailing::Full);
    assert!(
        text.contains(&format!(
            "sem by task reader: down_read(&sem) at {}",
            site(taken)
        )),
        "{text}"
    );
    assert!(
        text.contains("task reader returned without releasing it after cond_resched()"),
        "{text}"
    );
    assert!(text.contains("<-- never released"), "{text}");
    assert!(text.contains("<-- returned"), "{text}");
}

/// A hang — a task holding a read lock polls a flag nobody will set, while
/// another blocks for the write lock — names for the blocked task the lock,
/// who holds it and where that holder took it, on both backends.
#[test]
fn a_hang_names_the_lock_a_blocked_task_waits_on_and_its_holder() {
    let scenario: ScenarioFn = Arc::new(|| {
        let sem = RwSemaphore::new("sem");
        let taken = Plain::new("taken", None, false);
        let stop = Plain::new("stop", None, false);
        let reader = spawn_task("reader", move || {
            down_read(&sem); // @hang-take
            WRITE_ONCE(&taken, true);
            while !READ_ONCE(&stop) {
                cpu_relax();
            }
            up_read(&sem);
        });
        let writer = spawn_task("writer", move || {
            while !READ_ONCE(&taken) {
                cpu_relax();
            }
            down_write(&sem);
            up_write(&sem);
        });
        reader.join();
        writer.join();
    });
    let (verdict, found) = both(&scenario, FindingKind::Hang);
    assert_eq!(verdict, Some(FindingKind::Hang));
    assert_eq!(found.len(), 11);
    let want = format!(
        "waits in down_write(&sem) held for read by reader (acquired at {})",
        site(line_of("hang-take"))
    );
    for f in &found {
        let Detail::Hang { live, .. } = &f.detail else {
            panic!("not a hang")
        };
        let writer = live
            .iter()
            .find(|(t, _)| t == "writer")
            .expect("writer live");
        assert_eq!(writer.1, want, "{live:?}");
        let reader = live
            .iter()
            .find(|(t, _)| t == "reader")
            .expect("reader live");
        // Shuttle parks a poller in `cpu_relax()`; loom runs it until its
        // branch budget ends.
        assert!(reader.1.contains("cpu_relax"), "{live:?}");
    }
    let stats = shuttle(&scenario, 1);
    let (_, record) = stats
        .distinct
        .iter()
        .find(|(_, r)| r.findings.iter().any(|f| f.kind == FindingKind::Hang))
        .expect("a hang");
    let finding = record
        .findings
        .iter()
        .find(|f| f.kind == FindingKind::Hang)
        .expect("a hang");
    let text = render(&header(), record, finding, Detailing::Full);
    assert!(text.contains(&format!("  task writer {want}")), "{text}");
    assert!(
        !text.contains("workload:"),
        "no workload in the header: {text}"
    );
}

/// A deadlock between two live tasks (ABBA) names each lock's holder and
/// the site it took it at.
#[test]
fn an_abba_deadlock_names_both_holders() {
    let scenario: ScenarioFn = Arc::new(|| {
        let a = Mutex::new("a", None);
        let b = Mutex::new("b", None);
        let t1 = spawn_task("t1", move || {
            mutex_lock(&a); // @abba-t1-a
            mutex_lock(&b);
            mutex_unlock(&b);
            mutex_unlock(&a);
        });
        let t2 = spawn_task("t2", move || {
            mutex_lock(&b); // @abba-t2-b
            mutex_lock(&a);
            mutex_unlock(&a);
            mutex_unlock(&b);
        });
        t1.join();
        t2.join();
    });
    let t1_a = line_of("abba-t1-a");
    let t2_b = line_of("abba-t2-b");
    let (verdict, found) = both(&scenario, FindingKind::Deadlock);
    assert_eq!(verdict, Some(FindingKind::Deadlock));
    assert!(!found.is_empty());
    for f in &found {
        let Detail::Deadlock { holders, .. } = &f.detail else {
            panic!("not a deadlock")
        };
        let mut got: Vec<(String, String, String)> = holders
            .iter()
            .map(|h| {
                assert!(h.exited.is_none(), "both holders are live");
                (
                    h.lock.clone(),
                    h.acquired.task.clone(),
                    h.acquired.site.clone(),
                )
            })
            .collect();
        got.sort();
        assert_eq!(
            got,
            vec![
                ("a".to_string(), "t1".to_string(), site(t1_a)),
                ("b".to_string(), "t2".to_string(), site(t2_b)),
            ]
        );
    }
}

fn header() -> Header {
    Header {
        scheme: "test".into(),
        workload: String::new(),
        replay: String::new(),
        model: String::new(),
    }
}

/// `kfree()` twice: a double free naming both frees, on both backends, in
/// KASAN's words.
#[test]
fn a_second_kfree_is_a_double_free() {
    let scenario: ScenarioFn = Arc::new(|| {
        let obj = kzalloc("obj"); // @df-alloc
        spawn_task("remove", move || {
            kfree(obj); // @df-first
            kfree(obj); // @df-second
        })
        .join();
    });
    let (first, second) = (line_of("df-first"), line_of("df-second"));
    let (verdict, found) = both(&scenario, FindingKind::DoubleFree);
    assert_eq!(verdict, Some(FindingKind::DoubleFree));
    assert_eq!(found.len(), 11);
    for f in &found {
        let Detail::DoubleFree {
            object,
            free,
            first_free,
            alloc,
        } = &f.detail
        else {
            panic!("not a double free")
        };
        assert_eq!(object, "obj");
        assert_eq!(first_free.site, site(first));
        assert_eq!(free.site, site(second));
        assert_eq!(alloc.site, site(line_of("df-alloc")));
    }
    let stats = shuttle(&scenario, 1);
    let record = &stats.distinct[0].1;
    let text = render(&header(), record, &record.findings[0], Detailing::Full);
    assert!(
        text.contains(&format!("BUG: KASAN: double-free in {}", site(second))),
        "{text}"
    );
    assert!(text.contains("<-- first freed here"), "{text}");
}

/// A put after the put that ran the release: the release would run again,
/// a double free of the object the count is embedded in.
#[test]
fn a_put_past_zero_is_a_double_free_of_the_owner() {
    let scenario: ScenarioFn = Arc::new(|| {
        let obj = kzalloc("obj");
        let kref = Kref::new("obj.kref", Some(obj));
        spawn_task("user", move || {
            kref_put(&kref, || kfree(obj)); // @put-first
            kref_put(&kref, || kfree(obj)); // @put-second
        })
        .join();
    });
    let (first, second) = (line_of("put-first"), line_of("put-second"));
    let (verdict, found) = both(&scenario, FindingKind::DoubleFree);
    assert_eq!(verdict, Some(FindingKind::DoubleFree));
    for f in &found {
        let Detail::DoubleFree {
            object,
            free,
            first_free,
            ..
        } = &f.detail
        else {
            panic!("not a double free")
        };
        assert_eq!(object, "obj");
        assert!(free.op.starts_with("kref_put"), "{}", free.op);
        assert_eq!(free.site, site(second));
        assert!(first_free.op.starts_with("kfree"), "{}", first_free.op);
        assert_eq!(first_free.site, site(first));
    }
}

/// A use of the object after its last put is still a use-after-removal,
/// not a double free.
#[test]
fn a_read_after_the_last_put_stays_a_use_after_removal() {
    let scenario: ScenarioFn = Arc::new(|| {
        let obj = kzalloc("obj");
        let kref = Kref::new("obj.kref", Some(obj));
        spawn_task("user", move || {
            kref_put(&kref, || kfree(obj));
            obj.read();
        })
        .join();
    });
    let (verdict, _) = both(&scenario, FindingKind::UseAfterRemoval);
    assert_eq!(verdict, Some(FindingKind::UseAfterRemoval));
}
