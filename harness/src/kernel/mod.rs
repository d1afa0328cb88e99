//! The kernel model: the primitives a driver's removal and ioctl paths are
//! written with, under their kernel names and with their kernel semantics.
//! One file per primitive.

pub mod atomic;
pub mod barrier;
pub mod bug;
pub mod cdev;
pub mod cmpxchg;
pub mod completion;
pub mod device;
pub mod memory;
pub mod mutex;
pub mod once;
pub mod percpu_ref;
pub mod rcu;
pub mod refcount;
pub mod rwsem;
pub mod spinlock;
pub mod srcu;
pub mod task;

pub use atomic::{
    atomic_add_unless, atomic_dec, atomic_inc, atomic_inc_return, atomic_read, atomic_set, Atomic,
};
pub use barrier::{
    smp_mb__after_atomic, smp_mb__after_spinlock, smp_mb__before_atomic, smp_rmb, smp_wmb,
};
pub use bug::{litmus_exists, BUG_ON, WARN_ON};
pub use cdev::{
    __fput, alloc_chrdev_region, cdev_add, cdev_del, cdev_device_add, cdev_device_del,
    cdev_set_parent, chrdev_open, Cdev, DevT, File, Inode, ENXIO,
};
pub use cmpxchg::{
    cmpxchg, cmpxchg_acquire, cmpxchg_relaxed, cmpxchg_release, xchg, xchg_acquire, xchg_relaxed,
    xchg_release,
};
pub use completion::{complete, complete_all, wait_for_completion, Completion};
pub use device::{
    device_add, device_del, device_initialize, device_is_registered, device_release_driver,
    devm_kzalloc, get_device, put_device, Device,
};
pub use memory::{kfree, kzalloc, Object, Plain};
pub use mutex::{mutex_lock, mutex_unlock, Mutex};
pub use once::{smp_load_acquire, smp_mb, smp_store_release, READ_ONCE, WRITE_ONCE};
pub use percpu_ref::{percpu_ref_kill, percpu_ref_put, percpu_ref_tryget_live, PercpuRef};
pub use rcu::{
    rcu_assign_pointer, rcu_dereference, rcu_read_lock, rcu_read_unlock, srcu_dereference,
};
pub use refcount::{kref_get, kref_get_unless_zero, kref_put, Kref};
pub use rwsem::{down_read, down_write, up_read, up_write, RwSemaphore};
pub use spinlock::{spin_lock, spin_unlock, Spinlock};
pub use srcu::{srcu_read_lock, srcu_read_unlock, synchronize_srcu, SrcuStruct};
pub use task::{cond_resched, cpu_relax, spawn_task, Task};
