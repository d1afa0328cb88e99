//! Interleaving feedback for coverage-guided schedule fuzzing.
//!
//! Code coverage cannot tell two interleavings of the same code apart: every
//! schedule of a scenario runs the same lines. What distinguishes them is
//! *who ran next to whom*. This module turns a finished execution into a set
//! of interleaving features, each a 64-bit hash, that a fuzzer adds to its
//! coverage map (libFuzzer's extra counters, in `fuzz/`):
//!
//! * **switch pairs**: two consecutive events of *different* tasks,
//!   `(role a, site a) -> (role b, site b)`: where one task stopped and
//!   which operation of which other task ran next;
//! * **communication pairs**: an access to an object or cell and the last
//!   access to the same object by *another* task, `(role, site) ~> (role,
//!   site)` on that object: an approximation of "which write each read
//!   observed" that also sees a free followed by a late use;
//! * **preemptions**: the number of preemptions of the execution, so deeper
//!   schedules count as new.
//!
//! Features are derived from call sites (`file.rs:LINE`), task *roles* (a
//! task name without its trailing number: `user0` and `user1` are both
//! `user`, so symmetric schedules share features) and object names, never
//! from addresses or task ids, so they are the same in every run and every
//! build of the same source.

use crate::engine::ExecutionRecord;
use crate::trace::{Site, Target};
use crate::world::World;

/// The kinds of interleaving features, mixed into their hashes so that the
/// families never collide by construction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum FeatureKind {
    /// Consecutive events of different tasks.
    Switch = 1,
    /// An access and the previous access of another task to the same object.
    Communication = 2,
    /// The execution's preemption count.
    Preemptions = 3,
}

/// FNV-1a, chosen because it is tiny, has no per-process random state (unlike
/// the standard library's hasher) and is stable across Rust versions.
#[derive(Clone, Copy)]
struct Fnv(u64);

impl Fnv {
    fn new(kind: FeatureKind) -> Self {
        Fnv(0xcbf2_9ce4_8422_2325).byte(kind as u8)
    }

    fn byte(self, b: u8) -> Self {
        Fnv((self.0 ^ b as u64).wrapping_mul(0x0100_0000_01b3))
    }

    /// A string followed by a separator, so `("ab", "c")` and `("a", "bc")`
    /// hash differently.
    fn str(self, s: &str) -> Self {
        s.bytes().fold(self, Fnv::byte).byte(0xff)
    }
}

/// A task's role: its name without the trailing instance number.
pub fn role(task_name: &str) -> &str {
    task_name.trim_end_matches(|c: char| c.is_ascii_digit())
}

/// Call `feature` once per interleaving feature of `record`, with its kind
/// (repeats included: a fuzzer's hit counters see how often a pair
/// occurred).
pub fn for_each_feature(record: &ExecutionRecord, mut feature: impl FnMut(FeatureKind, u64)) {
    let role_of = |task: usize| record.tasks.get(task).map_or("?", |n| role(n));
    // The last access per object: (object, task, site). Scenarios touch a
    // handful of objects, so a linear scan beats hashing.
    let mut last: Vec<(&str, usize, &str)> = Vec::new();
    let mut previous: Option<(usize, &str)> = None;
    for ev in &record.events {
        if let Some((task, site)) = previous {
            if task != ev.task {
                let h = Fnv::new(FeatureKind::Switch)
                    .str(role_of(task))
                    .str(site)
                    .str(role_of(ev.task))
                    .str(&ev.site);
                feature(FeatureKind::Switch, h.0);
            }
        }
        previous = Some((ev.task, &ev.site));
        let object = ev.target.as_str();
        if object.is_empty() {
            continue;
        }
        match last.iter_mut().find(|(o, _, _)| *o == object) {
            Some(slot) => {
                if slot.1 != ev.task {
                    let h = Fnv::new(FeatureKind::Communication)
                        .str(object)
                        .str(role_of(slot.1))
                        .str(slot.2)
                        .str(role_of(ev.task))
                        .str(&ev.site);
                    feature(FeatureKind::Communication, h.0);
                }
                *slot = (object, ev.task, &ev.site);
            }
            None => last.push((object, ev.task, &ev.site)),
        }
    }
    let h = Fnv::new(FeatureKind::Preemptions).str(&record.preemptions.to_string());
    feature(FeatureKind::Preemptions, h.0);
}

/// The features of the execution the world holds, as
/// [`for_each_feature`] computes them from its record but straight from the
/// raw trace, without rendering it: the engine computes them after every
/// execution for the schedulers that learn from them. Sites are hashed as
/// their full file path and line (not the short form a record keeps), so
/// the hashes differ from [`for_each_feature`]'s; they are the same in every
/// run of the same build.
pub(crate) fn world_features(w: &World, preemptions: u32, out: &mut Vec<u64>) {
    // An interpreted scheme's steps all run at the interpreter's Rust lines:
    // its own source position is what tells its sites apart.
    let site = |h: Fnv, s: Site| {
        let (file, line) = match s.source {
            Some(src) => (src.file.as_str(), src.line),
            None => (s.location.file(), s.location.line()),
        };
        line.to_le_bytes().into_iter().fold(h.str(file), Fnv::byte)
    };
    let role_of = |task: usize| role(w.task_name(task));
    let mut last: Vec<(Target, usize, Site)> = Vec::new();
    let mut previous: Option<(usize, Site)> = None;
    for ev in w.trace() {
        if let Some((task, s)) = previous {
            if task != ev.task {
                let h = Fnv::new(FeatureKind::Switch).str(role_of(task));
                let h = site(h, s).str(role_of(ev.task));
                out.push(site(h, ev.site).0);
            }
        }
        previous = Some((ev.task, ev.site));
        if ev.target == Target::None {
            continue;
        }
        match last.iter_mut().find(|(t, _, _)| *t == ev.target) {
            Some(slot) => {
                if slot.1 != ev.task {
                    let h = Fnv::new(FeatureKind::Communication)
                        .str(&w.target_name(ev.target))
                        .str(role_of(slot.1));
                    let h = site(h, slot.2).str(role_of(ev.task));
                    out.push(site(h, ev.site).0);
                }
                *slot = (ev.target, ev.task, ev.site);
            }
            None => last.push((ev.target, ev.task, ev.site)),
        }
    }
    let h = Fnv::new(FeatureKind::Preemptions).str(&preemptions.to_string());
    out.push(h.0);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RenderedEvent;

    /// An access by `task` to `target` (the text plays no part).
    fn ev(task: usize, target: &str, site: &str) -> RenderedEvent {
        RenderedEvent {
            task,
            text: format!("access to *{target}"),
            site: site.into(),
            minor: false,
            target: target.into(),
        }
    }

    fn record(events: Vec<RenderedEvent>) -> ExecutionRecord {
        ExecutionRecord {
            seed: 0,
            index: 0,
            findings: Vec::new(),
            tasks: vec![
                "init".into(),
                "user0".into(),
                "user1".into(),
                "remove".into(),
            ],
            events,
            schedule: Vec::new(),
            byte_schedule: Vec::new(),
            preemptions: 1,
            steps: 0,
            replay_explorer: None,
        }
    }

    fn features(r: &ExecutionRecord) -> Vec<u64> {
        let mut v = Vec::new();
        for_each_feature(r, |_, h| v.push(h));
        v
    }

    #[test]
    fn roles_drop_instance_numbers() {
        assert_eq!(role("user12"), "user");
        assert_eq!(role("remove"), "remove");
    }

    #[test]
    fn symmetric_tasks_share_features_and_order_matters() {
        let a = record(vec![
            ev(1, "mem0.cxlm", "x.rs:1"),
            ev(3, "mem0.cxlm", "x.rs:2"),
        ]);
        let b = record(vec![
            ev(2, "mem0.cxlm", "x.rs:1"),
            ev(3, "mem0.cxlm", "x.rs:2"),
        ]);
        let c = record(vec![
            ev(3, "mem0.cxlm", "x.rs:2"),
            ev(1, "mem0.cxlm", "x.rs:1"),
        ]);
        // One switch pair, one communication pair, the preemption count.
        assert_eq!(features(&a).len(), 3);
        assert_eq!(features(&a), features(&b));
        let (fa, fc) = (features(&a), features(&c));
        assert!(
            fa[..2].iter().all(|h| !fc.contains(h)),
            "a free before the read is a new interleaving"
        );
    }

    #[test]
    fn same_task_sequences_give_no_pair_features() {
        let r = record(vec![
            ev(1, "mem0.cxlm", "x.rs:1"),
            ev(1, "mem0.cxlm", "x.rs:2"),
        ]);
        assert_eq!(features(&r).len(), 1, "only the preemption count");
    }
}
