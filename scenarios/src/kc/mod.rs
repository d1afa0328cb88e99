//! Schemes written in kernel C: a `.c` file holds a driver's declarations
//! and functions as a kernel developer writes them, under a `/* unplug: */`
//! header; `unplug` accepts its path wherever it takes a scheme name.
//!
//! ```text
//!  scheme.c ──parse (tree-sitter-c)──> syntax tree
//!           ──lower──> checked IR (names, fields, calls resolved)
//!           ──interp──> the kernel model, under the usual workload
//! ```
//!
//! Every error is one `file.c:LINE:COL: error: …` line; nothing the dialect
//! does not model is read silently.

pub mod builtins;
pub mod error;
pub mod header;
pub mod interp;
pub mod ir;
pub mod lower;
pub mod parse;

pub use error::KcError;

use crate::schemes::{Body, Expected, Scheme};
use crate::workload::{Probe, Workload};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// Whether a scheme name on the command line is a kernel-C file.
pub fn is_c_path(name: &str) -> bool {
    name.ends_with(".c")
}

/// Read, parse, check and lower the `.c` file at `path`.
pub fn compile(path: &str) -> Result<ir::Program, KcError> {
    let src = std::fs::read_to_string(path)
        .map_err(|e| KcError::at(path, 0, 0, format!("cannot read the scheme: {e}")))?;
    compile_source(path, &src)
}

/// [`compile`] for source text already in memory (`path` names it in
/// errors and reports).
pub fn compile_source(path: &str, src: &str) -> Result<ir::Program, KcError> {
    let header = header::parse(path, src)?;
    let src = parse::blank_annotations(src);
    // The tree's positions are the same in both texts: the lowering reads
    // names and quotes expressions from the one the user wrote.
    let tree = parse::parse(path, &parse::container_of_types_as_names(&src))?;
    let macros = lower::macros::sources(path, &src, tree.root_node())?;
    lower::lower(
        path,
        &src,
        tree.root_node(),
        lower::macros::defs(&macros),
        header,
    )
}

/// The scheme the `.c` file at `path` defines, compiled once per process
/// (the command line, corpus entries and fuzz artifacts name it by path).
pub fn load(path: &str) -> Result<&'static Scheme, KcError> {
    static LOADED: OnceLock<Mutex<HashMap<String, &'static Scheme>>> = OnceLock::new();
    let loaded = LOADED.get_or_init(Mutex::default);
    if let Some(s) = loaded.lock().unwrap_or_else(|e| e.into_inner()).get(path) {
        return Ok(s);
    }
    let prog = Arc::new(compile(path)?);
    let scheme = scheme(path, prog)?;
    let scheme: &'static Scheme = Box::leak(Box::new(scheme));
    loaded
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(path.to_string(), scheme);
    Ok(scheme)
}

fn scheme(path: &str, prog: Arc<ir::Program>) -> Result<Scheme, KcError> {
    let h = &prog.header;
    let bad = |m: String| KcError::at(path, 1, 1, m);
    let sc = header::verdict(&h.expect.sc)
        .ok_or_else(|| bad(format!("bad header: sc = \"{}\"", h.expect.sc)))?;
    let c11 = match &h.expect.c11 {
        Some(w) => header::verdict(w).ok_or_else(|| bad(format!("bad header: c11 = \"{w}\"")))?,
        None => sc,
    };
    let leak = |s: &str| -> &'static str { Box::leak(s.to_string().into_boxed_str()) };
    let mut expected = Expected::new(sc, c11);
    if let Some(o) = &h.expect.object {
        expected = expected.on(leak(o));
    }
    // The header parser has refused an `also` that names no finding.
    if let Some(Some(kind)) = h.expect.also.as_deref().and_then(header::verdict) {
        expected = expected.or(kind);
    }
    let default_workload = h.workload.workload();
    let summary = if h.summary.is_empty() {
        format!("{} (kernel C)", h.name)
    } else {
        format!("{}: {}", h.name, h.summary)
    };
    let probe: Box<dyn Fn(&Workload) -> Probe + Send + Sync> =
        Box::new(move |wl| interp::probe(&prog, wl));
    Ok(Scheme {
        name: leak(path),
        summary: leak(&summary),
        expected,
        default_workload,
        body: Body::Interpreted(Box::leak(probe)),
        loom_bound: None,
    })
}
