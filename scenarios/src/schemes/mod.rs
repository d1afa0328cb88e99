//! The scheme zoo: one file per candidate synchronisation scheme.
//!
//! Every scheme declares the verdict it is expected to get under each
//! memory model. The verdict is the most severe finding kind exploration
//! reaches ([`harness::engine::severity`]); `None` means clean.

use crate::workload::{Probe, Workload};
use harness::finding::FindingKind;
use std::sync::Arc;

pub mod memdev;

mod bare_cdev_open_devref;
mod bool_then_lock_cycle;
mod check_outside_lock;
mod counter_flag_mb;
mod counter_flag_no_barrier;
mod flag_under_write_lock;
mod lock_cycle_before_clear;
mod nested_down_read;
mod open_unchecked;
mod percpu_ref_bare_cdev;
mod percpu_ref_no_devref;
mod srcu_no_synchronize;
mod srcu_once_flag;
mod srcu_plain_flag;
mod srcu_pointer;
mod srcu_single_drain;
mod synchronize_before_clear;
mod synchronize_under_mutex;
mod unsynchronized;

/// What a scheme is expected to get, per memory model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expected {
    /// Under sequential consistency with happens-before race detection (the
    /// sequentially consistent explorers).
    pub sc: Option<FindingKind>,
    /// Under the C11 memory model (the loom backend).
    pub c11: Option<FindingKind>,
    /// The object the expected finding is about, without its device's
    /// prefix (`cxlm` matches `mem0.cxlm` and `mem1.cxlm`): the freed object
    /// of a use-after-removal, the cell of a data race, a lock a deadlocked
    /// task waits on. `None` accepts any object.
    pub object: Option<&'static str>,
    /// The source file of the bad access, where it matters (`file.rs`, or
    /// `file.rs:LINE`). `None` accepts any site.
    pub site: Option<&'static str>,
    /// Another fatal finding the same race may reach first, accepted as
    /// the verdict under either model (about any object, at any site): a
    /// removal race that crashes in two ways, a NULL followed (an oops,
    /// the model's assertion) or freed memory used, depending on which
    /// load the removal's store lands between. `None`: only the kind above.
    pub also: Option<FindingKind>,
}

impl Expected {
    /// Expect `sc` under sequential consistency and `c11` under the C11
    /// model (`None`: clean), about any object, at any site.
    pub const fn new(sc: Option<FindingKind>, c11: Option<FindingKind>) -> Expected {
        Expected {
            sc,
            c11,
            object: None,
            site: None,
            also: None,
        }
    }

    /// The same expectation, also accepting `kind` as the verdict.
    pub const fn or(self, kind: FindingKind) -> Expected {
        Expected {
            also: Some(kind),
            ..self
        }
    }

    /// The same expectation, about `object`.
    pub const fn on(self, object: &'static str) -> Expected {
        Expected {
            object: Some(object),
            ..self
        }
    }

    /// The same expectation, with the bad access at `site`.
    pub const fn at(self, site: &'static str) -> Expected {
        Expected {
            site: Some(site),
            ..self
        }
    }
}

/// A scheme of the zoo.
#[derive(Clone)]
pub struct Scheme {
    /// The name used on the command line.
    pub name: &'static str,
    /// One line: what the scheme does.
    pub summary: &'static str,
    /// The verdicts it is expected to get.
    pub expected: Expected,
    /// The workload it runs by default (e.g. two devices sharing a domain).
    pub default_workload: Workload,
    /// What the scheme runs.
    pub body: Body,
    /// A documented hint, not a cap: the preemption bound at which the loom
    /// backend, deepening from 1, has reached the expected C11 finding with
    /// the default workload (`None`: by
    /// [`harness::exhaustive::DEFAULT_PREEMPTION_BOUND`]). `verify` and
    /// `compare` deepen regardless; the tests check the hint.
    pub loom_bound: Option<usize>,
}

/// What a scheme runs.
#[derive(Clone, Copy)]
pub enum Body {
    /// A driver model under the character-device workload: probe every
    /// device of the workload (the driver's global state and one
    /// [`crate::workload::Driver`]
    /// per device, each already added with `cdev_device_add`), then users
    /// open, ioctl and release while a removal task removes every device.
    Driver(fn(&Workload) -> Probe),
    /// A self-contained scenario that spawns and joins its own tasks (a
    /// memory-model litmus test, a race-detector probe): the workload knobs
    /// do not apply to it.
    Scenario(fn()),
    /// A driver model built at run time (a kernel-C scheme, see
    /// [`crate::kc`]), under the character-device workload like
    /// [`Body::Driver`].
    Interpreted(&'static (dyn Fn(&Workload) -> Probe + Send + Sync)),
}

impl Scheme {
    /// The scenario body for `workload`.
    pub fn scenario(&self, workload: Workload) -> harness::engine::ScenarioFn {
        match self.body {
            Body::Driver(probe) => crate::workload::scenario(probe, workload),
            Body::Scenario(body) => Arc::new(body),
            Body::Interpreted(probe) => crate::workload::scenario_with(probe, workload),
        }
    }

    /// Whether the workload knobs shape this scheme's execution (false for
    /// self-contained scenarios).
    pub fn uses_workload(&self) -> bool {
        matches!(self.body, Body::Driver(_) | Body::Interpreted(_))
    }

    /// The bound of [`Scheme::loom_bound`]'s hint.
    pub fn loom_bound(&self) -> usize {
        self.loom_bound
            .unwrap_or(harness::exhaustive::DEFAULT_PREEMPTION_BOUND)
    }
}

/// The default workload of most schemes: two users, one ioctl each, one
/// device, opens complete before removal starts.
pub const DEFAULT_WORKLOAD: Workload = Workload::knobs(2, 1, false, 1, 0);

const fn expect(sc: Option<FindingKind>, c11: Option<FindingKind>) -> Expected {
    Expected {
        sc,
        c11,
        object: None,
        site: None,
        also: None,
    }
}

const UAF: Option<FindingKind> = Some(FindingKind::UseAfterRemoval);
const RACE: Option<FindingKind> = Some(FindingKind::DataRace);
const DEADLOCK: Option<FindingKind> = Some(FindingKind::Deadlock);
const CLEAN: Option<FindingKind> = None;

/// Every scheme, in the order of the design's table.
pub static ALL: &[Scheme] = &[
    Scheme {
        name: "unsynchronized",
        summary: "ioctl uses driver data with no liveness check; removal frees it",
        expected: expect(UAF, UAF).on("cxlm"),
        default_workload: DEFAULT_WORKLOAD,
        loom_bound: None,
        body: Body::Driver(unsynchronized::probe),
    },
    Scheme {
        name: "srcu-plain-flag",
        summary: "ioctl tests device_is_registered() (plain bool) under srcu_read_lock; removal synchronize_srcu()",
        expected: expect(RACE, RACE).on("kobj.state_in_sysfs"),
        default_workload: DEFAULT_WORKLOAD,
        loom_bound: None,
        body: Body::Driver(srcu_plain_flag::probe),
    },
    Scheme {
        name: "bool-then-lock-cycle",
        summary: "plain registered flag under down_read; removal cdev_device_del(); down_write(); up_write()",
        expected: expect(RACE, RACE).on("kobj.state_in_sysfs"),
        default_workload: DEFAULT_WORKLOAD,
        loom_bound: None,
        body: Body::Driver(bool_then_lock_cycle::probe),
    },
    Scheme {
        name: "flag-under-write-lock",
        summary: "removal clears cxlmd->cxlm inside down_write(); ioctl tests it under down_read() (the merged fix)",
        expected: expect(CLEAN, CLEAN),
        default_workload: DEFAULT_WORKLOAD,
        loom_bound: None,
        body: Body::Driver(flag_under_write_lock::probe),
    },
    Scheme {
        name: "srcu-pointer",
        summary: "rcu_assign_pointer(p, NULL); synchronize_srcu(); free — ioctl uses srcu_dereference()",
        expected: expect(CLEAN, CLEAN),
        default_workload: DEFAULT_WORKLOAD,
        loom_bound: None,
        body: Body::Driver(srcu_pointer::probe),
    },
    Scheme {
        name: "srcu-once-flag",
        summary: "SRCU with a READ_ONCE/WRITE_ONCE liveness flag",
        expected: expect(CLEAN, CLEAN),
        default_workload: DEFAULT_WORKLOAD,
        loom_bound: None,
        body: Body::Driver(srcu_once_flag::probe),
    },
    Scheme {
        name: "lock-cycle-before-clear",
        summary: "down_write(); up_write(); then clear the pointer and free",
        expected: expect(UAF, UAF).on("cxlm").at("lock_cycle_before_clear.rs"),
        default_workload: DEFAULT_WORKLOAD,
        loom_bound: None,
        body: Body::Driver(lock_cycle_before_clear::probe),
    },
    Scheme {
        name: "srcu-no-synchronize",
        summary: "SRCU readers, but removal frees without synchronize_srcu()",
        expected: expect(UAF, UAF).on("cxlm"),
        default_workload: DEFAULT_WORKLOAD,
        loom_bound: None,
        body: Body::Driver(srcu_no_synchronize::probe),
    },
    Scheme {
        name: "synchronize-before-clear",
        summary: "synchronize_srcu() before rcu_assign_pointer(p, NULL), then free",
        expected: expect(UAF, UAF).on("cxlm"),
        default_workload: DEFAULT_WORKLOAD,
        loom_bound: None,
        body: Body::Driver(synchronize_before_clear::probe),
    },
    Scheme {
        name: "check-outside-lock",
        summary: "TOCTOU: pointer tested with READ_ONCE before down_read()",
        expected: expect(UAF, UAF).on("cxlm").at("check_outside_lock.rs"),
        default_workload: DEFAULT_WORKLOAD,
        loom_bound: None,
        body: Body::Driver(check_outside_lock::probe),
    },
    Scheme {
        name: "srcu-single-drain",
        summary: "broken SRCU that drains only the old index; two devices share the domain, both removed",
        expected: expect(UAF, UAF).on("cxlm"),
        default_workload: Workload::knobs(2, 1, false, 2, 0),
        // The reader must be preempted between loading the index and
        // incrementing its count, and stay stalled across a grace period.
        loom_bound: Some(3),
        body: Body::Driver(srcu_single_drain::probe),
    },
    Scheme {
        name: "nested-down-read",
        summary: "ioctl helper re-takes down_read() while removal's writer is queued",
        expected: expect(DEADLOCK, DEADLOCK).on("cxl_memdev_rwsem"),
        default_workload: DEFAULT_WORKLOAD,
        loom_bound: None,
        body: Body::Driver(nested_down_read::probe),
    },
    Scheme {
        name: "synchronize-under-mutex",
        summary: "removal holds a mutex across synchronize_srcu(); ioctl takes it in its read section",
        expected: expect(DEADLOCK, DEADLOCK).on("cxlm_mbox_mutex"),
        default_workload: DEFAULT_WORKLOAD,
        loom_bound: None,
        body: Body::Driver(synchronize_under_mutex::probe),
    },
    Scheme {
        name: "percpu-ref-no-devref",
        summary: "pre-fix CXL: percpu_ref gate, no driver open(); cdev_device_add() pins the memdev",
        // Clean: the cdev added by cdev_device_add() holds the device for
        // every open file (see the scheme's file).
        expected: expect(CLEAN, CLEAN),
        default_workload: DEFAULT_WORKLOAD,
        loom_bound: None,
        body: Body::Driver(percpu_ref_no_devref::probe),
    },
    Scheme {
        name: "percpu-ref-bare-cdev",
        summary: "the pre-fix percpu_ref gate with a bare cdev_add(): nothing pins the memdev",
        expected: expect(UAF, UAF).on("cxlmd"),
        default_workload: DEFAULT_WORKLOAD,
        loom_bound: None,
        body: Body::Driver(percpu_ref_bare_cdev::probe),
    },
    Scheme {
        name: "bare-cdev-open-devref",
        summary: "the merged fix with a bare cdev_add(): __fput()'s cdev_put() outlives open()'s device reference",
        expected: expect(UAF, UAF).on("cxlmd"),
        default_workload: DEFAULT_WORKLOAD,
        loom_bound: None,
        body: Body::Driver(bare_cdev_open_devref::probe),
    },
    Scheme {
        name: "open-unchecked",
        summary: "the merged fix, but the driver's open() follows cxlmd->cxlm without the rwsem",
        expected: expect(UAF, UAF).on("cxlm"),
        // The bug needs an open racing removal: opens that complete first
        // find the driver data alive.
        default_workload: Workload::knobs(2, 1, true, 1, 0),
        loom_bound: None,
        body: Body::Driver(open_unchecked::probe),
    },
    Scheme {
        name: "counter-flag-no-barrier",
        summary: "inc counter; test flag vs clear flag; wait counter==0 — relaxed, no smp_mb()",
        expected: expect(CLEAN, UAF).on("cxlm"),
        default_workload: DEFAULT_WORKLOAD,
        loom_bound: None,
        body: Body::Driver(counter_flag_no_barrier::probe),
    },
    Scheme {
        name: "counter-flag-mb",
        summary: "the same counter/flag gate with smp_mb() on both sides",
        expected: expect(CLEAN, CLEAN),
        default_workload: DEFAULT_WORKLOAD,
        loom_bound: None,
        body: Body::Driver(counter_flag_mb::probe),
    },
];

/// The schemes one program can name: what `all` means on its command line,
/// further schemes it can name one by one, and fuzz targets beyond one per
/// scheme. The built-in one is [`Registry::zoo`]; a driver author's crate
/// builds its own with [`Registry::new`] and hands it to [`crate::cli::main`].
#[derive(Clone)]
pub struct Registry {
    /// The schemes `all` means, in listing order.
    pub schemes: Vec<&'static Scheme>,
    /// Schemes that can be named but are not part of `all` (the zoo's
    /// race-detector probes and litmus tests).
    pub extra: Vec<&'static Scheme>,
    /// Fuzz targets beyond one per scheme: `(target name, scheme name,
    /// workload)`.
    pub extra_targets: Vec<(&'static str, &'static str, Workload)>,
}

impl Registry {
    /// A registry of `schemes` alone.
    pub fn new(schemes: &'static [Scheme]) -> Registry {
        Registry {
            schemes: schemes.iter().collect(),
            extra: Vec::new(),
            extra_targets: Vec::new(),
        }
    }

    /// A registry of schemes built at run time. The schemes live as long as
    /// the program (a command line names them until it exits), so they are
    /// leaked once here.
    pub fn from_vec(schemes: Vec<Scheme>) -> Registry {
        Registry::new(Vec::leak(schemes))
    }

    /// The same registry with further fuzz targets (see
    /// [`crate::fuzz::EXTRA_TARGETS`]).
    pub fn with_targets(mut self, targets: &[(&'static str, &'static str, Workload)]) -> Registry {
        self.extra_targets.extend_from_slice(targets);
        self
    }

    /// The built-in zoo: [`ALL`], then the race-detector probes
    /// ([`crate::probes::ALL`]) and the kernel's litmus tests
    /// ([`crate::litmus::ALL`]), which can be named but are not in `all`.
    pub fn zoo() -> Registry {
        Registry {
            schemes: ALL.iter().collect(),
            extra: crate::probes::ALL
                .iter()
                .chain(crate::litmus::ALL.iter().map(|t| &t.scheme))
                .collect(),
            extra_targets: crate::fuzz::EXTRA_TARGETS.to_vec(),
        }
    }

    /// Every scheme that can be named: [`Registry::schemes`], then
    /// [`Registry::extra`].
    pub fn iter(&self) -> impl Iterator<Item = &'static Scheme> + '_ {
        self.schemes.iter().chain(self.extra.iter()).copied()
    }

    /// Look a scheme up by name; a name ending in `.c` is a kernel-C
    /// scheme's path, compiled on first use ([`crate::kc::load`]; `None`
    /// if it does not compile: [`crate::cli::scheme`] reports why).
    pub fn find(&self, name: &str) -> Option<&'static Scheme> {
        if crate::kc::is_c_path(name) {
            return crate::kc::load(name).ok();
        }
        self.iter().find(|s| s.name == name)
    }
}

/// The registry this process has installed, if any.
static ACTIVE: std::sync::OnceLock<Registry> = std::sync::OnceLock::new();

/// A second, different registry was installed in the same process.
#[derive(Debug, thiserror::Error)]
#[error("a scheme registry is already installed in this process")]
pub struct AlreadyInstalled;

/// Make `registry` the one this process names schemes in: corpus entries,
/// fuzz artifacts and command lines then resolve through it. A program
/// installs one registry, before anything looks a scheme up; without one,
/// the zoo is used.
pub fn install(registry: Registry) -> Result<&'static Registry, AlreadyInstalled> {
    let names = |r: &Registry| r.iter().map(|s| s.name).collect::<Vec<_>>();
    let wanted = names(&registry);
    let installed = ACTIVE.get_or_init(|| registry);
    if names(installed) == wanted {
        Ok(installed)
    } else {
        Err(AlreadyInstalled)
    }
}

/// The registry this process names schemes in: the one [`install`]ed, or
/// the zoo.
pub fn active() -> &'static Registry {
    ACTIVE.get_or_init(Registry::zoo)
}

/// Every scheme the command line can name, in the [`active`] registry (for
/// the zoo: [`ALL`], then the race-detector probes, then the kernel's
/// litmus tests). `all` on the command line means [`Registry::schemes`].
pub fn registry() -> impl Iterator<Item = &'static Scheme> {
    active().iter()
}

/// Look a scheme up by name, in the [`active`] registry.
pub fn find(name: &str) -> Option<&'static Scheme> {
    active().find(name)
}
