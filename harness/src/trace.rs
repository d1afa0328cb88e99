//! The trace: one [`Event`] per model operation an execution performed, in
//! the order the scheduler ran them. Reports draw their race diagram from it.

use std::fmt;
use std::panic::Location;

/// A value read or written by a model operation, typed for display.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    /// A boolean flag such as `kobj.state_in_sysfs`.
    Bool(bool),
    /// An integer: a counter, an index, a return code.
    Int(i64),
    /// A pointer to a model object, or NULL.
    Ptr(Option<ObjectId>),
}

/// Identifies a model object (a heap allocation with a lifetime).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId(pub u32);

/// Identifies a synchronisation primitive or memory cell in the world.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PrimId(pub u32);

/// What an event acted on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Nothing named (a task starting, a fence).
    None,
    /// A primitive or cell, by id (its name is in the world's table).
    Prim(PrimId),
    /// A model object, by id.
    Object(ObjectId),
}

/// One model operation as it happened.
#[derive(Clone, Copy, Debug)]
pub struct Event {
    /// Index of the task that performed it.
    pub task: usize,
    /// The kernel-named operation (`down_read`, `READ_ONCE`, `kfree`, …).
    pub op: &'static str,
    /// What it acted on.
    pub target: Target,
    /// The value read, written or returned, if any.
    pub value: Option<Value>,
    /// Where in the scenario source the operation was called.
    pub site: Site,
    /// Whether the event only records bookkeeping (shown in full traces, not
    /// in race diagrams unless a finding names it).
    pub minor: bool,
    /// Whether the operation blocked (the task parked, to retry when woken).
    pub blocked: bool,
    /// The event whose operation ran the callback this operation belongs to
    /// (the `kref_put()` whose last reference ran the release, the devres
    /// release running a devm action): the call chain above a callback's own
    /// site, as the stack of a KASAN report would show it.
    pub caller: Option<usize>,
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Ptr(None) => write!(f, "NULL"),
            Value::Ptr(Some(o)) => write!(f, "obj#{}", o.0),
        }
    }
}

/// A short `file:line` for a call site, without the directories: the
/// interpreted source's position when an interpreter supplied one.
pub fn short_site(site: Site) -> String {
    ShortSite(site).to_string()
}

/// [`short_site`] as a value that writes itself: a finding's signature is
/// built from its sites at every execution that finds it, without a string
/// per site.
#[derive(Clone, Copy)]
pub(crate) struct ShortSite(pub(crate) Site);

impl fmt::Display for ShortSite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (file, line) = match self.0.source {
            Some(src) => (src.file.as_str(), src.line),
            None => (self.0.location.file(), self.0.location.line()),
        };
        let file = file.rsplit(['/', '\\']).next().unwrap_or(file);
        write!(f, "{file}:{line}")
    }
}

/// A position in a source file that an interpreter runs (a kernel-C
/// scheme): the Rust call site of a model operation is the interpreter's,
/// so reports would name the interpreter instead of the driver's line.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SourceSite {
    /// The source file, as the user named it.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// The source text of the expression being evaluated (`down_read(&sem)`),
    /// drawn in race diagrams beside the model's rendering.
    pub label: String,
}

/// Where a model operation was called: the Rust caller (`#[track_caller]`
/// chains end at the scheme's line) and, for an interpreted scheme, the
/// source position the interpreter supplied with [`with_source_site`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Site {
    /// The Rust call site.
    pub location: &'static Location<'static>,
    /// The interpreted source's position, if an interpreter supplied one.
    pub source: Option<&'static SourceSite>,
}

thread_local! {
    /// The source sites interpreters supplied, per task index (tasks of one
    /// execution share the OS thread under the shuttle backend, so the
    /// override is keyed by task, not by thread).
    static SOURCE_SITES: std::cell::RefCell<Vec<(usize, &'static SourceSite)>> =
        const { std::cell::RefCell::new(Vec::new()) };
    /// Whether `SOURCE_SITES` holds anything: read at every step, and a
    /// plain `Cell` needs no destructor registration, so the check is one
    /// load where a borrow of the vector would be a call.
    static SOURCE_SITES_BUSY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

impl Site {
    /// The caller's site, with the running task's supplied source site.
    #[track_caller]
    #[inline]
    pub fn caller() -> Site {
        let location = Location::caller();
        // Inlined at every step: only an interpreter's steps look further.
        let source = if SOURCE_SITES_BUSY.with(std::cell::Cell::get) {
            supplied_source_site()
        } else {
            None
        };
        Site { location, source }
    }
}

/// The innermost source site an interpreter supplied to the running task.
#[inline(never)]
fn supplied_source_site() -> Option<&'static SourceSite> {
    let me = crate::world::current_task();
    SOURCE_SITES.with(|s| {
        s.borrow()
            .iter()
            .rev()
            .find(|(t, _)| *t == me)
            .map(|(_, src)| *src)
    })
}

/// Forget every supplied source site, as an execution starts: a task whose
/// execution was abandoned (shuttle leaks the stacks of the tasks a
/// deadlock or a hang leaves) never popped its own, and a task of the next
/// execution with the same index would report its steps at them.
pub(crate) fn clear_source_sites() {
    SOURCE_SITES.with(|s| s.borrow_mut().clear());
    SOURCE_SITES_BUSY.with(|b| b.set(false));
}

/// Run `f` (model operations an interpreter performs for one source
/// expression) with `src` as the site of every step the running task takes
/// in it, instead of the interpreter's own Rust line. Nested calls stack: a
/// driver function called from `f` supplies its own sites. `src` is
/// interned by the caller (leaked once per source position).
pub fn with_source_site<R>(src: &'static SourceSite, f: impl FnOnce() -> R) -> R {
    struct Pop(usize);
    impl Drop for Pop {
        fn drop(&mut self) {
            // Popped on unwind too: a stopped execution unwinds through
            // the interpreter.
            SOURCE_SITES.with(|s| {
                let mut s = s.borrow_mut();
                if let Some(i) = s.iter().rposition(|(t, _)| *t == self.0) {
                    s.remove(i);
                }
                SOURCE_SITES_BUSY.with(|b| b.set(!s.is_empty()));
            });
        }
    }
    let me = crate::world::current_task();
    SOURCE_SITES.with(|s| s.borrow_mut().push((me, src)));
    SOURCE_SITES_BUSY.with(|b| b.set(true));
    let _pop = Pop(me);
    f()
}

/// The text of an event as a kernel developer would write the operation:
/// `down_read(&cxl_memdev_rwsem)`, `mem0.kobj.state_in_sysfs == true`,
/// `WRITE_ONCE(mem0.cxlmd->alive, false)`, `kfree(mem0.cxlm)`.
///
/// `target` is the name of what the event acted on (empty for none),
/// `is_object` whether that is a model object rather than a primitive or
/// cell, `value` the value read, written or returned, already rendered.
///
/// An `op` of the form `helper() =` or `helper() ==` is a plain store or load
/// made inside a kernel helper, drawn as `helper()  [cell = value]`, the way
/// commit messages annotate `cdev_device_del()  [state_in_sysfs = false]`.
pub fn event_text(
    op: &str,
    target: &str,
    is_object: bool,
    value: Option<&str>,
    blocked: bool,
) -> String {
    let v = value.unwrap_or("?");
    let mut text = match (op, is_object) {
        (_, _) if target.is_empty() => format!("{op}()"),
        ("read", true) => format!("access to *{target}"),
        ("write", true) => format!("write to *{target}"),
        ("kzalloc", true) => format!("{target} = kzalloc()"),
        (_, true) => format!("{op}({target})"),
        _ if op.ends_with("() =") || op.ends_with("() ==") => {
            let (helper, sep) = op.split_once(' ').unwrap_or((op, "="));
            format!("{helper}  [{target} {sep} {v}]")
        }
        ("read", false) => format!("{target} == {v}"),
        ("write", false) => format!("{target} = {v}"),
        ("READ_ONCE" | "srcu_dereference" | "rcu_dereference", false) => {
            format!("{op}({target}) == {v}")
        }
        ("smp_load_acquire" | "atomic_read" | "atomic_inc_return", false) => {
            format!("{op}(&{target}) == {v}")
        }
        ("WRITE_ONCE" | "rcu_assign_pointer", false) => format!("{op}({target}, {v})"),
        ("smp_store_release", false) => format!("{op}(&{target}, {v})"),
        _ if op.starts_with("xchg") || op.starts_with("cmpxchg") => {
            format!("{op}(&{target})  [{target} == {v}]")
        }
        _ => {
            // "synchronize_srcu: flip" → "synchronize_srcu(&ss): flip"
            let (head, tail) = op
                .split_once(": ")
                .map_or((op, None), |(h, t)| (h, Some(t)));
            let mut t = format!("{head}(&{target})");
            if let Some(tail) = tail {
                t.push_str(": ");
                t.push_str(tail);
            }
            if let Some(v) = value {
                t.push_str(" -> ");
                t.push_str(v);
            }
            t
        }
    };
    if blocked {
        text.push_str(" ... waits");
    }
    text
}
