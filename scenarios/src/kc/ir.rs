//! The checked form of a kernel-C scheme the interpreter runs: names
//! resolved to slots, struct fields to indices, calls to either a driver
//! function or a kernel-model builtin, every statement with its source site.

use super::builtins::Builtin;
use super::header::Header;
use harness::trace::SourceSite;

/// A whole scheme.
#[derive(Debug)]
pub struct Program {
    /// The `.c` file as the user named it.
    pub file: String,
    /// The header block.
    pub header: Header,
    /// Struct definitions, by index.
    pub structs: Vec<StructDef>,
    /// Global variables and primitives, by index.
    pub globals: Vec<Global>,
    /// Driver functions, by index.
    pub funcs: Vec<Func>,
    /// `struct file_operations` tables, by index.
    pub fops: Vec<Fops>,
    /// The signatures of the function pointers the file declares: return
    /// type and parameter types.
    pub fn_sigs: Vec<(Ty, Vec<Ty>)>,
    /// `static const struct S NAME = { … }` of a driver struct (an ops
    /// table such as `struct tpm_class_ops`): name, struct, and the global
    /// of its first field (its fields are consecutive globals).
    pub statics: Vec<(String, usize, usize)>,
    /// The probe function.
    pub probe: usize,
    /// The remove function.
    pub remove: usize,
    /// The site of the driver core's unbind around `remove`
    /// (`device_release_driver(parent)`, at the remove function's line).
    pub unbind_site: &'static SourceSite,
}

/// A `struct NAME { … }`.
#[derive(Debug)]
pub struct StructDef {
    /// `NAME`.
    pub name: String,
    /// Its fields in order.
    pub fields: Vec<(String, FieldTy)>,
    /// The driver structs embedded in it by value: the embedded struct and
    /// the index of its first field among these fields.
    pub embeds: Vec<(usize, usize)>,
}

/// A kernel object embedded in a struct or declared globally: each is a
/// primitive of the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrimKind {
    /// `struct device`.
    Device,
    /// `struct cdev`.
    Cdev,
    /// `struct kref`.
    Kref,
    /// `struct rw_semaphore`.
    Rwsem,
    /// `struct mutex`.
    Mutex,
    /// `spinlock_t`.
    Spinlock,
    /// `struct srcu_struct`.
    Srcu,
    /// `atomic_t`.
    Atomic,
    /// `struct completion`.
    Completion,
    /// `wait_queue_head_t`.
    WaitQueue,
    /// `struct percpu_ref`.
    PercpuRef,
}

/// What a pointer points to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PtrTy {
    /// A driver struct, by index.
    Struct(usize),
    /// `void *`.
    Void,
    /// A kernel object (`struct device *`).
    Prim(PrimKind),
    /// `struct file *`.
    File,
    /// `struct inode *`.
    Inode,
    /// `const struct file_operations *`.
    Fops,
    /// `const char *`.
    Char,
    /// A struct this file does not define (`struct module *owner`): it can
    /// be passed and stored, not dereferenced.
    Opaque,
    /// Integer memory (`u8 *buf`, `loff_t *ppos`, `unsigned long *mask`):
    /// an array field decayed to its first element, or `&p->int_field`.
    /// It can be passed and given to the bit operations, not dereferenced.
    Int,
}

/// The type of a value or variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    /// Any integer type (`int`, `long`, `unsigned long`, `u32`, `size_t`).
    Int,
    /// `bool`.
    Bool,
    /// A pointer.
    Ptr(PtrTy),
    /// An embedded kernel object named as an lvalue (`x->dev`).
    Emb(PrimKind),
    /// A driver struct of this file embedded by value, named as an lvalue
    /// (`priv->gc`): usable only as `priv->gc.field` or `&priv->gc`.
    EmbStruct(usize),
    /// `dev_t` (a device number).
    DevT,
    /// A function (used as a value: `dev->release = f`).
    Func,
    /// A function pointer held in a struct field or global (`int
    /// (*send)(struct tpm_chip *, u8 *, size_t)`): the index of its
    /// signature in [`Program::fn_sigs`].
    FnPtr(usize),
    /// No value.
    Void,
}

/// A struct field's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldTy {
    /// A memory cell of the model: integer, bool or pointer.
    Cell(Ty),
    /// An embedded kernel object.
    Prim(PrimKind),
}

/// A global: a primitive (`static DECLARE_RWSEM(x);`) or a plain variable.
#[derive(Debug)]
pub struct Global {
    /// Its C name.
    pub name: String,
    /// What it is.
    pub ty: FieldTy,
    /// Initial value of a plain integer.
    pub init: i64,
}

/// A driver function.
#[derive(Debug)]
pub struct Func {
    /// Its C name.
    pub name: String,
    /// Parameter types (parameters are the first locals).
    pub params: Vec<Ty>,
    /// The return type.
    pub ret: Ty,
    /// How many local slots a call needs.
    pub nlocals: usize,
    /// The slots of structs declared on the stack: freed when the call
    /// returns, as its frame goes.
    pub stack: Vec<usize>,
    /// The body.
    pub body: Vec<Stmt>,
    /// Each label's statement index in `body` (labels live at the top level
    /// of a function, as kernel error unwinding has them).
    pub labels: Vec<usize>,
    /// Where it is defined.
    pub site: &'static SourceSite,
}

/// A `static const struct file_operations NAME = { … }`.
#[derive(Debug, Default)]
pub struct Fops {
    /// Its C name.
    pub name: String,
    /// `.open`.
    pub open: Option<usize>,
    /// `.release`.
    pub release: Option<usize>,
    /// `.unlocked_ioctl`.
    pub ioctl: Option<usize>,
    /// `.read`.
    pub read: Option<usize>,
    /// `.write`.
    pub write: Option<usize>,
}

/// A statement and where it is.
#[derive(Debug)]
pub struct Stmt {
    /// What it does.
    pub kind: StmtKind,
    /// Its source position and text.
    pub site: &'static SourceSite,
}

/// Statement forms.
#[derive(Debug)]
pub enum StmtKind {
    /// An expression for its effect.
    Expr(Expr),
    /// A local's initialisation.
    Init(usize, Expr),
    /// `if (c) a else b`.
    If(Expr, Vec<Stmt>, Vec<Stmt>),
    /// `while (c) body`.
    While(Expr, Vec<Stmt>),
    /// `do body while (c);`.
    DoWhile(Vec<Stmt>, Expr),
    /// `for (init; cond; step) body`.
    For(Vec<Stmt>, Option<Expr>, Option<Expr>, Vec<Stmt>),
    /// `switch (e) { case …: … }`: the case values (empty for `default`)
    /// with the index in the body where each starts.
    Switch(Expr, Vec<(Option<i64>, usize)>, Vec<Stmt>),
    /// `return e;`.
    Return(Option<Expr>),
    /// `goto label;`.
    Goto(usize),
    /// `label:` (a no-op where it stands).
    Label,
    /// `break;`.
    Break,
    /// `continue;`.
    Continue,
    /// `{ … }`.
    Block(Vec<Stmt>),
    /// `guard(NAME)(lock);` (include/linux/cleanup.h): the lock taken
    /// here and released when the enclosing block is left, however it is
    /// left (its end, `return`, `break`, `continue`, a `goto` out of it).
    Guard(GuardKind, Option<Expr>),
}

/// The lock guards of include/linux/cleanup.h the dialect has: each is the
/// `DEFINE_GUARD()` / `DEFINE_LOCK_GUARD_*()` of its lock's header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuardKind {
    /// `guard(srcu)(&ssp)`: `srcu_read_lock()` / `srcu_read_unlock()`
    /// with the index it returned (include/linux/srcu.h).
    Srcu,
    /// `guard(mutex)(&m)` (include/linux/mutex.h).
    Mutex,
    /// `guard(spinlock)`, `guard(spinlock_irq)`, `guard(spinlock_irqsave)`
    /// (include/linux/spinlock.h; the model has no interrupts).
    Spinlock,
    /// `guard(rwsem_read)(&sem)` (include/linux/rwsem.h).
    RwsemRead,
    /// `guard(rwsem_write)(&sem)` (include/linux/rwsem.h).
    RwsemWrite,
    /// `guard(rcu)()` (include/linux/rcupdate.h).
    Rcu,
    /// `guard(device)(dev)`: `device_lock()` (include/linux/device.h).
    Device,
}

/// The struct the front end defines for arrays of integers
/// (`kcalloc(n, sizeof(int), …)`, `bitmap_zalloc()`): one `unsigned long`
/// cell per element. No C struct can have this name.
pub const WORD_STRUCT: &str = "unsigned long";

/// A typed expression.
#[derive(Debug)]
pub struct Expr {
    /// What it computes.
    pub kind: ExprKind,
    /// Its type.
    pub ty: Ty,
    /// Its source position and text.
    pub site: &'static SourceSite,
}

/// Special members of kernel structs a driver touches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attr {
    /// `dev->release`.
    DevRelease,
    /// `dev->devt`.
    DevDevt,
    /// `dev->parent`.
    DevParent,
    /// `cdev->ops`.
    CdevOps,
    /// `cdev->owner`.
    CdevOwner,
    /// `file->private_data`.
    FilePrivate,
    /// `inode->i_cdev`.
    InodeCdev,
}

/// Expression forms.
#[derive(Debug)]
pub enum ExprKind {
    /// An integer constant.
    Int(i64),
    /// `NULL`.
    Null,
    /// A string literal.
    Str(String),
    /// A local variable.
    Local(usize),
    /// A global variable or primitive.
    Global(usize),
    /// `arr[i]` of an array global: its first element's global, its
    /// length, the index.
    Index(usize, usize, Box<Expr>),
    /// `p[i]` of a pointer into an array (`kcalloc()`, `bitmap_zalloc()`):
    /// typed [`Ty::EmbStruct`] for an array of structs (used as `p[i].f`
    /// or `&p[i]`), [`Ty::Int`] for one of integers.
    PtrIndex(Box<Expr>, Box<Expr>),
    /// `p + i` (and `p - i`, the index negated) of a pointer into an array.
    PtrAdd(Box<Expr>, Box<Expr>),
    /// `p - q` of two pointers into the same array: elements between them.
    PtrDiff(Box<Expr>, Box<Expr>),
    /// A driver function as a value.
    Func(usize),
    /// A static driver struct (`&ftpm_tee_tpm_ops`), by index in
    /// [`Program::statics`].
    Static(usize),
    /// A `file_operations` table.
    Fops(usize),
    /// `base->field` of a driver struct.
    Field(Box<Expr>, usize, usize),
    /// `base->arr[i]` of an array field: the struct, the first element's
    /// field, the length, the index.
    FieldIndex(Box<Expr>, usize, usize, usize, Box<Expr>),
    /// A member of a kernel struct.
    Attr(Box<Expr>, Attr),
    /// `&e`.
    AddrOf(Box<Expr>),
    /// A unary operator (`!`, `-`, `~`).
    Unary(&'static str, Box<Expr>),
    /// A binary operator.
    Binary(&'static str, Box<Expr>, Box<Expr>),
    /// `a ? b : c`.
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `lhs = rhs` or `lhs OP= rhs`.
    Assign(Box<Expr>, Option<&'static str>, Box<Expr>),
    /// `++x`, `x--`: (lvalue, +1 or -1, whether the new value is the result).
    IncDec(Box<Expr>, i64, bool),
    /// A call to a driver function.
    Call(usize, Vec<Expr>),
    /// A call through a function pointer (`chip->ops->send(chip, …)`):
    /// the pointer, then the arguments.
    CallPtr(Box<Expr>, Vec<Expr>),
    /// A call to the kernel model.
    Builtin(Builtin, Vec<Expr>),
    /// `container_of(e, struct S, field)`.
    ContainerOf(Box<Expr>, usize, usize),
    /// `base->member` of a driver struct embedded by value: the embedded
    /// struct, and the index of its first field among the container's
    /// (its fields are laid out inline in the container).
    EmbStruct(Box<Expr>, usize, usize),
    /// `container_of(e, struct S, member)` of a driver struct embedded by
    /// value in `S`: `S`, and the member's first field index in `S`.
    ContainerOfStruct(Box<Expr>, usize, usize),
    /// A driver struct declared on the stack (`struct ib_device_attr attr
    /// = {};`): zeroed, used through `attr.field` and `&attr`.
    StackStruct(usize),
    /// `sizeof(…)`: only for allocation sizes; the struct allocated.
    SizeOf(Option<usize>),
    /// `wait_event(wq, condition)`: the condition is re-evaluated.
    WaitEvent(Box<Expr>, Box<Expr>),
}
