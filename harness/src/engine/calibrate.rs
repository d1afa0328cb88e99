//! PCT's horizon: how many scheduling decisions an execution of a scenario
//! takes, measured once before a run; SURW's estimates of each task's steps
//! on each shared target.

use super::{Budget, EngineError, ExecConfig, Explorer, Hooks, RunConfig, ScenarioFn, StopPolicy};
use crate::backend::driver::run_with;
use crate::scheduler::{Pending, RandomScheduler, Scheduler, SurwProfile};
use std::cell::RefCell;
use std::rc::Rc;

/// A calibration run: `executions` uniform random walks from a fixed
/// `seed`, without race detection (what is measured is the schedule's shape,
/// not its findings), so the measurement is a function of the scenario alone.
fn calibration_run(seed: u64, executions: u64, exec: ExecConfig) -> RunConfig {
    RunConfig {
        explorer: Explorer::Random,
        seed,
        budget: Budget {
            iterations: Some(executions),
            time: None,
        },
        exec: ExecConfig {
            race_detection: false,
            ..exec
        },
        stop: StopPolicy::Never,
        shard: (0, 1),
    }
}

/// Measure the number of scheduling decisions of one execution, the horizon
/// `k` PCT draws its change points from. Uses a fixed random seed, so the
/// horizon is a function of the scenario alone.
pub fn calibrate_horizon(scenario: &ScenarioFn, exec: ExecConfig) -> Result<u64, EngineError> {
    let run = calibration_run(0x0C0F_FEE0, 4, exec);
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

/// Estimate, per task, its steps on each shared target (steps that declare
/// their target, see [`Pending`]), those it takes alone included: the mean
/// over eight executions of a uniform walk with a fixed seed, rounded up, so
/// the estimate is a function of the scenario alone. What SURW weights
/// tasks by, summed over the targets it selects.
pub fn calibrate_surw(scenario: &ScenarioFn, exec: ExecConfig) -> Result<SurwProfile, EngineError> {
    const EXECUTIONS: u64 = 8;
    let run = calibration_run(0x5EED_5A4F, EXECUTIONS, exec);
    struct Counting {
        inner: RandomScheduler,
        pending: Vec<Option<Pending>>,
        counts: Rc<RefCell<SurwProfile>>,
    }
    impl Counting {
        fn count(&self, task: usize, pending: Option<Pending>) {
            let Some(p) = pending else { return };
            let mut counts = self.counts.borrow_mut();
            if counts.len() <= task {
                counts.resize(task + 1, Vec::new());
            }
            match counts[task].iter_mut().find(|(t, _)| *t == p.target) {
                Some((_, n)) => *n += 1,
                None => counts[task].push((p.target, 1)),
            }
        }
    }
    impl Scheduler for Counting {
        fn begin(&mut self, seed: u64) {
            self.inner.begin(seed);
        }
        fn wants_pending(&self) -> bool {
            true
        }
        fn pending(&mut self, pending: &[Option<Pending>]) {
            self.pending.clear();
            self.pending.extend_from_slice(pending);
        }
        fn alone(&mut self, task: usize, pending: Option<Pending>) {
            self.count(task, pending);
        }
        fn choose(&mut self, enabled: &[usize], current: Option<usize>) -> usize {
            let t = self.inner.choose(enabled, current);
            let i = enabled.iter().position(|&e| e == t).unwrap_or(0);
            self.count(t, self.pending.get(i).copied().flatten());
            t
        }
    }
    let counts = Rc::new(RefCell::new(Vec::new()));
    let counting = Counting {
        inner: RandomScheduler::default(),
        pending: Vec::new(),
        counts: Rc::clone(&counts),
    };
    run_with(scenario, Box::new(counting), &run, Hooks::default(), false)?;
    let totals = counts.borrow();
    Ok(totals
        .iter()
        .map(|steps| {
            steps
                .iter()
                .map(|&(t, n)| (t, n.div_ceil(EXECUTIONS)))
                .collect()
        })
        .collect())
}
