//! The kernel model: the primitives a driver's removal and ioctl paths are
//! written with, under their kernel names and with their kernel semantics.
//! One file per primitive.

pub mod atomic;
pub mod barrier;
pub mod bitops;
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
pub mod wait;
pub mod workqueue;

pub use atomic::{
    atomic_add_return, atomic_add_return_acquire, atomic_add_return_relaxed,
    atomic_add_return_release, atomic_add_unless, atomic_dec, atomic_dec_and_test,
    atomic_dec_return, atomic_dec_return_acquire, atomic_dec_return_relaxed,
    atomic_dec_return_release, atomic_inc, atomic_inc_return, atomic_read, atomic_set,
    atomic_sub_return, atomic_sub_return_acquire, atomic_sub_return_relaxed,
    atomic_sub_return_release, Atomic,
};
pub use barrier::{
    smp_mb__after_atomic, smp_mb__after_spinlock, smp_mb__before_atomic, smp_rmb, smp_wmb,
};
pub use bitops::{
    clear_bit, clear_bit_unlock, set_bit, test_and_clear_bit, test_and_set_bit,
    test_and_set_bit_lock, test_bit,
};
pub use bug::{litmus_exists, null_pointer_dereference, BUG_ON, WARN_ON};
pub use cdev::{
    __fput, alloc_chrdev_region, cdev_add, cdev_del, cdev_device_add, cdev_device_del,
    cdev_set_parent, chrdev_open, Cdev, DevT, File, Inode, ENXIO, O_RDWR,
};
pub use cmpxchg::{
    cmpxchg, cmpxchg_acquire, cmpxchg_relaxed, cmpxchg_release, xchg, xchg_acquire, xchg_relaxed,
    xchg_release,
};
pub use completion::{complete, complete_all, wait_for_completion, Completion};
pub use device::{
    device_add, device_del, device_initialize, device_is_registered, device_lock,
    device_release_driver, device_unlock, devm_add_action_or_reset, devm_kzalloc, get_device,
    put_device, Device,
};
pub use memory::{kfree, kzalloc, Object, Plain};
pub use mutex::{mutex_lock, mutex_trylock, mutex_unlock, Mutex};
pub use once::{smp_load_acquire, smp_mb, smp_store_release, READ_ONCE, WRITE_ONCE};
pub use percpu_ref::{percpu_ref_kill, percpu_ref_put, percpu_ref_tryget_live, PercpuRef};
pub use rcu::{
    call_rcu, rcu_assign_pointer, rcu_barrier, rcu_dereference, rcu_read_lock, rcu_read_unlock,
    srcu_dereference, synchronize_rcu,
};
pub use refcount::{kref_get, kref_get_unless_zero, kref_put, refcount_inc_not_zero, Kref};
pub use rwsem::{
    down_read, down_read_trylock, down_write, down_write_trylock, up_read, up_write, RwSemaphore,
};
pub use spinlock::{spin_lock, spin_trylock, spin_unlock, Spinlock};
pub use srcu::{srcu_read_lock, srcu_read_unlock, synchronize_srcu, SrcuStruct};
pub use task::{called_at, cond_resched, cpu_relax, lockdep_sys_exit, spawn_task, Task};
pub use wait::{wait_event, wake_up, WaitQueueHead};
pub use workqueue::{cancel_work_sync, flush_work, schedule_work, WorkStruct, INIT_WORK};
