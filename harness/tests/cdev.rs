//! The character-device lifetime (fs/char_dev.c, fs/file_table.c): what an
//! open file keeps alive, on both backends.

use std::sync::Arc;
use unplug_harness::engine::{
    explore, Budget, ExecConfig, Explorer, RunConfig, RunStats, ScenarioFn, StopPolicy,
};
use unplug_harness::exhaustive::{explore_exhaustive, ExhaustiveConfig};
use unplug_harness::finding::{Detail, Finding, FindingKind};
use unplug_harness::kernel::*;

fn shuttle(scenario: &ScenarioFn) -> RunStats {
    let cfg = RunConfig {
        explorer: Explorer::Portfolio,
        seed: 3,
        budget: Budget {
            iterations: Some(2_000),
            time: None,
        },
        exec: ExecConfig::default(),
        stop: StopPolicy::Never,
        shard: (0, 1),
    };
    explore(scenario, &cfg, None).expect("the scenario never panics")
}

/// The verdict and the fatal finding (if any) of each backend.
fn both(scenario: &ScenarioFn) -> [(Option<FindingKind>, Option<Finding>); 2] {
    let stats = shuttle(scenario);
    let sc_finding = stats
        .distinct
        .iter()
        .flat_map(|(_, r)| r.findings.iter())
        .find(|f| f.kind.is_fatal())
        .cloned();
    let loom = explore_exhaustive(scenario, &ExhaustiveConfig::default())
        .expect("the scenario runs under loom");
    let loom_finding = loom
        .fatal
        .as_ref()
        .and_then(|r| r.findings.first())
        .cloned();
    [
        (stats.verdict(), sc_finding),
        (loom.verdict(), loom_finding),
    ]
}

/// `struct memdev { struct device dev; struct cdev cdev; }`, freed by the
/// device's release. A user opens the device node and keeps the file open
/// while removal deletes the cdev and device and drops the probe's
/// reference; then the file touches the memdev (an ioctl finding it through
/// `i_cdev`) and is closed. The driver's `open` takes no device reference.
fn open_across_removal(with_parent: bool) -> ScenarioFn {
    Arc::new(move || {
        let devt = alloc_chrdev_region("mem0");
        let memdev = kzalloc("memdev");
        let dev = device_initialize("mem0", memdev, move || kfree(memdev));
        dev.set_devt(&devt);
        let cdev = Cdev::new("mem0.cdev", memdev);
        if with_parent {
            cdev_device_add(&cdev, &dev);
        } else {
            cdev_add(&cdev, &devt);
            device_add(&dev);
        }
        let inode = Inode::new("/dev/mem0", &devt);
        let opened = Completion::new("opened", None);
        let removed = Completion::new("removed", None);
        let user = spawn_task("user", move || {
            let file = chrdev_open(&inode, 0, 0, |_| Ok(()));
            complete(&opened);
            wait_for_completion(&removed);
            if let Ok(file) = file {
                memdev.read();
                __fput(file, |_| {});
            }
        });
        let remove = spawn_task("remove", move || {
            wait_for_completion(&opened);
            if with_parent {
                cdev_device_del(&cdev, &dev);
            } else {
                cdev_del(&cdev);
                device_del(&dev);
            }
            put_device(&dev);
            complete(&removed);
        });
        user.join();
        remove.join();
    })
}

#[test]
fn with_cdev_device_add_an_open_file_keeps_the_device_alive_past_removal() {
    for (backend, (verdict, finding)) in ["shuttle", "loom"]
        .into_iter()
        .zip(both(&open_across_removal(true)))
    {
        assert_eq!(
            verdict,
            None,
            "{backend}: {:?}",
            finding.map(|f| f.headline())
        );
    }
}

#[test]
fn with_a_bare_cdev_add_removal_frees_the_device_under_an_open_file() {
    for (backend, (verdict, finding)) in ["shuttle", "loom"]
        .into_iter()
        .zip(both(&open_across_removal(false)))
    {
        assert_eq!(verdict, Some(FindingKind::UseAfterRemoval), "{backend}");
        let finding = finding.expect("a verdict comes with its finding");
        let Detail::UseAfterRemoval {
            object,
            access,
            free,
            ..
        } = &finding.detail
        else {
            panic!("{backend}: {}", finding.headline());
        };
        assert_eq!(object, "memdev", "{backend}");
        assert_eq!(access.task, "user", "{backend}");
        // The probe's put_device() was the last reference.
        assert_eq!(free.task, "remove", "{backend}");
    }
}

/// `chrdev_open()` through the inode's cached `i_cdev` succeeds after
/// `cdev_del()` while another file holds the cdev; once the last file is
/// closed the cache is purged and the unmapped number gives `-ENXIO`, even
/// after the memory embedding the cdev is freed.
fn reopen_after_del() -> ScenarioFn {
    Arc::new(|| {
        let devt = alloc_chrdev_region("mem0");
        let memdev = kzalloc("memdev");
        let dev = device_initialize("mem0", memdev, move || kfree(memdev));
        dev.set_devt(&devt);
        let cdev = Cdev::new("mem0.cdev", memdev);
        cdev_device_add(&cdev, &dev);
        let inode = Inode::new("/dev/mem0", &devt);
        let first = chrdev_open(&inode, 0, 0, |_| Ok(())).expect("a mapped cdev opens");
        cdev_device_del(&cdev, &dev);
        put_device(&dev);
        assert!(!device_is_registered(&dev));
        let second = chrdev_open(&inode, 0, 0, |_| Ok(())).expect("the cached cdev still opens");
        __fput(first, |_| {});
        __fput(second, |_| {});
        assert!(inode.i_cdev().is_none(), "cdev_purge() cleared i_cdev");
        // The last cdev_put() dropped the parent: the memdev is freed, and
        // the open fails in cdev_map without touching it.
        assert_eq!(chrdev_open(&inode, 0, 0, |_| Ok(())).err(), Some(-ENXIO));
    })
}

#[test]
fn a_cached_inode_reopens_a_deleted_cdev_until_its_last_file_closes() {
    for (backend, (verdict, finding)) in ["shuttle", "loom"]
        .into_iter()
        .zip(both(&reopen_after_del()))
    {
        assert_eq!(
            verdict,
            None,
            "{backend}: {:?}",
            finding.map(|f| f.headline())
        );
    }
}

#[test]
fn a_failed_driver_open_drops_the_cdev_reference() {
    let s: ScenarioFn = Arc::new(|| {
        let devt = alloc_chrdev_region("mem0");
        let memdev = kzalloc("memdev");
        let dev = device_initialize("mem0", memdev, move || kfree(memdev));
        dev.set_devt(&devt);
        let cdev = Cdev::new("mem0.cdev", memdev);
        cdev_device_add(&cdev, &dev);
        let inode = Inode::new("/dev/mem0", &devt);
        assert_eq!(
            chrdev_open(&inode, 0, 0, |_| Err(-ENXIO)).err(),
            Some(-ENXIO)
        );
        cdev_device_del(&cdev, &dev);
        // Had the failed open kept its reference, the memdev would leak.
        put_device(&dev);
    });
    for (backend, (verdict, finding)) in ["shuttle", "loom"].into_iter().zip(both(&s)) {
        assert_eq!(
            verdict,
            None,
            "{backend}: {:?}",
            finding.map(|f| f.headline())
        );
    }
}

/// `refcount_inc()` on zero: "refcount_t: addition on 0; use-after-free".
#[test]
fn kref_get_on_a_zero_count_is_a_use_after_free() {
    let s: ScenarioFn = Arc::new(|| {
        let k = Kref::new("obj.kref", None);
        let put = spawn_task("put", move || {
            kref_put(&k, || {});
        });
        put.join();
        let get = spawn_task("get", move || kref_get(&k));
        get.join();
    });
    for (backend, (verdict, finding)) in ["shuttle", "loom"].into_iter().zip(both(&s)) {
        assert_eq!(verdict, Some(FindingKind::UseAfterRemoval), "{backend}");
        let finding = finding.expect("a verdict comes with its finding");
        let Detail::UseAfterRemoval {
            object,
            access,
            free,
            ..
        } = &finding.detail
        else {
            panic!("{backend}: {}", finding.headline());
        };
        assert!(object.contains("addition on 0"), "{backend}: {object}");
        assert_eq!((access.task.as_str(), free.task.as_str()), ("get", "put"));
    }
}
