//! The kernel functions a kernel-C scheme can call: each maps to the
//! kernel model's primitive of the same name.

use super::ir::{PrimKind, PtrTy, Ty};

macro_rules! builtins {
    ($($variant:ident = $name:literal ($min:literal ..= $max:literal) -> $ret:expr;)*) => {
        /// A kernel function of the model.
        #[allow(non_camel_case_types, missing_docs)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Builtin { $($variant,)* }

        /// Every builtin: its C name, how many arguments it takes, what it
        /// returns.
        pub const TABLE: &[(&str, Builtin, usize, usize, Ty)] = &[
            $(($name, Builtin::$variant, $min, $max, $ret),)*
        ];
    };
}

const INT: Ty = Ty::Int;
const VOID: Ty = Ty::Void;
const VOIDP: Ty = Ty::Ptr(PtrTy::Void);

builtins! {
    kzalloc = "kzalloc" (2..=2) -> VOIDP;
    kmalloc = "kmalloc" (2..=2) -> VOIDP;
    kfree = "kfree" (1..=1) -> VOID;
    kcalloc = "kcalloc" (3..=3) -> VOIDP;
    kmalloc_array = "kmalloc_array" (3..=3) -> VOIDP;
    bitmap_zalloc = "bitmap_zalloc" (2..=2) -> Ty::Ptr(PtrTy::Int);
    bitmap_free = "bitmap_free" (1..=1) -> VOID;
    memset = "memset" (3..=3) -> VOID;
    devm_kzalloc = "devm_kzalloc" (3..=3) -> VOIDP;
    device_initialize = "device_initialize" (1..=1) -> VOID;
    device_add = "device_add" (1..=1) -> INT;
    device_del = "device_del" (1..=1) -> VOID;
    get_device = "get_device" (1..=1) -> Ty::Ptr(PtrTy::Prim(PrimKind::Device));
    put_device = "put_device" (1..=1) -> VOID;
    dev_set_name = "dev_set_name" (2..=3) -> INT;
    dev_set_drvdata = "dev_set_drvdata" (2..=2) -> VOID;
    dev_get_drvdata = "dev_get_drvdata" (1..=1) -> VOIDP;
    device_is_registered = "device_is_registered" (1..=1) -> INT;
    device_lock = "device_lock" (1..=1) -> VOID;
    device_unlock = "device_unlock" (1..=1) -> VOID;
    cdev_init = "cdev_init" (2..=2) -> VOID;
    cdev_add = "cdev_add" (3..=3) -> INT;
    cdev_del = "cdev_del" (1..=1) -> VOID;
    cdev_device_add = "cdev_device_add" (2..=2) -> INT;
    cdev_device_del = "cdev_device_del" (2..=2) -> VOID;
    alloc_chrdev_region = "alloc_chrdev_region" (4..=4) -> INT;
    file_inode = "file_inode" (1..=1) -> Ty::Ptr(PtrTy::Inode);
    down_read = "down_read" (1..=1) -> VOID;
    up_read = "up_read" (1..=1) -> VOID;
    down_write = "down_write" (1..=1) -> VOID;
    up_write = "up_write" (1..=1) -> VOID;
    down_read_trylock = "down_read_trylock" (1..=1) -> INT;
    down_write_trylock = "down_write_trylock" (1..=1) -> INT;
    init_rwsem = "init_rwsem" (1..=1) -> VOID;
    mutex_init = "mutex_init" (1..=1) -> VOID;
    mutex_lock = "mutex_lock" (1..=1) -> VOID;
    mutex_unlock = "mutex_unlock" (1..=1) -> VOID;
    mutex_trylock = "mutex_trylock" (1..=1) -> INT;
    spin_lock_init = "spin_lock_init" (1..=1) -> VOID;
    spin_lock = "spin_lock" (1..=1) -> VOID;
    spin_unlock = "spin_unlock" (1..=1) -> VOID;
    spin_trylock = "spin_trylock" (1..=1) -> INT;
    spin_lock_irqsave = "spin_lock_irqsave" (2..=2) -> VOID;
    spin_unlock_irqrestore = "spin_unlock_irqrestore" (2..=2) -> VOID;
    spin_lock_irq = "spin_lock_irq" (1..=1) -> VOID;
    spin_unlock_irq = "spin_unlock_irq" (1..=1) -> VOID;
    init_srcu_struct = "init_srcu_struct" (1..=1) -> INT;
    cleanup_srcu_struct = "cleanup_srcu_struct" (1..=1) -> VOID;
    srcu_read_lock = "srcu_read_lock" (1..=1) -> INT;
    srcu_read_unlock = "srcu_read_unlock" (2..=2) -> VOID;
    synchronize_srcu = "synchronize_srcu" (1..=1) -> VOID;
    rcu_read_lock = "rcu_read_lock" (0..=0) -> VOID;
    rcu_read_unlock = "rcu_read_unlock" (0..=0) -> VOID;
    synchronize_rcu = "synchronize_rcu" (0..=0) -> VOID;
    rcu_assign_pointer = "rcu_assign_pointer" (2..=2) -> VOID;
    RCU_INIT_POINTER = "RCU_INIT_POINTER" (2..=2) -> VOID;
    rcu_dereference = "rcu_dereference" (1..=1) -> VOIDP;
    rcu_dereference_raw = "rcu_dereference_raw" (1..=1) -> VOIDP;
    rcu_dereference_protected = "rcu_dereference_protected" (2..=2) -> VOIDP;
    srcu_dereference = "srcu_dereference" (2..=2) -> VOIDP;
    rcu_access_pointer = "rcu_access_pointer" (1..=1) -> VOIDP;
    READ_ONCE = "READ_ONCE" (1..=1) -> INT;
    WRITE_ONCE = "WRITE_ONCE" (2..=2) -> VOID;
    smp_load_acquire = "smp_load_acquire" (1..=1) -> INT;
    smp_store_release = "smp_store_release" (2..=2) -> VOID;
    smp_mb = "smp_mb" (0..=0) -> VOID;
    smp_rmb = "smp_rmb" (0..=0) -> VOID;
    smp_wmb = "smp_wmb" (0..=0) -> VOID;
    smp_mb__before_atomic = "smp_mb__before_atomic" (0..=0) -> VOID;
    smp_mb__after_atomic = "smp_mb__after_atomic" (0..=0) -> VOID;
    barrier = "barrier" (0..=0) -> VOID;
    atomic_set = "atomic_set" (2..=2) -> VOID;
    atomic_read = "atomic_read" (1..=1) -> INT;
    atomic_inc = "atomic_inc" (1..=1) -> VOID;
    atomic_dec = "atomic_dec" (1..=1) -> VOID;
    atomic_inc_return = "atomic_inc_return" (1..=1) -> INT;
    atomic_dec_return = "atomic_dec_return" (1..=1) -> INT;
    atomic_dec_and_test = "atomic_dec_and_test" (1..=1) -> INT;
    atomic_add_return = "atomic_add_return" (2..=2) -> INT;
    atomic_sub_return = "atomic_sub_return" (2..=2) -> INT;
    atomic_add_unless = "atomic_add_unless" (3..=3) -> INT;
    atomic_inc_not_zero = "atomic_inc_not_zero" (1..=1) -> INT;
    set_bit = "set_bit" (2..=2) -> VOID;
    clear_bit = "clear_bit" (2..=2) -> VOID;
    test_bit = "test_bit" (2..=2) -> INT;
    test_and_set_bit = "test_and_set_bit" (2..=2) -> INT;
    test_and_clear_bit = "test_and_clear_bit" (2..=2) -> INT;
    xchg = "xchg" (2..=2) -> INT;
    cmpxchg = "cmpxchg" (3..=3) -> INT;
    kref_init = "kref_init" (1..=1) -> VOID;
    kref_get = "kref_get" (1..=1) -> VOID;
    kref_put = "kref_put" (2..=2) -> INT;
    kref_get_unless_zero = "kref_get_unless_zero" (1..=1) -> INT;
    init_completion = "init_completion" (1..=1) -> VOID;
    complete = "complete" (1..=1) -> VOID;
    complete_all = "complete_all" (1..=1) -> VOID;
    wait_for_completion = "wait_for_completion" (1..=1) -> VOID;
    init_waitqueue_head = "init_waitqueue_head" (1..=1) -> VOID;
    wake_up = "wake_up" (1..=1) -> VOID;
    percpu_ref_init = "percpu_ref_init" (4..=4) -> INT;
    percpu_ref_tryget_live = "percpu_ref_tryget_live" (1..=1) -> INT;
    percpu_ref_put = "percpu_ref_put" (1..=1) -> VOID;
    percpu_ref_kill = "percpu_ref_kill" (1..=1) -> VOID;
    percpu_ref_exit = "percpu_ref_exit" (1..=1) -> VOID;
    cond_resched = "cond_resched" (0..=0) -> VOID;
    cpu_relax = "cpu_relax" (0..=0) -> VOID;
    might_sleep = "might_sleep" (0..=0) -> VOID;
    BUG_ON = "BUG_ON" (1..=1) -> VOID;
    WARN_ON = "WARN_ON" (1..=1) -> INT;
    likely = "likely" (1..=1) -> INT;
    unlikely = "unlikely" (1..=1) -> INT;
    ERR_PTR = "ERR_PTR" (1..=1) -> VOIDP;
    IS_ERR = "IS_ERR" (1..=1) -> INT;
    IS_ERR_OR_NULL = "IS_ERR_OR_NULL" (1..=1) -> INT;
    PTR_ERR = "PTR_ERR" (1..=1) -> INT;
    try_module_get = "try_module_get" (1..=1) -> INT;
    module_put = "module_put" (1..=1) -> VOID;
    INIT_LIST_HEAD = "INIT_LIST_HEAD" (1..=1) -> VOID;
    list_add = "list_add" (2..=2) -> VOID;
    list_add_tail = "list_add_tail" (2..=2) -> VOID;
    list_del = "list_del" (1..=1) -> VOID;
    list_del_init = "list_del_init" (1..=1) -> VOID;
    list_empty = "list_empty" (1..=1) -> INT;
    printk = "printk" (1..=64) -> INT;
    dev_err_probe = "dev_err_probe" (3..=64) -> INT;
}

/// The logging calls of include/linux/printk.h and dev_printk.h: the
/// format string's position among the arguments (after the `struct
/// device *` for the `dev_*` family, and the error for
/// `dev_err_probe()`), or `None` for any other name.
pub fn log_format_at(name: &str) -> Option<usize> {
    let base = name
        .strip_suffix("_ratelimited")
        .or_else(|| name.strip_suffix("_once"))
        .unwrap_or(name);
    const LEVELS: &[&str] = &[
        "emerg", "alert", "crit", "err", "warn", "notice", "info", "dbg", "debug",
    ];
    if name == "dev_err_probe" {
        return Some(2);
    }
    if base == "printk" {
        return Some(0);
    }
    if let Some(l) = base.strip_prefix("pr_") {
        return (LEVELS.contains(&l) && l != "dbg").then_some(0);
    }
    if let Some(l) = base.strip_prefix("dev_") {
        return (LEVELS.contains(&l) && l != "debug").then_some(1);
    }
    None
}

/// include/linux/list.h's operations on `struct list_head`.
pub fn is_list_op(b: Builtin) -> bool {
    use Builtin::*;
    matches!(
        b,
        INIT_LIST_HEAD | list_add | list_add_tail | list_del | list_del_init | list_empty
    )
}

/// Look a kernel function up by name.
pub fn find(name: &str) -> Option<&'static (&'static str, Builtin, usize, usize, Ty)> {
    TABLE.iter().find(|b| b.0 == name)
}

/// Builtins whose first argument is a memory cell (a field or global the
/// macro reads or writes in place), given as an lvalue, not a value.
pub fn takes_cell(b: Builtin) -> bool {
    use Builtin::*;
    matches!(
        b,
        READ_ONCE
            | WRITE_ONCE
            | rcu_assign_pointer
            | RCU_INIT_POINTER
            | rcu_dereference
            | rcu_dereference_raw
            | rcu_dereference_protected
            | srcu_dereference
            | rcu_access_pointer
    )
}

/// The errno constants, as the kernel numbers them (positive; code returns
/// `-ENXIO`).
pub fn errno(name: &str) -> Option<i64> {
    Some(match name {
        "EPERM" => 1,
        "ENOENT" => 2,
        "EINTR" => 4,
        "EIO" => 5,
        "ENXIO" => 6,
        "E2BIG" => 7,
        "EAGAIN" => 11,
        "ENOMEM" => 12,
        "EFAULT" => 14,
        "EBUSY" => 16,
        "ENODEV" => 19,
        "EINVAL" => 22,
        "ENOTTY" => 25,
        "ENOSPC" => 28,
        "EPIPE" => 32,
        "EOPNOTSUPP" => 95,
        "ESHUTDOWN" => 108,
        "ETIMEDOUT" => 110,
        "ERESTARTSYS" => 512,
        _ => return None,
    })
}

/// Other constants a driver names.
pub fn constant(name: &str) -> Option<i64> {
    Some(match name {
        "GFP_KERNEL" | "GFP_ATOMIC" | "THIS_MODULE" | "PERCPU_REF_INIT_ATOMIC" => 0,
        "true" => 1,
        "false" => 0,
        _ => return errno(name),
    })
}
