//! Scenario assertions: `BUG_ON()`, `WARN_ON()` and the `exists` clause of
//! a memory-model litmus test.
//!
//! In the kernel, `BUG_ON(cond)` (include/asm-generic/bug.h) prints
//! "kernel BUG at file:line!" and kills the task, and `WARN_ON(cond)`
//! prints a "WARNING: ... at file:line" splat and carries on. In the model
//! both record an [`FindingKind::Assertion`] finding naming the call site,
//! and both end the execution (like every fatal finding), so that the
//! explorers stop at it and save its schedule.
//!
//! Following a NULL pointer is the page-fault handler's oops, recorded the
//! same way by [`null_pointer_dereference`].
//!
//! A litmus test's `exists` clause is the same kind of check, made once by
//! the init task after joining every thread: [`litmus_exists`] records an
//! assertion naming the clause and the values observed.
#![allow(non_snake_case)]

use crate::finding::{AssertionKind, Detail, Finding, FindingKind};
use crate::trace::{Target, Value};
use crate::world::step;

/// `BUG_ON(cond)`: if `cond` holds, a fatal assertion finding at the
/// caller's line.
#[track_caller]
pub fn BUG_ON(cond: bool) {
    check(
        AssertionKind::Bug,
        "BUG_ON",
        cond,
        String::new(),
        String::new(),
    );
}

/// A NULL pointer followed at the caller's line: the kernel's oops (on x86
/// `page_fault_oops()` in arch/x86/mm/fault.c, whose `show_fault_oops()`
/// prints "BUG: kernel NULL pointer dereference" and whose `oops_end()`
/// kills the task), a fatal assertion finding of its own kind, so that a
/// report does not dress it as a `BUG_ON()`.
#[track_caller]
pub fn null_pointer_dereference() {
    check(
        AssertionKind::NullDeref,
        // The kernel function that prints the oops, as the trace names it.
        "page_fault_oops",
        true,
        String::new(),
        String::new(),
    );
}

/// `WARN_ON(cond)`: if `cond` holds, an assertion finding at the caller's
/// line. Returns `cond`, as the kernel macro does.
#[track_caller]
pub fn WARN_ON(cond: bool) -> bool {
    check(
        AssertionKind::Warn,
        "WARN_ON",
        cond,
        String::new(),
        String::new(),
    );
    cond
}

/// The final check of a litmus test: if `holds` (the test's `exists`
/// clause, evaluated on the values the threads observed), an assertion
/// finding naming `clause` and `observed`. Returns `holds`.
#[track_caller]
pub fn litmus_exists(clause: &str, observed: String, holds: bool) -> bool {
    check(
        AssertionKind::Exists,
        "exists",
        holds,
        clause.to_string(),
        observed,
    );
    holds
}

#[track_caller]
fn check(kind: AssertionKind, op: &'static str, fired: bool, condition: String, observed: String) {
    step(|cx| {
        let e = cx.record_minor(op, Target::None, Some(Value::Bool(fired)));
        if !fired {
            return;
        }
        let at = cx.w.access(e);
        cx.w.report(Finding {
            kind: FindingKind::Assertion,
            detail: Detail::Assertion {
                kind,
                condition,
                observed,
                at,
            },
        });
    });
}
