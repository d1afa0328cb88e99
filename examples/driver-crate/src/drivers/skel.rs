//! The USB skeleton driver, `drivers/usb/usb-skeleton.c`: the pattern most
//! USB character drivers copy. Per-device state with a `kref`; `open` takes a
//! reference and stores the state in `file->private_data`, every later file
//! operation uses that, `release` drops it, and disconnect drops the probe's.
//!
//! ```c
//! static int skel_open(struct inode *inode, struct file *file)
//! {
//!         interface = usb_find_interface(&skel_driver, iminor(inode));
//!         dev = usb_get_intfdata(interface);       /* under usb_open()'s minor_rwsem */
//!         if (!dev)
//!                 return -ENODEV;
//!         kref_get(&dev->kref);
//!         file->private_data = dev;
//!         return 0;
//! }
//!
//! static ssize_t skel_read(struct file *file, char *buffer, size_t count, loff_t *ppos)
//! {
//!         struct usb_skel *dev = file->private_data;
//!
//!         mutex_lock_interruptible(&dev->io_mutex);
//!         if (dev->disconnected) {                 /* disconnect() was called */
//!                 rv = -ENODEV;
//!                 goto exit;
//!         }
//!         ... copy_to_user(buffer, dev->bulk_in_buffer, ...) ...
//! }
//!
//! static int skel_release(struct inode *inode, struct file *file)
//! {
//!         struct usb_skel *dev = file->private_data;
//!
//!         kref_put(&dev->kref, skel_delete);       /* kfree(dev->bulk_in_buffer); kfree(dev); */
//!         return 0;
//! }
//!
//! static void skel_disconnect(struct usb_interface *interface)
//! {
//!         usb_deregister_dev(interface, &skel_class);  /* down_write(&minor_rwsem) */
//!         mutex_lock(&dev->io_mutex);
//!         dev->disconnected = 1;
//!         mutex_unlock(&dev->io_mutex);
//!         kref_put(&dev->kref, skel_delete);
//! }
//! ```
//!
//! The skeleton has no ioctl; the model's `ioctl` is the same I/O path as
//! `read`, as in drivers built from it (`iowarrior_ioctl()` in
//! drivers/usb/misc/iowarrior.c takes `dev->mutex` and tests `dev->present`).
//!
//! The broken variant keeps the state in a static `struct usb_skel` (a
//! driver that supports one device) and its probe runs `kref_init()` and
//! allocates a new buffer in it every time it binds. Bound once, that is
//! the same as the skeleton: nothing any fixed workload does tells them
//! apart. Rebound while a file from the first binding is still open, the
//! re-initialised count forgets that file's reference: its `release` takes
//! the new binding's count to zero and `skel_delete()` frees the buffer the
//! new binding still uses, and the next open's `kref_get()` finds zero.

use crate::chardev::{Chardev, ENODEV};
use harness::kernel::{
    cdev_device_del, down_read, down_write, kfree, kref_get, kref_put, kzalloc, mutex_lock,
    mutex_unlock, up_read, up_write, File, Kref, Mutex, Object, Plain, RwSemaphore,
};
use std::borrow::Cow;
use std::sync::{Arc, Mutex as HostMutex, PoisonError};
use unplug::workload::{
    probe_fn, Driver, Gate, Probe, RemoverOp, RemoverScript, UserOp, UserScript, Workload,
};

/// `struct usb_skel`: what `file->private_data` points at.
struct SkelDev {
    /// The `kzalloc()`ed structure itself; `None` for the static one.
    obj: Option<Object>,
    /// `dev->kref`. A handle the model can replace: `kref_init()` on the
    /// static structure's count is a fresh count of 1 in the same place.
    kref: HostMutex<Option<Kref>>,
    /// `dev->io_mutex`.
    io_mutex: Mutex,
    /// `dev->disconnected`, under `io_mutex`.
    disconnected: Plain<bool>,
    /// `dev->bulk_in_buffer`, under `io_mutex`.
    bulk_in_buffer: Plain<Option<Object>>,
}

impl SkelDev {
    /// `kzalloc(sizeof(*dev))`, `kref_init(&dev->kref)`, `mutex_init()`,
    /// and the bulk-in buffer: `skel_probe()`'s allocations.
    #[track_caller]
    fn alloc(name: &str) -> SkelDev {
        let obj = kzalloc(format!("{name}.dev"));
        let kref = Kref::new(format!("{name}.dev->kref"), Some(obj));
        let buffer = kzalloc(format!("{name}.bulk_in_buffer"));
        SkelDev {
            obj: Some(obj),
            kref: HostMutex::new(Some(kref)),
            io_mutex: Mutex::new(format!("{name}.dev->io_mutex"), Some(obj)),
            disconnected: Plain::new(format!("{name}.dev->disconnected"), Some(obj), false),
            bulk_in_buffer: Plain::new(
                format!("{name}.dev->bulk_in_buffer"),
                Some(obj),
                Some(buffer),
            ),
        }
    }

    /// The static `struct usb_skel skel_dev` of the broken variant, as
    /// module load leaves it: zeroed, no count yet.
    #[track_caller]
    fn new_static() -> SkelDev {
        SkelDev {
            obj: None,
            kref: HostMutex::new(None),
            io_mutex: Mutex::new("skel_dev.io_mutex", None),
            disconnected: Plain::new("skel_dev.disconnected", None, false),
            bulk_in_buffer: Plain::new("skel_dev.bulk_in_buffer", None, None),
        }
    }

    /// The broken probe's set-up of the static structure:
    /// `kref_init(&skel_dev.kref)` and a new buffer, whatever files of the
    /// previous binding still hold.
    #[track_caller]
    fn reinit(&self) {
        *self.kref.lock().unwrap_or_else(PoisonError::into_inner) =
            Some(Kref::new("skel_dev.kref", None));
        let buffer = kzalloc("skel_dev.bulk_in_buffer");
        mutex_lock(&self.io_mutex);
        self.bulk_in_buffer.write(Some(buffer));
        self.disconnected.write(false);
        mutex_unlock(&self.io_mutex);
    }

    fn kref(&self) -> Option<Kref> {
        *self.kref.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `kref_get(&dev->kref)`.
    #[track_caller]
    fn get(&self) {
        if let Some(k) = self.kref() {
            kref_get(&k);
        }
    }

    /// `kref_put(&dev->kref, skel_delete)`: the last reference frees the
    /// buffer and the structure.
    #[track_caller]
    fn put(&self) {
        if let Some(k) = self.kref() {
            kref_put(&k, || self.delete());
        }
    }

    /// `skel_delete()`.
    #[track_caller]
    fn delete(&self) {
        mutex_lock(&self.io_mutex);
        let buffer = self.bulk_in_buffer.read();
        mutex_unlock(&self.io_mutex);
        if let Some(buffer) = buffer {
            kfree(buffer);
        }
        if let Some(obj) = self.obj {
            kfree(obj);
        }
    }

    /// `skel_read()`'s I/O under `io_mutex`: `-ENODEV` once disconnected,
    /// otherwise it copies out of the bulk-in buffer.
    #[track_caller]
    fn io(&self) -> i64 {
        mutex_lock(&self.io_mutex);
        let rc = if self.disconnected.read() {
            -ENODEV
        } else {
            match self.bulk_in_buffer.read() {
                Some(buffer) => {
                    buffer.read();
                    0
                }
                None => -ENODEV,
            }
        };
        mutex_unlock(&self.io_mutex);
        rc
    }
}

/// One binding of the skeleton to a USB interface.
struct Skel {
    /// The class device and cdev `usb_register_dev()` made; its `ptr` is
    /// the interface's driver data (`usb_set_intfdata()`), cleared by
    /// disconnect under `minor_rwsem`.
    intf: Chardev,
    /// The USB core's `minor_rwsem`: `usb_open()` holds it for read across
    /// the driver's `open`, `usb_deregister_dev()` for write.
    minor_rwsem: RwSemaphore,
    /// What `usb_get_intfdata()` gives `skel_open()`.
    dev: Arc<SkelDev>,
}

impl Driver for Skel {
    fn devt(&self) -> &harness::kernel::DevT {
        &self.intf.devt
    }

    /// `usb_open()` → `skel_open()`.
    fn open(&self, file: &File) -> Result<(), i64> {
        down_read(&self.minor_rwsem);
        let bound = self.intf.ptr.read().is_some();
        if bound {
            self.dev.get();
        }
        up_read(&self.minor_rwsem);
        if !bound {
            return Err(-ENODEV);
        }
        file.set_private_data(Arc::clone(&self.dev));
        Ok(())
    }

    /// `skel_read()`.
    fn read(&self, file: &File, _count: usize) -> i64 {
        match file.private_data::<SkelDev>() {
            Some(dev) => dev.io(),
            None => -ENODEV,
        }
    }

    /// The same I/O path as `read`.
    fn ioctl(&self, file: &File, _cmd: u32, _arg: u64) -> i64 {
        self.read(file, 0)
    }

    /// `skel_release()`: drop the reference `open` stored.
    fn release(&self, file: &File) {
        if let Some(dev) = file.take_private_data::<SkelDev>() {
            dev.put();
        }
    }

    /// `skel_disconnect()`.
    fn remove(&self) {
        let intf = &self.intf;
        intf.unbind(|| {
            // usb_deregister_dev(): no open finds the interface any more.
            cdev_device_del(&intf.cdev, &intf.dev);
            down_write(&self.minor_rwsem);
            intf.ptr.write(None);
            up_write(&self.minor_rwsem);
            mutex_lock(&self.dev.io_mutex);
            self.dev.disconnected.write(true);
            mutex_unlock(&self.dev.io_mutex);
            self.dev.put();
        });
    }
}

fn probe(_wl: &Workload, static_state: bool) -> Probe {
    let minor_rwsem = RwSemaphore::new("minor_rwsem");
    let skel_dev = static_state.then(|| Arc::new(SkelDev::new_static()));
    probe_fn(move |i, devt| {
        let intf = Chardev::register("skel", i, "intfdata", "intf", devt);
        let dev = match &skel_dev {
            Some(dev) => {
                dev.reinit();
                Arc::clone(dev)
            }
            None => Arc::new(SkelDev::alloc(&format!("skel{i}"))),
        };
        Arc::new(Skel {
            intf,
            minor_rwsem,
            dev,
        })
    })
}

/// The skeleton: state allocated per binding.
pub fn probe_kref(wl: &Workload) -> Probe {
    probe(wl, false)
}

/// One static state, re-initialised by every probe.
pub fn probe_static_kref(wl: &Workload) -> Probe {
    probe(wl, true)
}

/// The workload that tells the two apart: user0 keeps a file of the first
/// binding open across unbind and rebind, closes it, and opens the rebound
/// device again. (A second user opening the rebound device meanwhile may
/// hold the old cdev in the inode's cache, send user0's open to the old
/// binding and leave the new count to underflow at unbind instead: the
/// same bug, reported less directly.)
pub const REBIND_WORKLOAD: Workload = Workload::scripted(
    1,
    &[UserScript {
        ops: Cow::Borrowed(&[
            UserOp::Open {
                device: None,
                flags: None,
                after: None,
            },
            UserOp::Read {
                count: 64,
                file: None,
            },
            UserOp::Wait {
                until: Gate::Rebind,
            },
            UserOp::Close { file: None },
            UserOp::Open {
                device: None,
                flags: None,
                after: None,
            },
            UserOp::Read {
                count: 64,
                file: None,
            },
            UserOp::Close { file: None },
        ]),
    }],
    &[RemoverScript {
        ops: Cow::Borrowed(&[
            RemoverOp::WaitOpens,
            RemoverOp::Remove { device: Some(0) },
            RemoverOp::Rebind { device: Some(0) },
        ]),
    }],
);
