//! Names of model objects, primitives and tasks, made without formatting.
//!
//! A scenario builds its whole driver model again in every execution:
//! `mem0`, `mem0.cxlmd`, `mem0.kobj.kref`, `user1`, … Formatting those
//! names each time (an allocation, a format and a free per name, a few
//! dozen per execution) cost more than the steps of a small scenario.
//! The names only matter when a report is printed, and they are the same
//! in every execution of a scenario, so each distinct name is made once
//! per thread and kept (`&'static str`); later executions look it up by
//! what it is made of — the addresses of its `'static` parts and the
//! index — without touching its text.
//!
//! What is kept is bounded by the distinct names the scenarios of a
//! thread make (their structure times their workload's devices and
//! tasks), not by the executions run.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;

/// What a kept name is made of: the address and length of its first part,
/// and either an index (`d` = [`Key::INDEXED`]) or the address and length
/// of a suffix. Parts are `'static`, so an address names one text forever.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    a: usize,
    b: usize,
    c: usize,
    d: usize,
}

impl Key {
    /// No real key: its first part's address is null.
    const EMPTY: Key = Key {
        a: 0,
        b: 0,
        c: 0,
        d: 0,
    };
    /// `d` of an indexed name (no suffix is that long).
    const INDEXED: usize = usize::MAX;

    /// The key's slot in the front cache: one multiply, not a hash of
    /// every word.
    fn slot(&self) -> usize {
        let x = self.a ^ self.b.rotate_left(13) ^ self.c.rotate_left(29) ^ self.d.rotate_left(47);
        ((x as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - FRONT_BITS)) as usize
    }
}

const FRONT_BITS: u32 = 7;

/// The kept names: a two-way front cache over the table of all of them. A
/// scenario makes a few dozen names per execution, so nearly every lookup
/// is answered by the front. Two ways: two names of a scenario whose keys
/// share a slot would otherwise evict each other in every execution, and
/// send each other to the table (a hash of four words and a probe, several
/// times a slot's check) every time.
struct Names {
    front: [(Key, &'static str); 1 << FRONT_BITS],
    table: HashMap<Key, &'static str, foldhash::fast::FixedState>,
}

thread_local! {
    static NAMES: RefCell<Names> = const {
        RefCell::new(Names {
            front: [(Key::EMPTY, ""); 1 << FRONT_BITS],
            table: HashMap::with_hasher(foldhash::fast::FixedState::with_seed(0)),
        })
    };
}

fn keep(key: Key, make: impl Fn() -> String) -> &'static str {
    // `NAMES` by address, then the lookup: a `with` around the whole
    // lookup is compiled as a call that reaches the thread-local through a
    // function pointer, which cost more than a front hit itself.
    let names = NAMES.with(|n| n as *const RefCell<Names>);
    // SAFETY: `with` returned, so `NAMES` is alive on this thread, and it
    // is destroyed only as the thread exits, never during this call; the
    // `RefCell` checks borrows as before.
    let mut n = unsafe { &*names }.borrow_mut();
    let slot = key.slot();
    if n.front[slot].0 == key {
        return n.front[slot].1;
    }
    // The slot's other way (slots pair up as `2k`, `2k + 1`).
    if n.front[slot ^ 1].0 == key {
        return n.front[slot ^ 1].1;
    }
    n.miss(key, slot, &make)
}

impl Names {
    /// A name the front does not hold: from the table (made and kept the
    /// first time), then into the front. Out of line and not generic, so
    /// that the hit path inlined at every call stays small.
    #[cold]
    #[inline(never)]
    fn miss(&mut self, key: Key, slot: usize, make: &dyn Fn() -> String) -> &'static str {
        let name = match self.table.get(&key) {
            Some(name) => *name,
            None => {
                let name: &'static str = Box::leak(make().into_boxed_str());
                self.table.insert(key, name);
                name
            }
        };
        // The slot's last occupant moves to the other way, where it is
        // still found.
        self.front[slot ^ 1] = self.front[slot];
        self.front[slot] = (key, name);
        name
    }
}

/// `{prefix}{index}`: `indexed("mem", 0)` is `"mem0"`, `indexed("user",
/// 1)` is `"user1"`.
pub fn indexed(prefix: &'static str, index: u32) -> &'static str {
    let key = Key {
        a: prefix.as_ptr() as usize,
        b: prefix.len(),
        c: index as usize,
        d: Key::INDEXED,
    };
    keep(key, || format!("{prefix}{index}"))
}

/// `{parent}{suffix}`: `child("mem0", ".cxlmd")` is `"mem0.cxlmd"`.
pub fn child(parent: &'static str, suffix: &'static str) -> &'static str {
    let key = Key {
        a: parent.as_ptr() as usize,
        b: parent.len(),
        c: suffix.as_ptr() as usize,
        d: suffix.len(),
    };
    keep(key, || format!("{parent}{suffix}"))
}

/// [`child`] of a name that may have been formatted by its caller: a
/// `'static` name is looked up, an owned one formatted as before.
// `&Cow`, not `&str`: whether the name is `'static` decides whether it can
// be kept.
#[allow(clippy::ptr_arg)]
pub fn child_of(parent: &Cow<'static, str>, suffix: &'static str) -> Cow<'static, str> {
    match parent {
        Cow::Borrowed(p) => Cow::Borrowed(child(p, suffix)),
        Cow::Owned(p) => Cow::Owned(format!("{p}{suffix}")),
    }
}

/// `{prefix}{name}{suffix}` (`cdev_map[mem0]`): [`child`] with a prefix as
/// well.
#[allow(clippy::ptr_arg)] // as for `child_of`
pub fn wrapped(
    prefix: &'static str,
    name: &Cow<'static, str>,
    suffix: &'static str,
) -> Cow<'static, str> {
    match name {
        Cow::Borrowed(n) => Cow::Borrowed(child(child(prefix, n), suffix)),
        Cow::Owned(n) => Cow::Owned(format!("{prefix}{n}{suffix}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_as_formatted_and_are_made_once() {
        let a = indexed("mem", 3);
        assert_eq!(a, "mem3");
        assert!(std::ptr::eq(a, indexed("mem", 3)), "kept, not made again");
        assert_eq!(indexed("mem", 4), "mem4");
        let c = child(a, ".cxlmd");
        assert_eq!(c, "mem3.cxlmd");
        assert!(std::ptr::eq(c, child(indexed("mem", 3), ".cxlmd")));
        assert_eq!(
            wrapped("cdev_map[", &Cow::Borrowed(a), "]"),
            "cdev_map[mem3]"
        );
        assert_eq!(
            child_of(&Cow::Owned("x".to_string()), ".kobj.kref"),
            "x.kobj.kref"
        );
    }
}
