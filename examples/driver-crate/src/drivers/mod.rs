//! One file per driver, each with its correct and broken variants.

pub mod iio;
pub mod tpm;
pub mod uverbs;
