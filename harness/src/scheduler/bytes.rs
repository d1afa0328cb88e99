//! Takes its choices from a byte string, so that a byte-mutating fuzzer
//! (libFuzzer through `cargo fuzz`) searches the space of schedules. When
//! the bytes run out it runs tasks to completion, deterministically.

use super::{run_to_completion, Scheduler};

/// One byte per scheduling decision: `byte % enabled.len()` picks the task.
#[derive(Debug, Default)]
pub struct BytesScheduler {
    bytes: Vec<u8>,
    position: usize,
}

impl BytesScheduler {
    /// A scheduler driven by `bytes`.
    pub fn new(bytes: Vec<u8>) -> Self {
        BytesScheduler { bytes, position: 0 }
    }
}

impl Scheduler for BytesScheduler {
    fn begin(&mut self, _seed: u64) {
        self.position = 0;
    }

    fn choose(&mut self, enabled: &[usize], current: Option<usize>) -> usize {
        let at = self.position;
        self.position += 1;
        match self.bytes.get(at) {
            Some(&b) => enabled[b as usize % enabled.len()],
            None => run_to_completion(enabled, current),
        }
    }
}
