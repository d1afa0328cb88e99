//! Run a lowered kernel-C scheme over the kernel model. Every struct field
//! of a kzalloc'd object is a model cell owned by that object, so a plain
//! access races, an access after the free is a use-after-removal; embedded
//! kernel objects are the model's primitives. Each statement runs with its
//! `.c` position as the site of the steps it takes.

use super::builtins::Builtin;
use super::ir::*;
use crate::workload::{probe_fn, Driver, Probe, Workload};
use harness::kernel::memory::CellValue;
use harness::kernel::{
    self as k, Atomic, Cdev, Completion, DevT, Device, Kref, Object, PercpuRef, Plain,
};
use harness::kernel::{File, RwSemaphore, Spinlock, SrcuStruct, WaitQueueHead};
use harness::trace::{with_source_site, ObjectId, SourceSite, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};

/// The most iterations one loop may run: a loop that touches no model
/// state would otherwise spin the host forever instead of ending as a hang.
const MAX_LOOP: u64 = 1_000_000;

/// One execution's state of the scheme: globals and the objects alive.
struct Rt {
    prog: Arc<Program>,
    globals: Vec<Slot>,
    objects: Mutex<HashMap<u32, Arc<Inst>>>,
    /// The parent devices whose pointers were stored in cells, by object.
    parents: Mutex<HashMap<u32, Arc<Parent>>>,
    me: Weak<Rt>,
}

/// A kzalloc'd struct, or a kcalloc'd array of them: its model object and
/// one slot per field of each element, element after element.
struct Inst {
    obj: Object,
    def: usize,
    name: String,
    slots: Vec<Slot>,
    /// How many elements: 1 for a single struct.
    len: usize,
}

impl Inst {
    /// Slots per element.
    fn stride(&self) -> usize {
        self.slots.len() / self.len.max(1)
    }
}

/// A pointer into an array: the allocation and the slot its element
/// starts at (for an array of integers, the element's own slot).
struct ArrayPos {
    inst: Arc<Inst>,
    slot: usize,
}

/// A pointer cell's value: the object pointed to (its id plus one, 0 for
/// NULL) in the low 32 bits; for a pointer to a driver struct embedded by
/// value, the embedded struct's index plus one in bits 48..64 and the
/// index of its first field among the container's in bits 32..48. The
/// member's address is part of the value the store publishes, so the
/// model's race and use-after-free checks see it with the pointer.
#[derive(Clone, Copy, PartialEq, Eq)]
struct PtrCell(u64);

impl PtrCell {
    const NULL: PtrCell = PtrCell(0);

    fn new(obj: Object, sub: Option<(usize, usize)>) -> Option<PtrCell> {
        let id = u64::from(obj.id().0) + 1;
        match sub {
            None => Some(PtrCell(id)),
            Some((t, first)) => {
                let t = u64::try_from(t + 1).ok().filter(|t| *t < 1 << 16)?;
                let first = u64::try_from(first).ok().filter(|f| *f < 1 << 16)?;
                Some(PtrCell(id | first << 32 | t << 48))
            }
        }
    }

    /// The object's id, and the embedded member if it is one.
    fn get(self) -> Option<(u32, Option<(usize, usize)>)> {
        let id = u32::try_from((self.0 & 0xffff_ffff).checked_sub(1)?).ok()?;
        let t = (self.0 >> 48) as usize;
        let first = ((self.0 >> 32) & 0xffff) as usize;
        Some((id, t.checked_sub(1).map(|t| (t, first))))
    }
}

impl CellValue for PtrCell {
    fn encode(self) -> u64 {
        self.0
    }
    fn decode(raw: u64) -> Self {
        PtrCell(raw)
    }
    fn display(raw: u64) -> Value {
        Value::Ptr(
            (raw & 0xffff_ffff)
                .checked_sub(1)
                .and_then(|i| u32::try_from(i).ok())
                .map(ObjectId),
        )
    }
}

/// A field or global.
enum Slot {
    Int(Plain<i64>),
    Bool(Plain<bool>),
    Ptr(Plain<PtrCell>),
    /// A function pointer: the function's index plus one, 0 for NULL, in a
    /// model cell so a read of a freed ops table is a use-after-free.
    FnPtr(Plain<i64>),
    /// A pointer to a static ops table: its index plus one, 0 for NULL.
    StaticPtr(Plain<i64>),
    Device(DevSlot),
    Cdev(CdevSlot),
    Kref(Kref),
    Rwsem(RwSemaphore),
    Mutex(k::Mutex),
    Spinlock(Spinlock),
    Srcu(SrcuStruct),
    Atomic(Atomic),
    Completion(Completion),
    WaitQueue(WaitQueueHead),
    PercpuRef(OnceLock<PercpuRef>),
}

/// An embedded `struct device`: the model's device is created on first use,
/// once `dev_set_name()` may have named it.
#[derive(Default)]
struct DevSlot {
    dev: OnceLock<Device>,
    name: Mutex<Option<String>>,
    release: Mutex<Option<usize>>,
    devt: Mutex<Option<DevT>>,
    /// `dev->parent`: set before `device_add()` and fixed from then on
    /// (`device_add()` in drivers/base/core.c links the device under it),
    /// so it is no memory cell the race is about.
    parent: Mutex<Option<Val>>,
}

/// An embedded `struct cdev`.
#[derive(Default)]
struct CdevSlot {
    cdev: OnceLock<Cdev>,
    ops: Mutex<Option<usize>>,
}

/// The parent device a probe is called with (the bus device the driver
/// binds to): its driver data and its devres list.
struct Parent {
    /// The parent's model object, which a pointer cell holding
    /// `struct device *parent` names.
    obj: Object,
    dev: Device,
    drvdata: Mutex<Val>,
}

/// The member tag of a pointer cell holding `&x->dev`, an embedded kernel
/// object (its slot is the member's index).
const EMB_TAG: usize = 0xfffe;
/// The member tag of a pointer cell holding the parent device a probe got.
const PARENT_TAG: usize = 0xfffd;

/// An open file as the driver sees it.
struct FileCtx {
    private_data: Mutex<Val>,
    i_cdev: Val,
}

/// A value.
#[derive(Clone)]
enum Val {
    Int(i64),
    Null,
    Str(String),
    Inst(Arc<Inst>),
    /// `&x->field` of an embedded kernel object.
    Emb(Arc<Inst>, usize),
    /// `&x->member` of a driver struct embedded by value: the container,
    /// the embedded struct, and the index of its first field among the
    /// container's slots.
    Sub(Arc<Inst>, usize, usize),
    /// A global primitive.
    Global(usize),
    /// `&x->field` or `&global` of a memory cell (None: a global).
    Cell(Option<Arc<Inst>>, usize),
    Devt(DevT),
    DevtOf(Arc<Inst>, usize),
    Fops(usize),
    Func(usize),
    /// `&NAME` of a static driver struct (an ops table).
    Static(usize),
    /// `sizeof(struct NAME)`: the struct, so an allocation of a size a
    /// caller passed knows what it allocates.
    Size(usize),
    Parent(Arc<Parent>),
    File(Arc<FileCtx>),
    Inode(Arc<FileCtx>),
}

impl Val {
    fn int(&self) -> i64 {
        match self {
            Val::Int(v) => *v,
            Val::Null => 0,
            Val::Size(_) => 8,
            _ => 1,
        }
    }
}

/// Per-device context: naming, and the cdev its probe added.
struct Ctx {
    prefix: String,
    added: Mutex<Option<(Val, Option<DevT>)>>,
    /// On a rebind, the device number the previous binding had: the
    /// driver's minor allocator hands it out again.
    rebind_devt: Option<DevT>,
}

/// A guard taken in a scope: released when the scope is left.
struct Held {
    kind: GuardKind,
    lock: Val,
    /// What `srcu_read_lock()` returned.
    idx: usize,
    site: &'static SourceSite,
}

enum Flow {
    Next,
    Break,
    Continue,
    Return(Val),
    Goto(usize),
}

fn host<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A fault of the interpreted code that the model has no finding for.
fn fault(site: &SourceSite, msg: &str) -> ! {
    panic!(
        "{}:{}:{}: error: {msg} (in `{}`)",
        site.file, site.line, site.column, site.label
    )
}

/// A NULL dereference: the kernel's oops, a fatal BUG finding at `site`.
/// The execution that finding stopped ends at the task's next step (a
/// backend that unwinds a stopped task unwinds there; loom stopped it at
/// the finding's own step): the fault is reached only where neither does.
fn null_deref(site: &SourceSite) -> ! {
    k::null_pointer_dereference();
    k::cond_resched();
    fault(site, "NULL pointer dereference")
}

/// The structs the file has static instances of.
fn static_defs(prog: &Program) -> Vec<usize> {
    prog.statics.iter().map(|s| s.1).collect()
}

impl Rt {
    fn new(prog: Arc<Program>) -> Arc<Rt> {
        let globals = prog
            .globals
            .iter()
            .map(|g| new_slot(&g.name, None, g.ty, g.init, &static_defs(&prog)))
            .collect();
        Arc::new_cyclic(|me| Rt {
            prog,
            globals,
            objects: Mutex::new(HashMap::new()),
            parents: Mutex::new(HashMap::new()),
            me: me.clone(),
        })
    }

    fn alloc(&self, obj: Object, def: usize, name: String) -> Arc<Inst> {
        self.alloc_n(obj, def, name, 1)
    }

    /// `len` elements of struct `def` in one object, as `kcalloc()`
    /// allocates them: `mem0.descs[3].flags` is a cell of `mem0.descs`.
    fn alloc_n(&self, obj: Object, def: usize, name: String, len: usize) -> Arc<Inst> {
        let fields = &self.prog.structs[def].fields;
        let word = self.prog.structs[def].name == WORD_STRUCT;
        let statics = static_defs(&self.prog);
        let mut slots = Vec::with_capacity(fields.len() * len);
        for k in 0..len {
            for (f, ty) in fields {
                let cell = match (word, len) {
                    (true, _) => format!("{name}[{k}]"),
                    (false, 1) => format!("{name}->{f}"),
                    (false, _) => format!("{name}[{k}].{f}"),
                };
                slots.push(new_slot(&cell, Some(obj), *ty, 0, &statics));
            }
        }
        let inst = Arc::new(Inst {
            obj,
            def,
            name,
            slots,
            len,
        });
        host(&self.objects).insert(obj.id().0, Arc::clone(&inst));
        inst
    }
}

/// A field or global of type `ty`; `statics` are the structs with a static
/// instance (ops tables), whose pointers hold the static's index.
fn new_slot(name: &str, owner: Option<Object>, ty: FieldTy, init: i64, statics: &[usize]) -> Slot {
    let name = name.to_string();
    match ty {
        FieldTy::Cell(Ty::Bool) => Slot::Bool(Plain::new(name, owner, init != 0)),
        FieldTy::Cell(Ty::Ptr(PtrTy::Struct(d))) if statics.contains(&d) => {
            Slot::StaticPtr(Plain::new(name, owner, 0))
        }
        FieldTy::Cell(Ty::Ptr(_)) => Slot::Ptr(Plain::new(name, owner, PtrCell::NULL)),
        FieldTy::Cell(Ty::FnPtr(_)) => Slot::FnPtr(Plain::new(name, owner, init)),
        FieldTy::Cell(_) => Slot::Int(Plain::new(name, owner, init)),
        FieldTy::Prim(p) => match p {
            PrimKind::Device => Slot::Device(DevSlot::default()),
            PrimKind::Cdev => Slot::Cdev(CdevSlot::default()),
            PrimKind::Kref => Slot::Kref(Kref::new(name, owner)),
            PrimKind::Rwsem => Slot::Rwsem(RwSemaphore::new_in(name, owner)),
            PrimKind::Mutex => Slot::Mutex(k::Mutex::new(name, owner)),
            PrimKind::Spinlock => Slot::Spinlock(Spinlock::new(name, owner)),
            PrimKind::Srcu => Slot::Srcu(SrcuStruct::new(name)),
            PrimKind::Atomic => Slot::Atomic(Atomic::new(name, owner, init)),
            PrimKind::Completion => Slot::Completion(Completion::new(name, owner)),
            PrimKind::WaitQueue => Slot::WaitQueue(WaitQueueHead::new(name, owner)),
            PrimKind::PercpuRef => Slot::PercpuRef(OnceLock::new()),
        },
    }
}

/// How a cell is accessed.
#[derive(Clone, Copy)]
enum Mode {
    Plain,
    Once,
    Acquire,
    RcuAssign,
    RcuDeref,
}

fn rd<T: CellValue>(p: &Plain<T>, mode: Mode) -> T {
    match mode {
        Mode::Plain => p.read(),
        Mode::Once | Mode::RcuDeref => k::READ_ONCE(p),
        Mode::Acquire | Mode::RcuAssign => k::smp_load_acquire(p),
    }
}

fn wr<T: CellValue>(p: &Plain<T>, v: T, mode: Mode) {
    match mode {
        Mode::Plain => p.write(v),
        Mode::Once | Mode::RcuDeref => k::WRITE_ONCE(p, v),
        Mode::Acquire | Mode::RcuAssign => k::smp_store_release(p, v),
    }
}

/// The interpreter over one execution and one device.
struct Exec<'r> {
    rt: &'r Arc<Rt>,
    ctx: &'r Arc<Ctx>,
}

impl<'r> Exec<'r> {
    fn prog(&self) -> &'r Program {
        &self.rt.prog
    }

    fn call(&self, f: usize, args: Vec<Val>) -> Val {
        let func = &self.prog().funcs[f];
        let mut frame = vec![Val::Int(0); func.nlocals.max(args.len())];
        for (i, a) in args.into_iter().enumerate() {
            frame[i] = a;
        }
        let mut pc = 0;
        let mut ret = Val::Int(0);
        // The function body's guards: the front end refuses a goto into or
        // backwards out of one's scope, so they are released when the
        // function returns.
        let mut held = Vec::new();
        while pc < func.body.len() {
            if let StmtKind::Guard(g, arg) = &func.body[pc].kind {
                held.push(self.guard_take(*g, arg.as_ref(), func.body[pc].site, &mut frame));
                pc += 1;
                continue;
            }
            match self.stmt(&func.body[pc], &mut frame) {
                Flow::Next => pc += 1,
                Flow::Return(v) => {
                    ret = v;
                    break;
                }
                Flow::Goto(l) => pc = func.labels[l],
                Flow::Break | Flow::Continue => {
                    fault(func.body[pc].site, "break or continue outside a loop")
                }
            }
        }
        self.guards_drop(held);
        for slot in &func.stack {
            if let Val::Inst(i) = &frame[*slot] {
                with_source_site(func.site, || k::kfree(i.obj));
            }
        }
        ret
    }

    fn block(&self, stmts: &[Stmt], frame: &mut [Val]) -> Flow {
        let mut held = Vec::new();
        let mut flow = Flow::Next;
        for s in stmts {
            if let StmtKind::Guard(g, arg) = &s.kind {
                held.push(self.guard_take(*g, arg.as_ref(), s.site, frame));
                continue;
            }
            match self.stmt(s, frame) {
                Flow::Next => {}
                other => {
                    flow = other;
                    break;
                }
            }
        }
        self.guards_drop(held);
        flow
    }

    /// `guard(NAME)(lock)`: the lock taken, as the guard class's
    /// constructor does (include/linux/cleanup.h, `DEFINE_GUARD()` and
    /// `DEFINE_LOCK_GUARD_*()` in the lock's header).
    fn guard_take(
        &self,
        g: GuardKind,
        arg: Option<&Expr>,
        site: &'static SourceSite,
        frame: &mut [Val],
    ) -> Held {
        let lock = arg.map_or(Val::Null, |a| {
            with_source_site(site, || self.eval(a, frame))
        });
        let idx = with_source_site(site, || match g {
            GuardKind::Srcu => match self.slot(&lock, site) {
                Slot::Srcu(s) => k::srcu_read_lock(s),
                _ => fault(site, "guard(srcu) of something other than a srcu_struct"),
            },
            GuardKind::Mutex => match self.slot(&lock, site) {
                Slot::Mutex(m) => {
                    k::mutex_lock(m);
                    0
                }
                _ => fault(site, "guard(mutex) of something other than a mutex"),
            },
            GuardKind::Spinlock => match self.slot(&lock, site) {
                Slot::Spinlock(l) => {
                    k::spin_lock(l);
                    0
                }
                _ => fault(site, "guard(spinlock) of something other than a spinlock"),
            },
            GuardKind::RwsemRead | GuardKind::RwsemWrite => match self.slot(&lock, site) {
                Slot::Rwsem(r) if g == GuardKind::RwsemRead => {
                    k::down_read(r);
                    0
                }
                Slot::Rwsem(r) => {
                    k::down_write(r);
                    0
                }
                _ => fault(
                    site,
                    "guard(rwsem_*) of something other than a rw_semaphore",
                ),
            },
            GuardKind::Rcu => {
                k::rcu_read_lock();
                0
            }
            GuardKind::Device => {
                k::device_lock(&self.device(&lock, site));
                0
            }
        });
        Held {
            kind: g,
            lock,
            idx,
            site,
        }
    }

    /// The guards of a scope being left, released last taken first (GCC
    /// runs cleanups "in reverse order of definition", as cleanup.h says).
    fn guards_drop(&self, held: Vec<Held>) {
        for h in held.into_iter().rev() {
            let site = h.site;
            with_source_site(site, || match (h.kind, self.slot_or_rcu(&h)) {
                (GuardKind::Srcu, Some(Slot::Srcu(s))) => k::srcu_read_unlock(s, h.idx),
                (GuardKind::Mutex, Some(Slot::Mutex(m))) => k::mutex_unlock(m),
                (GuardKind::Spinlock, Some(Slot::Spinlock(l))) => k::spin_unlock(l),
                (GuardKind::RwsemRead, Some(Slot::Rwsem(r))) => k::up_read(r),
                (GuardKind::RwsemWrite, Some(Slot::Rwsem(r))) => k::up_write(r),
                (GuardKind::Rcu, _) => k::rcu_read_unlock(),
                (GuardKind::Device, _) => k::device_unlock(&self.device(&h.lock, site)),
                _ => fault(site, "the guard's lock changed type"),
            });
        }
    }

    fn slot_or_rcu<'v>(&'v self, h: &'v Held) -> Option<&'v Slot> {
        match h.kind {
            GuardKind::Rcu | GuardKind::Device => None,
            _ => Some(self.slot(&h.lock, h.site)),
        }
    }

    fn truth(&self, e: &Expr, frame: &mut [Val]) -> bool {
        with_source_site(e.site, || self.eval(e, frame).int() != 0)
    }

    fn stmt(&self, s: &Stmt, frame: &mut [Val]) -> Flow {
        match &s.kind {
            StmtKind::Expr(e) => {
                with_source_site(s.site, || self.eval(e, frame));
                Flow::Next
            }
            StmtKind::Init(slot, e) => {
                if let (ExprKind::StackStruct(_), Val::Inst(old)) = (&e.kind, &frame[*slot]) {
                    // The previous iteration's struct went out of scope.
                    with_source_site(s.site, || k::kfree(old.obj));
                }
                let v = with_source_site(s.site, || self.eval(e, frame));
                frame[*slot] = v;
                Flow::Next
            }
            StmtKind::Return(e) => {
                let v = match e {
                    Some(e) => with_source_site(s.site, || self.eval(e, frame)),
                    None => Val::Int(0),
                };
                Flow::Return(v)
            }
            StmtKind::If(c, a, b) => {
                if self.truth(c, frame) {
                    self.block(a, frame)
                } else {
                    self.block(b, frame)
                }
            }
            StmtKind::While(c, body) => self.looped(s, None, Some(c), None, body, frame),
            StmtKind::DoWhile(body, c) => {
                match self.block(body, frame) {
                    Flow::Break => return Flow::Next,
                    Flow::Next | Flow::Continue => {}
                    other => return other,
                }
                self.looped(s, None, Some(c), None, body, frame)
            }
            StmtKind::For(init, c, step, body) => {
                self.looped(s, Some(init), c.as_ref(), step.as_ref(), body, frame)
            }
            StmtKind::Switch(e, cases, body) => {
                let v = with_source_site(e.site, || self.eval(e, frame)).int();
                let start = cases
                    .iter()
                    .find(|(c, _)| *c == Some(v))
                    .or_else(|| cases.iter().find(|(c, _)| c.is_none()))
                    .map(|(_, i)| *i);
                let Some(start) = start else {
                    return Flow::Next;
                };
                match self.block(&body[start..], frame) {
                    Flow::Break | Flow::Next => Flow::Next,
                    other => other,
                }
            }
            StmtKind::Goto(l) => Flow::Goto(*l),
            StmtKind::Label => Flow::Next,
            StmtKind::Break => Flow::Break,
            StmtKind::Continue => Flow::Continue,
            StmtKind::Block(b) => self.block(b, frame),
            StmtKind::Guard(..) => fault(s.site, "a guard outside a block"),
        }
    }

    fn looped(
        &self,
        s: &Stmt,
        init: Option<&Vec<Stmt>>,
        c: Option<&Expr>,
        step: Option<&Expr>,
        body: &[Stmt],
        frame: &mut [Val],
    ) -> Flow {
        if let Some(init) = init {
            if let f @ (Flow::Return(_) | Flow::Goto(_)) = self.block(init, frame) {
                return f;
            }
        }
        let mut n = 0u64;
        loop {
            n += 1;
            if n > MAX_LOOP {
                fault(
                    s.site,
                    "the loop ran a million iterations without the model ending the execution",
                );
            }
            if let Some(c) = c {
                if !self.truth(c, frame) {
                    return Flow::Next;
                }
            }
            match self.block(body, frame) {
                Flow::Break => return Flow::Next,
                Flow::Next | Flow::Continue => {}
                other => return other,
            }
            if let Some(st) = step {
                with_source_site(st.site, || self.eval(st, frame));
            }
        }
    }

    fn slot<'v>(&'v self, v: &'v Val, site: &SourceSite) -> &'v Slot {
        match v {
            Val::Emb(i, f) | Val::Cell(Some(i), f) => i
                .slots
                .get(*f)
                .unwrap_or_else(|| fault(site, "access past the end of the array")),
            Val::Global(g) | Val::Cell(None, g) => &self.rt.globals[*g],
            Val::Null | Val::Int(0) => null_deref(site),
            _ => fault(site, "not a kernel object or memory cell"),
        }
    }

    fn cell_read(&self, v: &Val, mode: Mode, site: &SourceSite) -> Val {
        match self.slot(v, site) {
            Slot::Int(p) => Val::Int(rd(p, mode)),
            Slot::Bool(p) => Val::Int(i64::from(rd(p, mode))),
            Slot::Ptr(p) => match rd(p, mode).get() {
                None => Val::Null,
                // `struct device *` held in a driver's field.
                Some((o, Some((PARENT_TAG, _)))) => match host(&self.rt.parents).get(&o) {
                    Some(p) => Val::Parent(Arc::clone(p)),
                    None => fault(site, "a pointer to a device the scheme was not given"),
                },
                Some((o, Some((EMB_TAG, f)))) => match host(&self.rt.objects).get(&o) {
                    Some(i) => Val::Emb(Arc::clone(i), f),
                    None => fault(site, "a pointer to an object the scheme did not allocate"),
                },
                Some((o, sub)) => match (host(&self.rt.objects).get(&o), sub) {
                    (Some(i), None) => Val::Inst(Arc::clone(i)),
                    // A pointer to an integer cell (`unsigned long *mask`).
                    (Some(i), Some((t, f))) if Some(t) == self.word() => {
                        Val::Cell(Some(Arc::clone(i)), f)
                    }
                    (Some(i), Some((t, first))) => elem(i, t, first),
                    (None, _) => fault(site, "a pointer to an object the scheme did not allocate"),
                },
            },
            Slot::FnPtr(p) => match rd(p, mode) {
                0 => Val::Null,
                f => Val::Func(usize::try_from(f - 1).unwrap_or(usize::MAX)),
            },
            Slot::StaticPtr(p) => match rd(p, mode) {
                0 => Val::Null,
                s => Val::Static(usize::try_from(s - 1).unwrap_or(usize::MAX)),
            },
            Slot::Atomic(a) => Val::Int(k::atomic_read(a)),
            _ => fault(site, "not a memory cell"),
        }
    }

    fn cell_write(&self, v: &Val, x: Val, mode: Mode, site: &SourceSite) {
        match self.slot(v, site) {
            Slot::Int(p) => wr(p, x.int(), mode),
            Slot::Bool(p) => wr(p, x.int() != 0, mode),
            Slot::Ptr(p) => {
                let o = match x {
                    Val::Null | Val::Int(0) => PtrCell::NULL,
                    Val::Inst(i) => PtrCell::new(i.obj, None)
                        .unwrap_or_else(|| fault(site, "pointer out of the model's range")),
                    Val::Sub(i, t, first) => PtrCell::new(i.obj, Some((t, first)))
                        .unwrap_or_else(|| fault(site, "embedded member out of the model's range")),
                    Val::Emb(i, f) => PtrCell::new(i.obj, Some((EMB_TAG, f)))
                        .unwrap_or_else(|| fault(site, "member out of the model's range")),
                    Val::Parent(p) => {
                        host(&self.rt.parents).insert(p.obj.id().0, Arc::clone(&p));
                        PtrCell::new(p.obj, Some((PARENT_TAG, 0)))
                            .unwrap_or_else(|| fault(site, "device out of the model's range"))
                    }
                    Val::Cell(Some(i), f) => match self.word() {
                        Some(w) => PtrCell::new(i.obj, Some((w, f)))
                            .unwrap_or_else(|| fault(site, "cell out of the model's range")),
                        None => fault(site, "no integer cells in this program"),
                    },
                    _ => fault(site, "only pointers to kzalloc'd structs, their embedded driver structs (`&priv->gc`), their members (`&x->dev`), integer cells, the parent device, or NULL can be stored in a struct field or global"),
                };
                if matches!(mode, Mode::RcuAssign) {
                    k::rcu_assign_pointer(p, o)
                } else {
                    wr(p, o, mode)
                }
            }
            Slot::FnPtr(p) => {
                let f = match x {
                    Val::Null | Val::Int(0) => 0,
                    Val::Func(f) => i64::try_from(f).map_or(0, |f| f + 1),
                    _ => fault(site, "only a function of this file (or NULL) can be stored in a function pointer"),
                };
                wr(p, f, mode)
            }
            Slot::StaticPtr(p) => {
                let s = match x {
                    Val::Null | Val::Int(0) => 0,
                    Val::Static(s) => i64::try_from(s).map_or(0, |s| s + 1),
                    _ => fault(site, "only the address of a static struct of this file (or NULL) can be stored here: the file has a static instance of this struct, and kzalloc'd ones are not modelled"),
                };
                // rcu_assign_pointer() is a release store, as for any cell.
                wr(p, s, mode)
            }
            Slot::Atomic(a) => k::atomic_set(a, x.int()),
            _ => fault(site, "not a memory cell"),
        }
    }

    /// The place of `base->arr[idx]`: bounds-checked, as an index past the
    /// array is a bug the model has no finding for.
    fn field_elem(&self, e: &Expr, frame: &mut [Val]) -> Val {
        let ExprKind::FieldIndex(b, s, first, len, idx) = &e.kind else {
            fault(e.site, "not an array element")
        };
        let base = self.eval(b, frame);
        let i = self.eval(idx, frame).int();
        let i = usize::try_from(i)
            .ok()
            .filter(|i| i < len)
            .unwrap_or_else(|| {
                fault(
                    e.site,
                    &format!("index {i} outside the array's {len} elements"),
                )
            });
        self.field_place(&base, *s, first + i, e.site)
    }

    /// The place of field `f` of the struct `base` points to: a kzalloc'd
    /// instance's slot, or a static struct's global.
    fn field_place(&self, base: &Val, s: usize, f: usize, site: &SourceSite) -> Val {
        match base {
            Val::Static(st) if self.prog().statics[*st].1 == s => {
                Val::Cell(None, self.prog().statics[*st].2 + f)
            }
            Val::Static(_) => fault(site, &self.wrong_struct(s)),
            _ => {
                let (i, f) = self.member(base, s, f, site);
                Val::Cell(Some(i), f)
            }
        }
    }

    /// `INIT_LIST_HEAD(h)`.
    fn list_init(&self, h: &Val, site: &SourceSite) {
        self.cell_write(
            &self.field_place(h, self.list_head(), 0, site),
            h.clone(),
            Mode::Once,
            site,
        );
        self.cell_write(
            &self.field_place(h, self.list_head(), 1, site),
            h.clone(),
            Mode::Plain,
            site,
        );
    }

    /// `__list_add(new, prev, next)`.
    fn list_insert(&self, new: &Val, prev: &Val, next: &Val, site: &SourceSite) {
        self.cell_write(
            &self.field_place(next, self.list_head(), 1, site),
            new.clone(),
            Mode::Plain,
            site,
        );
        self.cell_write(
            &self.field_place(new, self.list_head(), 0, site),
            next.clone(),
            Mode::Plain,
            site,
        );
        self.cell_write(
            &self.field_place(new, self.list_head(), 1, site),
            prev.clone(),
            Mode::Plain,
            site,
        );
        self.cell_write(
            &self.field_place(prev, self.list_head(), 0, site),
            new.clone(),
            Mode::Once,
            site,
        );
    }

    /// The container and slot index of field `f` of the driver struct `v`
    /// points to: a kzalloc'd instance, or a struct embedded in one.
    ///
    /// The pointer must point to a struct `s`: C lets a pointer to a
    /// struct stand for a pointer to its first member (what
    /// `ib_alloc_device()`'s `BUILD_BUG_ON(offsetof(…) != 0)` relies on),
    /// and nothing else, so any other struct is a fault, not a misread.
    fn member(&self, v: &Val, s: usize, f: usize, site: &SourceSite) -> (Arc<Inst>, usize) {
        let (i, mut def, first) = match v {
            Val::Sub(i, t, first) => (i, *t, *first),
            _ => {
                let i = self.inst(v, site);
                (i, i.def, 0)
            }
        };
        while def != s {
            match self.prog().structs[def].embeds.iter().find(|e| e.1 == 0) {
                Some(&(t, _)) => def = t,
                None => fault(site, &self.wrong_struct(s)),
            }
        }
        if first + f >= i.slots.len() {
            // `&p[n]` may be formed (C11 6.5.6p8), not followed.
            fault(site, "access past the end of the array");
        }
        (Arc::clone(i), first + f)
    }

    /// Where struct `s` lies embedded, at any depth, in struct `def`: the
    /// index of its first field among `def`'s.
    fn embed_offsets(&self, def: usize, s: usize) -> Vec<usize> {
        let mut out = Vec::new();
        for &(t, b) in &self.prog().structs[def].embeds {
            if t == s {
                out.push(b);
            }
            out.extend(self.embed_offsets(t, s).into_iter().map(|o| b + o));
        }
        out
    }

    /// The name of slot `f` of `i`'s struct (of its element, in an array).
    fn field_name<'i>(&'i self, i: &Inst, f: usize) -> &'i str {
        let fields = &self.prog().structs[i.def].fields;
        fields
            .get(f % i.stride().max(1))
            .map_or("?", |(n, _)| n.as_str())
    }

    /// The array-of-integers struct's index.
    fn word(&self) -> Option<usize> {
        self.prog()
            .structs
            .iter()
            .position(|d| d.name == WORD_STRUCT)
    }

    /// Where in an array `v` points: a kzalloc'd struct is an array of one,
    /// an integer cell of an integer array is its element. A pointer to a
    /// struct embedded in another, or to a field, is no array element.
    fn array_pos(&self, v: &Val, site: &SourceSite) -> ArrayPos {
        match v {
            Val::Inst(i) => ArrayPos {
                inst: Arc::clone(i),
                slot: 0,
            },
            Val::Sub(i, t, off) if *t == i.def => ArrayPos {
                inst: Arc::clone(i),
                slot: *off,
            },
            Val::Cell(Some(i), f) if Some(i.def) == self.word() => ArrayPos {
                inst: Arc::clone(i),
                slot: *f,
            },
            Val::Null | Val::Int(0) => fault(site, "pointer arithmetic on NULL"),
            _ => fault(
                site,
                "pointer arithmetic on a pointer that is not into an array (kcalloc(), kmalloc_array(), bitmap_zalloc()) or a kzalloc'd struct",
            ),
        }
    }

    /// The pointer `k` elements from `p`: within the array or one past its
    /// end (C11 6.5.6p8: such a pointer may be formed and compared, and a
    /// field access through it is a fault). Anything else is a fault: the
    /// model has no finding for an out-of-bounds pointer, and a scheme that
    /// forms one is wrong.
    fn ptr_offset(&self, p: &Val, k: i64, site: &SourceSite) -> Val {
        let pos = self.array_pos(p, site);
        let stride = pos.inst.stride().max(1);
        let cur = pos.slot / stride;
        let to = i64::try_from(cur)
            .ok()
            .and_then(|c| c.checked_add(k))
            .and_then(|t| usize::try_from(t).ok())
            .filter(|t| *t <= pos.inst.len)
            .unwrap_or_else(|| {
                fault(
                    site,
                    &format!(
                        "index {} outside the array's {} elements",
                        cur as i64 + k,
                        pos.inst.len
                    ),
                )
            });
        let slot = to * stride + pos.slot % stride;
        if Some(pos.inst.def) == self.word() {
            Val::Cell(Some(pos.inst), slot)
        } else {
            elem(&pos.inst, pos.inst.def, slot)
        }
    }

    /// `p[i]`: the element's place (an integer cell) or its address (a
    /// struct), `i` within the array.
    fn ptr_index(&self, e: &Expr, frame: &mut [Val]) -> Val {
        let ExprKind::PtrIndex(p, idx) = &e.kind else {
            fault(e.site, "not an array element")
        };
        let p = self.eval(p, frame);
        let i = self.eval(idx, frame).int();
        let v = self.ptr_offset(&p, i, e.site);
        if let Val::Cell(Some(inst), f) = &v {
            if *f >= inst.slots.len() {
                fault(
                    e.site,
                    &format!("index {i} outside the array's {} elements", inst.len),
                );
            }
        }
        v
    }

    fn wrong_struct(&self, s: usize) -> String {
        format!(
            "the pointer does not point to a struct {}",
            self.prog().structs[s].name
        )
    }

    /// `struct list_head`, which the front end always defines.
    fn list_head(&self) -> usize {
        self.prog()
            .structs
            .iter()
            .position(|d| d.name == "list_head")
            .unwrap_or(usize::MAX)
    }

    fn inst<'v>(&self, v: &'v Val, site: &SourceSite) -> &'v Arc<Inst> {
        match v {
            Val::Inst(i) => i,
            Val::Null | Val::Int(0) => null_deref(site),
            _ => fault(site, "not a pointer to a driver struct"),
        }
    }

    /// The model's device for a `struct device *`.
    fn device(&self, v: &Val, site: &SourceSite) -> Device {
        match v {
            Val::Parent(p) => p.dev.clone(),
            Val::Emb(i, f) => self.emb_device(i, *f, site),
            Val::Null | Val::Int(0) => null_deref(site),
            _ => fault(site, "not a struct device"),
        }
    }

    fn emb_device(&self, i: &Arc<Inst>, f: usize, site: &SourceSite) -> Device {
        let Slot::Device(d) = &i.slots[f] else {
            fault(site, "not a struct device")
        };
        d.dev
            .get_or_init(|| {
                let name = host(&d.name)
                    .clone()
                    .unwrap_or_else(|| format!("{}.{}", i.name, self.field_name(i, f)));
                let rt = self.rt.me.clone();
                let ctx = Arc::downgrade(self.ctx);
                let inst = Arc::downgrade(i);
                // device_release(): the driver's dev->release, read when the
                // last reference goes, as the kernel reads it then.
                let dev = k::device_initialize(name, i.obj, move || {
                    let (Some(rt), Some(ctx), Some(inst)) =
                        (rt.upgrade(), ctx.upgrade(), inst.upgrade())
                    else {
                        return;
                    };
                    let Slot::Device(d) = &inst.slots[f] else {
                        return;
                    };
                    let release = *host(&d.release);
                    if let Some(r) = release {
                        Exec { rt: &rt, ctx: &ctx }.call(r, vec![Val::Emb(Arc::clone(&inst), f)]);
                    }
                });
                if let Some(devt) = host(&d.devt).clone() {
                    dev.set_devt(&devt);
                }
                dev
            })
            .clone()
    }

    fn cdev(&self, v: &Val, site: &SourceSite) -> Cdev {
        let Val::Emb(i, f) = v else {
            fault(site, "not an embedded struct cdev")
        };
        let Slot::Cdev(c) = &i.slots[*f] else {
            fault(site, "not a struct cdev")
        };
        c.cdev
            .get_or_init(|| {
                Cdev::new(
                    format!("{}.{}", self.ctx.prefix, self.field_name(i, *f)),
                    i.obj,
                )
            })
            .clone()
    }

    fn lval_write(&self, e: &Expr, x: Val, frame: &mut [Val]) {
        match &e.kind {
            ExprKind::Local(s) => frame[*s] = x,
            ExprKind::Global(g) => self.cell_write(&Val::Cell(None, *g), x, Mode::Plain, e.site),
            ExprKind::Index(..) => {
                let g = self.element(e, frame);
                self.cell_write(&Val::Cell(None, g), x, Mode::Plain, e.site)
            }
            ExprKind::Field(b, s, f) => {
                let base = self.eval(b, frame);
                let place = self.field_place(&base, *s, *f, e.site);
                self.cell_write(&place, x, Mode::Plain, e.site)
            }
            ExprKind::FieldIndex(..) => {
                let place = self.field_elem(e, frame);
                self.cell_write(&place, x, Mode::Plain, e.site)
            }
            ExprKind::PtrIndex(..) => {
                let place = self.ptr_index(e, frame);
                self.cell_write(&place, x, Mode::Plain, e.site)
            }
            ExprKind::Attr(b, a) => {
                let base = self.eval(b, frame);
                match (a, &base) {
                    (Attr::FilePrivate, Val::File(fc)) => *host(&fc.private_data) = x,
                    (Attr::DevParent, Val::Emb(i, f)) => {
                        let Slot::Device(d) = &i.slots[*f] else {
                            fault(e.site, "not a struct device")
                        };
                        match x {
                            Val::Parent(_) | Val::Emb(..) | Val::Null => *host(&d.parent) = Some(x),
                            _ => fault(e.site, "dev->parent is a struct device"),
                        }
                    }
                    (Attr::DevRelease, Val::Emb(i, f)) => {
                        let Slot::Device(d) = &i.slots[*f] else {
                            fault(e.site, "not a struct device")
                        };
                        *host(&d.release) = match x {
                            Val::Func(fi) => Some(fi),
                            _ => fault(e.site, "dev->release must be a function of this file"),
                        };
                    }
                    (Attr::CdevOps, Val::Emb(i, f)) => {
                        let Slot::Cdev(c) = &i.slots[*f] else {
                            fault(e.site, "not a struct cdev")
                        };
                        *host(&c.ops) = match x {
                            Val::Fops(fi) => Some(fi),
                            _ => fault(
                                e.site,
                                "cdev.ops must be a file_operations table of this file",
                            ),
                        };
                    }
                    (Attr::CdevOwner, _) => {}
                    _ => fault(e.site, "this member cannot be assigned here"),
                }
            }
            _ => fault(e.site, "not assignable"),
        }
    }

    /// The global an `arr[i]` names, the index checked against the length
    /// (an out-of-bounds index is a fault at its line).
    fn element(&self, e: &Expr, frame: &mut [Val]) -> usize {
        let ExprKind::Index(first, len, idx) = &e.kind else {
            fault(e.site, "not an array element")
        };
        let i = self.eval(idx, frame).int();
        if i < 0 || i as usize >= *len {
            fault(
                e.site,
                &format!("index {i} out of bounds of an array of {len}"),
            );
        }
        first + i as usize
    }

    fn eval(&self, e: &Expr, frame: &mut [Val]) -> Val {
        match &e.kind {
            ExprKind::Int(v) => Val::Int(*v),
            ExprKind::Null => Val::Null,
            ExprKind::Str(s) => Val::Str(s.clone()),
            ExprKind::Local(s) => frame[*s].clone(),
            ExprKind::Global(g) => match self.prog().globals[*g].ty {
                FieldTy::Cell(_) => self.cell_read(&Val::Cell(None, *g), Mode::Plain, e.site),
                FieldTy::Prim(_) => Val::Global(*g),
            },
            ExprKind::Index(..) => {
                let g = self.element(e, frame);
                match self.prog().globals[g].ty {
                    FieldTy::Cell(_) => self.cell_read(&Val::Cell(None, g), Mode::Plain, e.site),
                    FieldTy::Prim(_) => Val::Global(g),
                }
            }
            ExprKind::Func(f) => Val::Func(*f),
            ExprKind::Fops(f) => Val::Fops(*f),
            ExprKind::Field(b, s, f) => {
                let base = self.eval(b, frame);
                match e.ty {
                    Ty::Emb(_) => {
                        let (i, f) = self.member(&base, *s, *f, e.site);
                        Val::Emb(i, f)
                    }
                    _ => {
                        let place = self.field_place(&base, *s, *f, e.site);
                        self.cell_read(&place, Mode::Plain, e.site)
                    }
                }
            }
            ExprKind::Static(s) => Val::Static(*s),
            // `p[i]` of structs is the element's address (used as
            // `p[i].field` or `&p[i]`); of integers, the element's value.
            ExprKind::PtrIndex(..) => {
                let place = self.ptr_index(e, frame);
                match e.ty {
                    Ty::Int => self.cell_read(&place, Mode::Plain, e.site),
                    _ => place,
                }
            }
            ExprKind::PtrAdd(p, k) => {
                let p = self.eval(p, frame);
                let k = self.eval(k, frame).int();
                self.ptr_offset(&p, k, e.site)
            }
            // C11 6.5.6p9: both pointers point into the same array (or one
            // past it); pointers into different objects have no difference,
            // and a scheme that subtracts them is wrong: a fault, as the
            // model has no finding for it.
            ExprKind::PtrDiff(a, b) => {
                let a = self.eval(a, frame);
                let b = self.eval(b, frame);
                let (pa, pb) = (self.array_pos(&a, e.site), self.array_pos(&b, e.site));
                if !Arc::ptr_eq(&pa.inst, &pb.inst) {
                    fault(
                        e.site,
                        &format!(
                            "pointer subtraction between two different objects ({} and {}): both must point into the same array",
                            pa.inst.name, pb.inst.name
                        ),
                    );
                }
                let stride = pa.inst.stride().max(1);
                Val::Int((pa.slot / stride) as i64 - (pb.slot / stride) as i64)
            }
            ExprKind::FieldIndex(..) => {
                let place = self.field_elem(e, frame);
                self.cell_read(&place, Mode::Plain, e.site)
            }
            ExprKind::Attr(b, a) => {
                let base = self.eval(b, frame);
                match (a, &base) {
                    (Attr::FilePrivate, Val::File(fc)) => host(&fc.private_data).clone(),
                    (Attr::InodeCdev, Val::Inode(fc)) => fc.i_cdev.clone(),
                    (Attr::DevDevt, Val::Emb(i, f)) => {
                        let Slot::Device(d) = &i.slots[*f] else {
                            fault(e.site, "not a struct device")
                        };
                        match host(&d.devt).clone() {
                            Some(t) => Val::Devt(t),
                            None => Val::Int(0),
                        }
                    }
                    (Attr::DevRelease, Val::Emb(i, f)) => {
                        let Slot::Device(d) = &i.slots[*f] else {
                            fault(e.site, "not a struct device")
                        };
                        host(&d.release).map_or(Val::Null, Val::Func)
                    }
                    (Attr::DevParent, Val::Emb(i, f)) => {
                        let Slot::Device(d) = &i.slots[*f] else {
                            fault(e.site, "not a struct device")
                        };
                        host(&d.parent).clone().unwrap_or(Val::Null)
                    }
                    (Attr::CdevOps, Val::Emb(i, f)) => {
                        let Slot::Cdev(c) = &i.slots[*f] else {
                            fault(e.site, "not a struct cdev")
                        };
                        host(&c.ops).map_or(Val::Null, Val::Fops)
                    }
                    _ => fault(e.site, "this member is not modelled for this object"),
                }
            }
            ExprKind::AddrOf(inner) => match &inner.kind {
                ExprKind::Field(b, s, f) => {
                    let base = self.eval(b, frame);
                    match inner.ty {
                        Ty::Emb(_) => {
                        let (i, f) = self.member(&base, *s, *f, e.site);
                        Val::Emb(i, f)
                    }
                        _ => self.field_place(&base, *s, *f, e.site),
                    }
                }
                ExprKind::Global(g) => match self.prog().globals[*g].ty {
                    FieldTy::Cell(_) => Val::Cell(None, *g),
                    FieldTy::Prim(_) => Val::Global(*g),
                },
                ExprKind::Attr(b, Attr::DevDevt) => match self.eval(b, frame) {
                    Val::Emb(i, f) => Val::DevtOf(i, f),
                    _ => fault(e.site, "&dev->devt of a device the scheme did not allocate"),
                },
                ExprKind::Index(..) => {
                    let g = self.element(inner, frame);
                    match self.prog().globals[g].ty {
                        FieldTy::Cell(_) => Val::Cell(None, g),
                        FieldTy::Prim(_) => Val::Global(g),
                    }
                }
                ExprKind::Attr(..) => self.eval(inner, frame),
                ExprKind::FieldIndex(..) => self.field_elem(inner, frame),
                ExprKind::PtrIndex(..) => self.ptr_index(inner, frame),
                _ => fault(
                    e.site,
                    "cannot take this address (take the address of a field or global)",
                ),
            },
            ExprKind::Unary(op, a) => {
                let v = self.eval(a, frame).int();
                Val::Int(match *op {
                    "!" => i64::from(v == 0),
                    "-" => v.wrapping_neg(),
                    _ => !v,
                })
            }
            ExprKind::Binary(op, a, b) => {
                let x = self.eval(a, frame);
                if *op == "&&" {
                    return Val::Int(i64::from(x.int() != 0 && self.eval(b, frame).int() != 0));
                }
                if *op == "||" {
                    return Val::Int(i64::from(x.int() != 0 || self.eval(b, frame).int() != 0));
                }
                let y = self.eval(b, frame);
                if matches!(*op, "==" | "!=") {
                    let eq = same(&x, &y);
                    return Val::Int(i64::from(eq == (*op == "==")));
                }
                Val::Int(arith(op, x.int(), y.int(), e.site))
            }
            ExprKind::Cond(c, a, b) => {
                if self.eval(c, frame).int() != 0 {
                    self.eval(a, frame)
                } else {
                    self.eval(b, frame)
                }
            }
            ExprKind::Assign(l, op, r) => {
                let v = self.eval(r, frame);
                let v = match op {
                    None => v,
                    Some(op) => {
                        let old = self.eval(l, frame).int();
                        Val::Int(arith(op, old, v.int(), e.site))
                    }
                };
                self.lval_write(l, v.clone(), frame);
                v
            }
            ExprKind::IncDec(l, d, prefix) => {
                let old = self.eval(l, frame).int();
                let new = old.wrapping_add(*d);
                self.lval_write(l, Val::Int(new), frame);
                Val::Int(if *prefix { new } else { old })
            }
            ExprKind::Call(f, args) => {
                let args = args.iter().map(|a| self.eval(a, frame)).collect();
                self.call(*f, args)
            }
            ExprKind::CallPtr(p, args) => {
                let f = match self.eval(p, frame) {
                    Val::Func(f) if f < self.prog().funcs.len() => f,
                    Val::Null | Val::Int(0) => {
                        k::BUG_ON(true);
                        k::cond_resched();
                        fault(e.site, "call through a NULL function pointer")
                    }
                    _ => fault(
                        e.site,
                        "call through a function pointer that holds no function",
                    ),
                };
                let args = args.iter().map(|a| self.eval(a, frame)).collect();
                self.call(f, args)
            }
            ExprKind::ContainerOf(p, s, f) => match self.eval(p, frame) {
                // The allocation, or the array element, the member is in.
                Val::Emb(i, fi) if i.def == *s && fi % i.stride().max(1) == *f => {
                    elem(&i, *s, fi - f)
                }
                // The member of a struct embedded in the allocation.
                Val::Emb(i, fi)
                    if self
                        .embed_offsets(i.def, *s)
                        .iter()
                        .any(|b| b + f == fi % i.stride().max(1)) =>
                {
                    Val::Sub(Arc::clone(&i), *s, fi - f)
                }
                Val::Null => Val::Null,
                _ => fault(
                    e.site,
                    "container_of: the pointer is not that member of that struct",
                ),
            },
            ExprKind::EmbStruct(b, t, first) => {
                let (Ty::Ptr(PtrTy::Struct(c)) | Ty::EmbStruct(c)) = b.ty else {
                    fault(e.site, "not a member of a driver struct")
                };
                let base = self.eval(b, frame);
                let (i, f) = self.member(&base, c, *first, e.site);
                Val::Sub(i, *t, f)
            }
            ExprKind::ContainerOfStruct(p, s, first) => match self.eval(p, frame) {
                Val::Sub(i, _, o) if i.def == *s && o % i.stride().max(1) == *first => {
                    elem(&i, *s, o - first)
                }
                // The member is the container's first: the same address.
                Val::Inst(i) if i.def == *s && *first == 0 => Val::Inst(i),
                Val::Null => Val::Null,
                _ => fault(
                    e.site,
                    "container_of: the pointer is not that member of that struct (a struct allocated on its own, or another member)",
                ),
            },
            // The stack frame as a model object: its fields are cells a
            // callee reads and writes through `&attr`.
            ExprKind::StackStruct(t) => {
                let name = format!("{}.{}", self.ctx.prefix, self.prog().structs[*t].name);
                Val::Inst(self.rt.alloc(k::kzalloc(name.clone()), *t, name))
            }
            ExprKind::SizeOf(Some(s)) => Val::Size(*s),
            ExprKind::SizeOf(None) => Val::Int(8),
            ExprKind::WaitEvent(wq, c) => {
                let wq = self.eval(wq, frame);
                let Slot::WaitQueue(q) = self.slot(&wq, e.site) else {
                    fault(e.site, "not a wait queue")
                };
                k::wait_event(q, || self.eval(c, frame).int() != 0);
                Val::Int(0)
            }
            ExprKind::Builtin(b, args) => self.builtin(*b, args, e, frame),
        }
    }

    fn builtin(&self, b: Builtin, args: &[Expr], e: &Expr, frame: &mut [Val]) -> Val {
        use Builtin as B;
        let site = e.site;
        // Allocation names its object after the variable `sizeof(*x)` names
        // (`mem0.cxlmd`), as the Rust schemes do.
        if matches!(b, B::kzalloc | B::kmalloc | B::devm_kzalloc) {
            let size = &args[if b == B::devm_kzalloc { 1 } else { 0 }];
            // A size a caller computed (`_ib_alloc_device(size)` in
            // drivers/infiniband/core/device.c allocates the driver's
            // struct, whose size `ib_alloc_device()` passes it).
            let s = match size.kind {
                ExprKind::SizeOf(Some(s)) => s,
                _ => match self.eval(size, frame) {
                    Val::Size(s) => s,
                    _ => fault(site, "allocate a struct of this file: kzalloc(sizeof(*p), GFP_KERNEL), kzalloc(sizeof(struct NAME), GFP_KERNEL), or a size parameter a caller passed sizeof(struct NAME)"),
                },
            };
            let var = match size.kind {
                ExprKind::SizeOf(_) => size
                    .site
                    .label
                    .rsplit(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .find(|w| !w.is_empty())
                    .unwrap_or("obj"),
                // A size a caller passed: the struct it is the size of.
                _ => self.prog().structs[s].name.as_str(),
            };
            let name = format!("{}.{var}", self.ctx.prefix);
            let obj = if b == B::devm_kzalloc {
                let dev = self.eval(&args[0], frame);
                let dev = self.device(&dev, site);
                k::devm_kzalloc(&dev, name.clone())
            } else {
                k::kzalloc(name.clone())
            };
            return Val::Inst(self.rt.alloc(obj, s, name));
        }
        if matches!(b, B::kcalloc | B::kmalloc_array | B::bitmap_zalloc) {
            return self.alloc_array(b, args, site, frame);
        }
        if b == B::memset {
            // memset(p, 0, sizeof(*p)), as the front end checked: every
            // cell of the struct written with a plain zero store.
            let (Ty::Ptr(PtrTy::Struct(s)), p) = (args[0].ty, self.eval(&args[0], frame)) else {
                fault(site, "memset of something other than a struct of this file")
            };
            for f in 0..self.prog().structs[s].fields.len() {
                let place = self.field_place(&p, s, f, site);
                self.cell_write(&place, Val::Null, Mode::Plain, site);
            }
            return Val::Int(0);
        }
        let v: Vec<Val> = args.iter().map(|a| self.eval(a, frame)).collect();
        let int = |i: usize| v[i].int();
        macro_rules! slot {
            ($i:expr, $kind:ident) => {
                match self.slot(&v[$i], site) {
                    Slot::$kind(x) => x,
                    _ => fault(site, concat!("expected a ", stringify!($kind))),
                }
            };
        }
        let unit = Val::Int(0);
        let boolean = |b: bool| Val::Int(i64::from(b));
        match b {
            B::kzalloc
            | B::kmalloc
            | B::devm_kzalloc
            | B::kcalloc
            | B::kmalloc_array
            | B::bitmap_zalloc
            | B::memset => unit,
            // bitmap_free() is kfree() (lib/bitmap.c).
            B::kfree | B::bitmap_free => {
                match &v[0] {
                    // A first member has the allocation's address; so has
                    // an array's first element.
                    Val::Inst(i) | Val::Sub(i, _, 0) => k::kfree(i.obj),
                    Val::Cell(Some(i), 0) if Some(i.def) == self.word() => k::kfree(i.obj),
                    Val::Null | Val::Int(0) => {}
                    _ => fault(site, "kfree of something kzalloc did not return"),
                }
                unit
            }
            B::device_initialize => {
                if let Val::Emb(i, f) = &v[0] {
                    if !matches!(i.slots[*f], Slot::Device(_)) {
                        fault(site, "not a struct device");
                    }
                }
                unit
            }
            B::dev_set_name => {
                let Val::Emb(i, f) = &v[0] else {
                    fault(site, "dev_set_name of a device the scheme did not allocate")
                };
                let Slot::Device(d) = &i.slots[*f] else {
                    fault(site, "not a struct device")
                };
                let Val::Str(fmt) = &v[1] else {
                    fault(site, "dev_set_name needs a format string")
                };
                let name = match v.get(2) {
                    Some(a) => fmt.replacen("%d", &a.int().to_string(), 1).replacen(
                        "%u",
                        &a.int().to_string(),
                        1,
                    ),
                    None => fmt.clone(),
                };
                *host(&d.name) = Some(name);
                unit
            }
            B::device_add => {
                k::device_add(&self.device(&v[0], site));
                unit
            }
            B::device_del => {
                k::device_del(&self.device(&v[0], site));
                unit
            }
            B::get_device => {
                k::get_device(&self.device(&v[0], site));
                v[0].clone()
            }
            B::put_device => {
                if !matches!(v[0], Val::Null) {
                    k::put_device(&self.device(&v[0], site));
                }
                unit
            }
            B::device_is_registered => boolean(k::device_is_registered(&self.device(&v[0], site))),
            B::device_lock => {
                k::device_lock(&self.device(&v[0], site));
                unit
            }
            B::device_unlock => {
                k::device_unlock(&self.device(&v[0], site));
                unit
            }
            B::dev_set_drvdata => {
                let Val::Parent(p) = &v[0] else {
                    fault(
                        site,
                        "dev_set_drvdata on a device other than the parent probe got",
                    )
                };
                *host(&p.drvdata) = v[1].clone();
                unit
            }
            B::dev_get_drvdata => {
                let Val::Parent(p) = &v[0] else {
                    fault(
                        site,
                        "dev_get_drvdata on a device other than the parent probe got",
                    )
                };
                let d = host(&p.drvdata).clone();
                d
            }
            B::alloc_chrdev_region => {
                let Val::DevtOf(i, f) = &v[0] else {
                    fault(
                        site,
                        "alloc_chrdev_region(&dev->devt, 0, 1, NAME) stores into a device's devt",
                    )
                };
                let Slot::Device(d) = &i.slots[*f] else {
                    fault(site, "not a struct device")
                };
                let devt = self.alloc_devt();
                if let Some(dev) = d.dev.get() {
                    dev.set_devt(&devt);
                }
                *host(&d.devt) = Some(devt);
                unit
            }
            B::cdev_init => {
                let Val::Fops(f) = v[1] else {
                    fault(site, "cdev_init takes a file_operations table of this file")
                };
                self.cdev(&v[0], site);
                let Slot::Cdev(c) = self.slot(&v[0], site) else {
                    fault(site, "not a struct cdev")
                };
                *host(&c.ops) = Some(f);
                unit
            }
            B::cdev_device_add => {
                let cdev = self.cdev(&v[0], site);
                let dev = self.device(&v[1], site);
                let devt = match dev.devt() {
                    Some(t) => t,
                    None => {
                        let t = self.alloc_devt();
                        dev.set_devt(&t);
                        t
                    }
                };
                k::cdev_device_add(&cdev, &dev);
                *host(&self.ctx.added) = Some((v[0].clone(), Some(devt)));
                unit
            }
            B::cdev_add => {
                let cdev = self.cdev(&v[0], site);
                let devt = match &v[1] {
                    Val::Devt(t) => t.clone(),
                    _ => self.alloc_devt(),
                };
                k::cdev_add(&cdev, &devt);
                *host(&self.ctx.added) = Some((v[0].clone(), Some(devt)));
                unit
            }
            B::cdev_del => {
                k::cdev_del(&self.cdev(&v[0], site));
                unit
            }
            B::cdev_device_del => {
                k::cdev_device_del(&self.cdev(&v[0], site), &self.device(&v[1], site));
                unit
            }
            B::file_inode => match &v[0] {
                Val::File(f) => Val::Inode(Arc::clone(f)),
                _ => fault(site, "file_inode of something other than the open file"),
            },
            B::down_read => {
                k::down_read(slot!(0, Rwsem));
                unit
            }
            B::up_read => {
                k::up_read(slot!(0, Rwsem));
                unit
            }
            B::down_write => {
                k::down_write(slot!(0, Rwsem));
                unit
            }
            B::up_write => {
                k::up_write(slot!(0, Rwsem));
                unit
            }
            B::down_read_trylock => boolean(k::down_read_trylock(slot!(0, Rwsem))),
            B::down_write_trylock => boolean(k::down_write_trylock(slot!(0, Rwsem))),
            B::init_rwsem => {
                slot!(0, Rwsem);
                unit
            }
            B::mutex_init => {
                slot!(0, Mutex);
                unit
            }
            B::mutex_lock => {
                k::mutex_lock(slot!(0, Mutex));
                unit
            }
            B::mutex_unlock => {
                k::mutex_unlock(slot!(0, Mutex));
                unit
            }
            B::mutex_trylock => boolean(k::mutex_trylock(slot!(0, Mutex))),
            B::spin_lock_init => {
                slot!(0, Spinlock);
                unit
            }
            B::spin_lock => {
                k::spin_lock(slot!(0, Spinlock));
                unit
            }
            B::spin_unlock => {
                k::spin_unlock(slot!(0, Spinlock));
                unit
            }
            B::spin_trylock => boolean(k::spin_trylock(slot!(0, Spinlock))),
            // The model has no interrupts: the _irq and _irqsave forms take
            // the lock as spin_lock() does, and `flags` is not written.
            B::spin_lock_irqsave | B::spin_lock_irq => {
                k::spin_lock(slot!(0, Spinlock));
                unit
            }
            B::spin_unlock_irqrestore | B::spin_unlock_irq => {
                k::spin_unlock(slot!(0, Spinlock));
                unit
            }
            B::init_srcu_struct => {
                slot!(0, Srcu);
                unit
            }
            B::cleanup_srcu_struct => {
                slot!(0, Srcu);
                unit
            }
            B::srcu_read_lock => Val::Int(k::srcu_read_lock(slot!(0, Srcu)) as i64),
            B::srcu_read_unlock => {
                k::srcu_read_unlock(slot!(0, Srcu), int(1) as usize);
                unit
            }
            B::synchronize_srcu => {
                k::synchronize_srcu(slot!(0, Srcu));
                unit
            }
            B::rcu_read_lock => {
                k::rcu_read_lock();
                unit
            }
            B::rcu_read_unlock => {
                k::rcu_read_unlock();
                unit
            }
            B::synchronize_rcu => {
                k::synchronize_rcu();
                unit
            }
            B::rcu_assign_pointer => {
                self.cell_write(&v[0], v[1].clone(), Mode::RcuAssign, site);
                unit
            }
            // include/linux/list.h, access for access: the link a list
            // walk loads locklessly (`prev->next`, `head->next` in
            // list_empty()) is written with WRITE_ONCE().
            B::INIT_LIST_HEAD => {
                self.list_init(&v[0], site);
                unit
            }
            B::list_add => {
                let next = self.cell_read(
                    &self.field_place(&v[1], self.list_head(), 0, site),
                    Mode::Plain,
                    site,
                );
                self.list_insert(&v[0], &v[1], &next, site);
                unit
            }
            B::list_add_tail => {
                let prev = self.cell_read(
                    &self.field_place(&v[1], self.list_head(), 1, site),
                    Mode::Plain,
                    site,
                );
                self.list_insert(&v[0], &prev, &v[1], site);
                unit
            }
            B::list_del | B::list_del_init => {
                let e = &v[0];
                let prev = self.cell_read(
                    &self.field_place(e, self.list_head(), 1, site),
                    Mode::Plain,
                    site,
                );
                let next = self.cell_read(
                    &self.field_place(e, self.list_head(), 0, site),
                    Mode::Plain,
                    site,
                );
                self.cell_write(
                    &self.field_place(&next, self.list_head(), 1, site),
                    prev.clone(),
                    Mode::Plain,
                    site,
                );
                self.cell_write(
                    &self.field_place(&prev, self.list_head(), 0, site),
                    next,
                    Mode::Once,
                    site,
                );
                if b == B::list_del_init {
                    self.list_init(e, site);
                } else {
                    // LIST_POISON1/2: the model's NULL, so a use of the
                    // deleted entry's links is a NULL dereference.
                    self.cell_write(
                        &self.field_place(e, self.list_head(), 0, site),
                        Val::Null,
                        Mode::Plain,
                        site,
                    );
                    self.cell_write(
                        &self.field_place(e, self.list_head(), 1, site),
                        Val::Null,
                        Mode::Plain,
                        site,
                    );
                }
                unit
            }
            B::list_empty => {
                let next = self.cell_read(
                    &self.field_place(&v[0], self.list_head(), 0, site),
                    Mode::Once,
                    site,
                );
                boolean(same(&next, &v[0]))
            }
            B::RCU_INIT_POINTER | B::WRITE_ONCE => {
                self.cell_write(&v[0], v[1].clone(), Mode::Once, site);
                unit
            }
            // include/linux/rcupdate.h: rcu_access_pointer() is a
            // READ_ONCE() of the pointer, for a test and not to follow it.
            B::rcu_dereference | B::rcu_dereference_raw | B::READ_ONCE | B::rcu_access_pointer => {
                self.cell_read(&v[0], Mode::RcuDeref, site)
            }
            B::srcu_dereference => {
                // srcu_dereference() is READ_ONCE() plus a lockdep check the
                // model does not need.
                slot!(1, Srcu);
                self.cell_read(&v[0], Mode::RcuDeref, site)
            }
            B::rcu_dereference_protected => self.cell_read(&v[0], Mode::Plain, site),
            B::smp_load_acquire => self.cell_read(&v[0], Mode::Acquire, site),
            B::smp_store_release => {
                self.cell_write(&v[0], v[1].clone(), Mode::Acquire, site);
                unit
            }
            B::smp_mb => {
                k::smp_mb();
                unit
            }
            B::smp_rmb => {
                k::smp_rmb();
                unit
            }
            B::smp_wmb => {
                k::smp_wmb();
                unit
            }
            B::smp_mb__before_atomic => {
                k::smp_mb__before_atomic();
                unit
            }
            B::smp_mb__after_atomic => {
                k::smp_mb__after_atomic();
                unit
            }
            B::barrier | B::might_sleep => unit,
            // vprintk_emit() (kernel/printk/printk.c) reads its arguments
            // to format them, which the evaluation above has done; the
            // message itself is nothing the model checks.
            B::printk => unit,
            // dev_err_probe() (drivers/base/core.c) logs and returns the
            // error it was given, for `return dev_err_probe(dev, rc, …);`.
            B::dev_err_probe => v[1].clone(),
            // The model has no module unload: a module reference
            // (kernel/module/main.c) is always there to take.
            B::try_module_get => boolean(true),
            B::module_put => unit,
            B::atomic_set => {
                k::atomic_set(slot!(0, Atomic), int(1));
                unit
            }
            B::atomic_read => Val::Int(k::atomic_read(slot!(0, Atomic))),
            B::atomic_inc => {
                k::atomic_inc(slot!(0, Atomic));
                unit
            }
            B::atomic_dec => {
                k::atomic_dec(slot!(0, Atomic));
                unit
            }
            B::atomic_inc_return => Val::Int(k::atomic_inc_return(slot!(0, Atomic))),
            B::atomic_dec_return => Val::Int(k::atomic_dec_return(slot!(0, Atomic))),
            B::atomic_dec_and_test => boolean(k::atomic_dec_and_test(slot!(0, Atomic))),
            B::atomic_add_return => Val::Int(k::atomic_add_return(int(0), slot!(1, Atomic))),
            B::atomic_sub_return => Val::Int(k::atomic_sub_return(int(0), slot!(1, Atomic))),
            B::atomic_add_unless => boolean(k::atomic_add_unless(slot!(0, Atomic), int(1), int(2))),
            // include/linux/atomic/atomic-instrumented.h: atomic_add_unless(v, 1, 0).
            B::atomic_inc_not_zero => boolean(k::atomic_add_unless(slot!(0, Atomic), 1, 0)),
            B::set_bit => {
                let (w, nr) = self.bit_word(&v[1], int(0), site);
                k::set_bit(nr, w);
                unit
            }
            B::clear_bit => {
                let (w, nr) = self.bit_word(&v[1], int(0), site);
                k::clear_bit(nr, w);
                unit
            }
            B::test_bit => {
                let (w, nr) = self.bit_word(&v[1], int(0), site);
                boolean(k::test_bit(nr, w))
            }
            B::test_and_set_bit => {
                let (w, nr) = self.bit_word(&v[1], int(0), site);
                boolean(k::test_and_set_bit(nr, w))
            }
            B::test_and_clear_bit => {
                let (w, nr) = self.bit_word(&v[1], int(0), site);
                boolean(k::test_and_clear_bit(nr, w))
            }
            B::xchg => Val::Int(k::xchg(slot!(0, Int), int(1))),
            B::cmpxchg => Val::Int(k::cmpxchg(slot!(0, Int), int(1), int(2))),
            B::kref_init => {
                slot!(0, Kref);
                unit
            }
            B::kref_get => {
                k::kref_get(slot!(0, Kref));
                unit
            }
            B::kref_put => {
                let Val::Func(f) = v[1] else {
                    fault(site, "kref_put's release must be a function of this file")
                };
                let arg = v[0].clone();
                boolean(k::kref_put(slot!(0, Kref), || {
                    self.call(f, vec![arg]);
                }))
            }
            B::kref_get_unless_zero => boolean(k::kref_get_unless_zero(slot!(0, Kref))),
            B::init_completion => {
                slot!(0, Completion);
                unit
            }
            B::complete => {
                k::complete(slot!(0, Completion));
                unit
            }
            B::complete_all => {
                k::complete_all(slot!(0, Completion));
                unit
            }
            B::wait_for_completion => {
                k::wait_for_completion(slot!(0, Completion));
                unit
            }
            B::init_waitqueue_head => {
                slot!(0, WaitQueue);
                unit
            }
            B::wake_up => {
                k::wake_up(slot!(0, WaitQueue));
                unit
            }
            B::percpu_ref_init => {
                let Val::Func(f) = v[1] else {
                    fault(
                        site,
                        "percpu_ref_init's release must be a function of this file",
                    )
                };
                let Val::Emb(i, fi) = &v[0] else {
                    fault(
                        site,
                        "percpu_ref_init of a percpu_ref the scheme did not allocate",
                    )
                };
                let Slot::PercpuRef(cell) = &i.slots[*fi] else {
                    fault(site, "not a percpu_ref")
                };
                let rt = self.rt.me.clone();
                let ctx = Arc::downgrade(self.ctx);
                let inst = Arc::downgrade(i);
                let fi = *fi;
                let name = format!("{}->{}", i.name, self.field_name(i, fi));
                cell.get_or_init(|| {
                    PercpuRef::new(name, Some(i.obj), move || {
                        let (Some(rt), Some(ctx), Some(inst)) =
                            (rt.upgrade(), ctx.upgrade(), inst.upgrade())
                        else {
                            return;
                        };
                        Exec { rt: &rt, ctx: &ctx }.call(f, vec![Val::Emb(inst, fi)]);
                    })
                });
                unit
            }
            B::percpu_ref_tryget_live => {
                boolean(k::percpu_ref_tryget_live(self.percpu(&v[0], site)))
            }
            B::percpu_ref_put => {
                k::percpu_ref_put(self.percpu(&v[0], site));
                unit
            }
            B::percpu_ref_kill => {
                k::percpu_ref_kill(self.percpu(&v[0], site));
                unit
            }
            B::percpu_ref_exit => unit,
            B::cond_resched => {
                k::cond_resched();
                unit
            }
            B::cpu_relax => {
                k::cpu_relax();
                unit
            }
            B::BUG_ON => {
                k::BUG_ON(int(0) != 0);
                unit
            }
            B::WARN_ON => boolean(k::WARN_ON(int(0) != 0)),
            // Branch hints: the condition's truth value.
            B::likely | B::unlikely => boolean(int(0) != 0),
            B::ERR_PTR => Val::Int(int(0)),
            B::IS_ERR => boolean(matches!(v[0], Val::Int(x) if (-4095..0).contains(&x))),
            B::IS_ERR_OR_NULL => boolean(
                matches!(v[0], Val::Null)
                    || matches!(v[0], Val::Int(x) if (-4095..=0).contains(&x)),
            ),
            B::PTR_ERR => Val::Int(int(0)),
        }
    }

    /// `kcalloc(n, size, gfp)`, `kmalloc_array(n, size, gfp)` (zeroed:
    /// the model's cells start at zero), `bitmap_zalloc(nbits, gfp)`: one
    /// model object whose cells are each element's fields, so a race or a
    /// use after `kfree()` is found per field as for a single struct. An
    /// array of structs is returned as its first element, one of integers
    /// as its first cell. The last argument is the name the front end
    /// chose.
    fn alloc_array(&self, b: Builtin, args: &[Expr], site: &SourceSite, frame: &mut [Val]) -> Val {
        let n = self.eval(&args[0], frame).int();
        let word = self
            .word()
            .unwrap_or_else(|| fault(site, "no integer arrays in this program"));
        let (def, len) = if b == Builtin::bitmap_zalloc {
            // include/linux/bitmap.h: BITS_TO_LONGS(nbits) unsigned longs.
            (word, (n + 63).div_euclid(64))
        } else {
            let def = match args[1].kind {
                ExprKind::SizeOf(Some(s)) => s,
                ExprKind::SizeOf(None) => word,
                _ => match self.eval(&args[1], frame) {
                    Val::Size(s) => s,
                    _ => word,
                },
            };
            (def, n)
        };
        let fields = self.prog().structs[def].fields.len().max(1);
        let len = usize::try_from(len)
            .ok()
            .filter(|l| *l > 0 && l * fields < 1 << 16)
            .unwrap_or_else(|| {
                fault(
                    site,
                    &format!("an array of {n} elements: the model has arrays of 1 to {} elements of this struct (a zero-sized allocation returns ZERO_SIZE_PTR, which the model does not have)", (1usize << 16) / fields - 1),
                )
            });
        let var = match args.last().map(|a| &a.kind) {
            Some(ExprKind::Str(s)) => s.as_str(),
            _ => "array",
        };
        let name = format!("{}.{var}", self.ctx.prefix);
        let inst = self.rt.alloc_n(k::kzalloc(name.clone()), def, name, len);
        if def == word {
            Val::Cell(Some(inst), 0)
        } else {
            Val::Inst(inst)
        }
    }

    /// The word of a bitmap bit `nr` is in, and the bit within it: `addr`
    /// is an integer cell, and a bit past its 64 is in the following
    /// words of its array (`BIT_WORD(nr)`, include/linux/bits.h).
    fn bit_word<'v>(&'v self, addr: &'v Val, nr: i64, site: &SourceSite) -> (&'v Plain<i64>, u32) {
        let nr =
            u64::try_from(nr).unwrap_or_else(|_| fault(site, &format!("negative bit number {nr}")));
        let word = usize::try_from(nr / 64).unwrap_or(usize::MAX);
        let bit = (nr % 64) as u32;
        let cell = match (addr, word) {
            (_, 0) => self.slot(addr, site),
            (Val::Cell(Some(i), f), w) if Some(i.def) == self.word() => i
                .slots
                .get(f.saturating_add(w))
                .unwrap_or_else(|| fault(site, &format!("bit {nr} past the end of the bitmap"))),
            _ => fault(site, &format!("bit {nr} past the end of the word")),
        };
        match cell {
            Slot::Int(p) => (p, bit),
            _ => fault(site, "expected an Int"),
        }
    }

    /// `alloc_chrdev_region()`: a new number, or on a rebind the number
    /// the previous binding freed.
    fn alloc_devt(&self) -> DevT {
        match &self.ctx.rebind_devt {
            Some(t) => t.clone(),
            None => k::alloc_chrdev_region(self.ctx.prefix.clone()),
        }
    }

    fn percpu<'v>(&'v self, v: &'v Val, site: &SourceSite) -> &'v PercpuRef {
        match self.slot(v, site) {
            Slot::PercpuRef(c) => match c.get() {
                Some(r) => r,
                None => fault(site, "percpu_ref used before percpu_ref_init()"),
            },
            _ => fault(site, "not a percpu_ref"),
        }
    }
}

/// The pointer to slot `off` of `i` as a struct `t`: the allocation itself
/// when that is its first element.
fn elem(i: &Arc<Inst>, t: usize, off: usize) -> Val {
    if off == 0 && t == i.def {
        Val::Inst(Arc::clone(i))
    } else {
        Val::Sub(Arc::clone(i), t, off)
    }
}

fn same(x: &Val, y: &Val) -> bool {
    match (x, y) {
        (Val::Cell(a, f), Val::Cell(b, g)) => {
            f == g
                && match (a, b) {
                    (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                    (None, None) => true,
                    _ => false,
                }
        }
        (Val::Inst(a), Val::Inst(b)) => Arc::ptr_eq(a, b),
        (Val::Sub(a, _, fa), Val::Sub(b, _, fb)) => Arc::ptr_eq(a, b) && fa == fb,
        (Val::Emb(a, f), Val::Emb(b, g)) => Arc::ptr_eq(a, b) && f == g,
        (Val::Inst(_) | Val::Sub(..) | Val::Emb(..) | Val::Parent(_) | Val::File(_), _)
        | (_, Val::Inst(_) | Val::Sub(..) | Val::Emb(..) | Val::Parent(_) | Val::File(_)) => false,
        _ => x.int() == y.int(),
    }
}

fn arith(op: &str, a: i64, b: i64, site: &SourceSite) -> i64 {
    match op {
        "+" => a.wrapping_add(b),
        "-" => a.wrapping_sub(b),
        "*" => a.wrapping_mul(b),
        "/" | "%" if b == 0 => fault(site, "division by zero"),
        "/" => a.wrapping_div(b),
        "%" => a.wrapping_rem(b),
        "<" => i64::from(a < b),
        "<=" => i64::from(a <= b),
        ">" => i64::from(a > b),
        ">=" => i64::from(a >= b),
        "&" => a & b,
        "|" => a | b,
        "^" => a ^ b,
        "<<" => a.wrapping_shl(b as u32),
        ">>" => a.wrapping_shr(b as u32),
        _ => fault(site, "unsupported operator"),
    }
}

/// One probed device: the workload's view of the interpreted driver.
struct CDriver {
    rt: Arc<Rt>,
    ctx: Arc<Ctx>,
    parent: Arc<Parent>,
    devt: DevT,
    i_cdev: Val,
    fops: usize,
    /// Bookkeeping steps of the rest of a real remove path.
    remove_work: u32,
}

impl CDriver {
    fn exec(&self) -> Exec<'_> {
        Exec {
            rt: &self.rt,
            ctx: &self.ctx,
        }
    }

    /// The driver's view of an open file: `file->private_data` lives in
    /// the model's file, set up at open.
    fn file(&self, file: &File) -> Arc<FileCtx> {
        match file.private_data::<FileCtx>() {
            Some(f) => f,
            None => {
                let f = Arc::new(FileCtx {
                    private_data: Mutex::new(Val::Null),
                    i_cdev: self.i_cdev.clone(),
                });
                file.set_private_data(Arc::clone(&f));
                f
            }
        }
    }

    fn fops(&self) -> &Fops {
        &self.rt.prog.fops[self.fops]
    }

    /// `read`/`write`: `(file, buf, count, ppos)`, the user buffer NULL
    /// (the model copies nothing).
    fn rw(&self, f: Option<usize>, file: &File, count: usize) -> i64 {
        match f {
            Some(f) => {
                let fc = self.file(file);
                self.exec()
                    .call(
                        f,
                        vec![Val::File(fc), Val::Null, Val::Int(count as i64), Val::Null],
                    )
                    .int()
            }
            None => -crate::workload::EINVAL,
        }
    }

    fn unbind(&self, remove: usize) {
        // The driver core's unbind (device_release_driver()): the driver's
        // remove, then devres frees what probe allocated with devm_*, then
        // the bus drops its reference on the parent.
        k::device_release_driver(&self.parent.dev, || {
            for _ in 0..self.remove_work {
                k::cond_resched();
            }
            self.exec()
                .call(remove, vec![Val::Parent(Arc::clone(&self.parent))]);
        });
        k::put_device(&self.parent.dev);
    }
}

impl Driver for CDriver {
    fn devt(&self) -> &DevT {
        &self.devt
    }

    fn open(&self, file: &File) -> Result<(), i64> {
        let f = self.file(file);
        match self.fops().open {
            None => Ok(()),
            Some(open) => {
                let rc = self
                    .exec()
                    .call(open, vec![Val::Inode(Arc::clone(&f)), Val::File(f)])
                    .int();
                if rc < 0 {
                    Err(rc)
                } else {
                    Ok(())
                }
            }
        }
    }

    fn ioctl(&self, file: &File, cmd: u32, arg: u64) -> i64 {
        let f = self.file(file);
        match self.fops().ioctl {
            Some(ioctl) => self
                .exec()
                .call(
                    ioctl,
                    vec![Val::File(f), Val::Int(i64::from(cmd)), Val::Int(arg as i64)],
                )
                .int(),
            // vfs_ioctl(): no ->unlocked_ioctl is -ENOTTY.
            None => -25,
        }
    }

    fn read(&self, file: &File, count: usize) -> i64 {
        self.rw(self.fops().read, file, count)
    }

    fn write(&self, file: &File, count: usize) -> i64 {
        self.rw(self.fops().write, file, count)
    }

    fn release(&self, file: &File) {
        let f = self.file(file);
        if let Some(release) = self.fops().release {
            self.exec()
                .call(release, vec![Val::Inode(Arc::clone(&f)), Val::File(f)]);
        }
    }

    fn remove(&self) {
        let remove = self.rt.prog.remove;
        with_source_site(self.rt.prog.unbind_site, || self.unbind(remove));
    }
}

/// The scheme's globals for one execution, and the [`Probe`] that binds
/// device `index` with the scheme's probe function (on a rebind, with the
/// device number the previous binding had).
pub fn probe(prog: &Arc<Program>, wl: &Workload) -> Probe {
    let rt = Rt::new(Arc::clone(prog));
    let remove_work = wl.remove_work;
    probe_fn(move |index, devt| bind(&rt, index, devt, remove_work))
}

fn bind(rt: &Arc<Rt>, index: u32, devt: Option<&DevT>, remove_work: u32) -> Arc<dyn Driver> {
    let prog = &rt.prog;
    let probe_site = prog.funcs[prog.probe].site;
    let prefix = format!("mem{index}");
    let pobj = k::kzalloc(format!("{prefix}.parent"));
    let pdev = k::device_initialize(format!("{prefix}.parent"), pobj, move || k::kfree(pobj));
    let parent = Arc::new(Parent {
        obj: pobj,
        dev: pdev,
        drvdata: Mutex::new(Val::Null),
    });
    let ctx = Arc::new(Ctx {
        prefix,
        added: Mutex::new(None),
        rebind_devt: devt.cloned(),
    });
    let exec = Exec { rt, ctx: &ctx };
    let rc = exec
        .call(prog.probe, vec![Val::Parent(Arc::clone(&parent))])
        .int();
    if rc != 0 {
        fault(
            probe_site,
            &format!("probe of device {index} failed with {rc}"),
        );
    }
    let added = host(&ctx.added).clone();
    let Some((cdev_val, Some(devt))) = added else {
        fault(
            probe_site,
            "probe added no character device (call cdev_device_add(&x->cdev, &x->dev))",
        )
    };
    let fops = match &cdev_val {
        Val::Emb(inst, f) => match &inst.slots[*f] {
            Slot::Cdev(c) => *host(&c.ops),
            _ => None,
        },
        _ => None,
    };
    let Some(fops) = fops else {
        fault(probe_site, "the cdev probe added has no file operations (call cdev_init(&x->cdev, &NAME_fops) or set x->cdev.ops)")
    };
    Arc::new(CDriver {
        rt: Arc::clone(rt),
        ctx,
        parent,
        devt,
        i_cdev: cdev_val,
        fops,
        remove_work,
    })
}
