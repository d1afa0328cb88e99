//! Three real drivers' "device removal vs file operation" synchronisation,
//! ported to unplug out of tree: each as the driver has it today (expected
//! clean) and as a historical or plausible broken variant (expected
//! use-after-removal).
//!
//! * [`drivers::tpm`] models `drivers/char/tpm/tpm-chip.c`, `chip->ops` cleared
//!   under `down_write(&chip->ops_sem)`.
//! * [`drivers::iio`] models `drivers/iio/industrialio-core.c`, `indio_dev->info`
//!   cleared under the `info_exist_lock` mutex.
//! * [`drivers::uverbs`] models `drivers/infiniband/core/uverbs_main.c`,
//!   `uverbs_dev->ib_dev` under the `disassociate_srcu` SRCU domain.
//! * [`drivers::skel`] models `drivers/usb/usb-skeleton.c`: `open` takes a
//!   `kref` on the device state and keeps it in `file->private_data`;
//!   its schemes run a workload that unbinds and rebinds the device.

#![warn(missing_docs)]

pub mod chardev;
pub mod drivers;

use harness::finding::FindingKind;
use unplug::schemes::DEFAULT_WORKLOAD;
use unplug::{Body, Expected, Registry, Scheme};

const UAF: Option<FindingKind> = Some(FindingKind::UseAfterRemoval);
const CLEAN: Option<FindingKind> = None;

/// This crate's schemes: every command of the CLI runs over them.
pub static SCHEMES: &[Scheme] = &[
    Scheme {
        name: "tpm-ops-sem",
        summary: "tpm_try_get_ops(): down_read(ops_sem), test chip->ops; tpm_del_char_device(): chip->ops = NULL under down_write()",
        expected: Expected::new(CLEAN, CLEAN),
        default_workload: DEFAULT_WORKLOAD,
        loom_bound: None,
        body: Body::Driver(drivers::tpm::probe_ops_sem),
    },
    Scheme {
        name: "tpm-no-ops-sem",
        summary: "before \"tpm: Provide strong locking for device removal\": write() calls chip->ops with no lock, removal frees the driver",
        expected: Expected::new(UAF, UAF).on("ops"),
        default_workload: DEFAULT_WORKLOAD,
        loom_bound: None,
        body: Body::Driver(drivers::tpm::probe_no_ops_sem),
    },
    Scheme {
        name: "iio-info-exist-lock",
        summary: "iio_ioctl(): mutex_lock(info_exist_lock), test indio_dev->info; iio_device_unregister(): info = NULL under the mutex",
        expected: Expected::new(CLEAN, CLEAN),
        default_workload: DEFAULT_WORKLOAD,
        loom_bound: None,
        body: Body::Driver(drivers::iio::probe_info_exist_lock),
    },
    Scheme {
        name: "iio-check-before-lock",
        summary: "iio_ioctl() tests indio_dev->info before taking info_exist_lock: unregister can clear and free in between",
        expected: Expected::new(UAF, UAF).on("info").at("iio.rs"),
        default_workload: DEFAULT_WORKLOAD,
        loom_bound: None,
        body: Body::Driver(drivers::iio::probe_check_before_lock),
    },
    Scheme {
        name: "uverbs-disassociate-srcu",
        summary: "ib_uverbs_ioctl(): srcu_dereference(ib_dev) in disassociate_srcu; removal: NULL, synchronize_srcu(), free",
        expected: Expected::new(CLEAN, CLEAN),
        default_workload: DEFAULT_WORKLOAD,
        loom_bound: None,
        body: Body::Driver(drivers::uverbs::probe_disassociate_srcu),
    },
    Scheme {
        name: "uverbs-no-synchronize",
        summary: "ib_uverbs_free_hw_resources() without synchronize_srcu(): the hardware driver is freed under a reader",
        expected: Expected::new(UAF, UAF).on("ib_dev"),
        default_workload: DEFAULT_WORKLOAD,
        loom_bound: None,
        body: Body::Driver(drivers::uverbs::probe_no_synchronize),
    },
    Scheme {
        name: "skel-kref",
        summary: "usb-skeleton: skel_open() kref_get()s the per-binding state into file->private_data, skel_release() puts it; unbound and rebound",
        expected: Expected::new(CLEAN, CLEAN),
        default_workload: drivers::skel::REBIND_WORKLOAD,
        loom_bound: None,
        body: Body::Driver(drivers::skel::probe_kref),
    },
    Scheme {
        name: "skel-static-kref",
        summary: "the skeleton with one static state whose probe re-runs kref_init(): a file open across a rebind puts the new binding's count",
        expected: Expected::new(UAF, UAF).at("skel.rs"),
        default_workload: drivers::skel::REBIND_WORKLOAD,
        loom_bound: None,
        body: Body::Driver(drivers::skel::probe_static_kref),
    },
];

/// The registry the command line and the tests use.
pub fn registry() -> Registry {
    Registry::new(SCHEMES)
}
