//! The end of a scenario: every object still allocated when the scenario
//! body returns is a leak.

use super::with_world;
use crate::backend::backend;
use crate::finding::{Detail, Finding, FindingKind};

/// The scenario body returned: report every object never freed. Under loom
/// a leak ends the model run like any fatal finding.
pub(crate) fn scenario_completed() {
    report_leaks();
    backend().after_step();
}

fn report_leaks() {
    with_world(|w| {
        if w.stop {
            return;
        }
        // init's own locks, as do_exit() checks them for every task.
        w.check_no_locks_held(0, || "exited".to_string());
        let leaked: Vec<Finding> = w
            .objects
            .iter()
            .filter(|o| o.free_event.is_none())
            .map(|o| Finding {
                kind: FindingKind::Leak,
                detail: Detail::Leak {
                    object: o.name.to_string(),
                    alloc: w.access(o.alloc_event),
                },
            })
            .collect();
        if let Some(first) = leaked.into_iter().next() {
            w.report(first);
        }
    });
}
