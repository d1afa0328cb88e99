//! Replays a recorded list of choices; notes where the execution diverged
//! from the recording (a schedule from another version of the scenario).

use super::{run_to_completion, Scheduler};

/// Follows recorded task choices, one per scheduling decision.
#[derive(Debug, Default)]
pub struct ReplayScheduler {
    choices: Vec<u8>,
    position: usize,
    /// The first decision at which the recorded task was not enabled.
    pub diverged_at: Option<usize>,
}

impl ReplayScheduler {
    /// Replay `choices` (task ids, one per decision with a real choice).
    pub fn new(choices: Vec<u8>) -> Self {
        ReplayScheduler {
            choices,
            position: 0,
            diverged_at: None,
        }
    }
}

impl Scheduler for ReplayScheduler {
    fn begin(&mut self, _seed: u64) {
        self.position = 0;
        self.diverged_at = None;
    }

    fn choose(&mut self, enabled: &[usize], current: Option<usize>) -> usize {
        let at = self.position;
        self.position += 1;
        match self.choices.get(at) {
            Some(&t) if enabled.contains(&(t as usize)) => t as usize,
            Some(_) => {
                self.diverged_at.get_or_insert(at);
                run_to_completion(enabled, current)
            }
            None => run_to_completion(enabled, current),
        }
    }
}
