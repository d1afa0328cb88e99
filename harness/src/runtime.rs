//! The runtime facade, kept for the paths scenarios use: see
//! [`crate::backend`] for the two runtimes and [`crate::backend::loom`] for
//! what the loom runtime needs from the model.

pub use crate::backend::loom::MAX_LOOM_TASKS;
pub use crate::backend::{backend_kind, BackendKind, Ordering};
pub(crate) use crate::backend::{panic_message, quietly, StopExploring};
