//! One file per driver, each with its correct and broken variants.

pub mod iio;
pub mod skel;
pub mod tpm;
pub mod uverbs;
