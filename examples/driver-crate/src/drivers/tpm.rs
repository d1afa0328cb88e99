//! The TPM character device, `drivers/char/tpm/tpm-chip.c` and
//! `tpm-dev-common.c`: every command (`tpm_common_write()`, modelled here as
//! the file operation) goes through `tpm_try_get_ops()`, which takes
//! `chip->ops_sem` for reading and fails if `chip->ops` is gone; removal,
//! `tpm_chip_unregister()` → `tpm_del_char_device()`, clears `chip->ops`
//! under `down_write()` after `cdev_device_del()`.
//!
//! ```c
//! int tpm_try_get_ops(struct tpm_chip *chip)
//! {
//!         get_device(&chip->dev);
//!         down_read(&chip->ops_sem);
//!         if (!chip->ops)
//!                 goto out_ops;          /* up_read(), put_device(), -EIO */
//!         ...
//! }
//!
//! static void tpm_del_char_device(struct tpm_chip *chip)
//! {
//!         cdev_device_del(&chip->cdev, &chip->dev);
//!         ...
//!         down_write(&chip->ops_sem);
//!         chip->ops = NULL;
//!         up_write(&chip->ops_sem);
//! }
//! ```
//!
//! The broken variant is the driver before "tpm: Provide strong locking for
//! device removal" (Linux 4.6), which added `ops_sem`: a command could call
//! `chip->ops` while the low-level driver (`tpm_tis`, …) unbound and freed
//! what the ops use.

use crate::chardev::Chardev;
use harness::kernel::File;
use harness::kernel::{down_read, down_write, up_read, up_write, RwSemaphore};
use unplug::workload::{Driver, Probe, Workload};

/// `-EIO`, what `tpm_try_get_ops()` returns for a chip without ops.
const EIO: i64 = 5;

/// A TPM chip; `ops_sem` is `None` in the driver before strong locking.
struct Tpm {
    chip: Chardev,
    ops_sem: Option<RwSemaphore>,
}

impl Driver for Tpm {
    fn devt(&self) -> &harness::kernel::DevT {
        &self.chip.devt
    }

    /// `tpm_open()`: the file holds the chip's device.
    fn open(&self, _file: &File) -> Result<(), i64> {
        self.chip.open_devref()
    }

    /// `tpm_common_write()` → `tpm_try_get_ops()`, the command, then
    /// `tpm_put_ops()`.
    fn ioctl(&self, _file: &File, _cmd: u32, _arg: u64) -> i64 {
        let Some(ops_sem) = &self.ops_sem else {
            // Before ops_sem: the command goes straight to chip->ops.
            return Chardev::call_if(self.chip.ptr.read());
        };
        down_read(ops_sem);
        let rc = match self.chip.ptr.read() {
            Some(ops) => Chardev::call(ops),
            None => -EIO,
        };
        up_read(ops_sem);
        rc
    }

    /// `tpm_common_release()`.
    fn release(&self, _file: &File) {
        self.chip.release_devref()
    }

    /// The low-level driver's remove calls `tpm_chip_unregister()`; then
    /// devres frees its state.
    fn remove(&self) {
        let chip = &self.chip;
        chip.unbind(|| {
            harness::kernel::cdev_device_del(&chip.cdev, &chip.dev);
            match &self.ops_sem {
                Some(ops_sem) => {
                    down_write(ops_sem);
                    chip.ptr.write(None);
                    up_write(ops_sem);
                }
                None => chip.ptr.write(None),
            }
        });
    }
}

/// Today's driver: `ops_sem`.
pub fn probe_ops_sem(wl: &Workload) -> Probe {
    Chardev::register_each(wl, "tpm", "chip->ops", "ops", |chip| Tpm {
        ops_sem: Some(RwSemaphore::new_in(
            format!("{}.ops_sem", chip.dev.name()),
            Some(chip.chip),
        )),
        chip,
    })
}

/// The driver before strong locking: no `ops_sem`.
pub fn probe_no_ops_sem(wl: &Workload) -> Probe {
    Chardev::register_each(wl, "tpm", "chip->ops", "ops", |chip| Tpm {
        ops_sem: None,
        chip,
    })
}
