//! The runtime facade, kept for the paths scenarios use: see
//! [`crate::backend`] for the two runtimes and [`crate::backend::loom`] for
//! what the loom runtime needs from the model.

pub use crate::backend::loom::MAX_LOOM_TASKS;
pub(crate) use crate::backend::loom::{new_word, LoomBody, LoomCell, LoomWord};
pub use crate::backend::{backend, Backend, Ordering};
pub(crate) use crate::backend::{panic_message, quietly, set_backend, StopExploring};
