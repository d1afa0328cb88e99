//! PCT's horizon: how many scheduling decisions an execution of a scenario
//! takes, measured once before a run.

use super::{Budget, EngineError, ExecConfig, Explorer, Hooks, RunConfig, ScenarioFn, StopPolicy};
use crate::backend::shuttle::run_with;
use crate::scheduler::{RandomScheduler, Scheduler};
use std::cell::RefCell;
use std::rc::Rc;

/// Measure the number of scheduling decisions of one execution, the horizon
/// `k` PCT draws its change points from. Uses a fixed random seed, so the
/// horizon is a function of the scenario alone.
pub fn calibrate_horizon(scenario: &ScenarioFn, exec: ExecConfig) -> Result<u64, EngineError> {
    let run = RunConfig {
        explorer: Explorer::Random,
        seed: 0x0C0F_FEE0,
        budget: Budget {
            iterations: Some(4),
            time: None,
        },
        exec: ExecConfig {
            race_detection: false,
            ..exec
        },
        stop: StopPolicy::Never,
        shard: (0, 1),
    };
    let shared_max = Rc::new(RefCell::new(0u64));
    let max = Rc::clone(&shared_max);
    struct Counting {
        inner: RandomScheduler,
        decisions: u64,
        max: Rc<RefCell<u64>>,
    }
    impl Scheduler for Counting {
        fn begin(&mut self, seed: u64) {
            self.decisions = 0;
            self.inner.begin(seed);
        }
        fn choose(&mut self, enabled: &[usize], current: Option<usize>) -> usize {
            self.decisions += 1;
            let mut m = self.max.borrow_mut();
            *m = (*m).max(self.decisions);
            self.inner.choose(enabled, current)
        }
    }
    let counting = Counting {
        inner: RandomScheduler::default(),
        decisions: 0,
        max,
    };
    run_with(scenario, Box::new(counting), &run, Hooks::default(), false)?;
    let k = *shared_max.borrow();
    Ok(k.max(1))
}
