//! A long-lived shuttle run fed fuzzer inputs one execution at a time.

use super::{
    Budget, EngineError, ExecConfig, ExecutionRecord, Explorer, Hooks, RunConfig, ScenarioFn,
    StopPolicy,
};
use crate::backend::driver::{run_fed, Feed};
use crate::scheduler::BytesScheduler;
use std::sync::Arc;

/// Runs executions driven by fuzzer bytes one at a time, like
/// `run_single(scenario, &Drive::Bytes(bytes), exec)` (same scheduler, same
/// records), but inside one long-lived shuttle run on a worker thread.
///
/// Why: shuttle allocates the coroutine stacks of a run's tasks once per
/// run and recycles them across its executions, so `run_single` pays for
/// fresh stacks (mmap, mprotect, page faults, munmap) on every call, which
/// costs more than the execution itself. A fuzz target calls this once per
/// input; keeping the run alive and handing it inputs over a channel costs
/// two thread wake-ups instead.
pub struct BytesSession {
    scenario: ScenarioFn,
    exec: ExecConfig,
    worker: Option<SessionWorker>,
}

struct SessionWorker {
    input: std::sync::mpsc::SyncSender<Vec<u8>>,
    output: std::sync::mpsc::Receiver<Result<ExecutionRecord, EngineError>>,
    thread: std::thread::JoinHandle<()>,
}

impl BytesSession {
    /// A session for `scenario`; the worker starts with the first input.
    pub fn new(scenario: ScenarioFn, exec: ExecConfig) -> Self {
        BytesSession {
            scenario,
            exec,
            worker: None,
        }
    }

    fn spawn(&self) -> SessionWorker {
        let (input, inputs) = std::sync::mpsc::sync_channel::<Vec<u8>>(0);
        let (outputs, output) = std::sync::mpsc::sync_channel(0);
        let scenario = Arc::clone(&self.scenario);
        let exec = self.exec;
        let thread = std::thread::spawn(move || {
            let results = outputs.clone();
            let feed: Feed = Box::new(move |last| {
                if let Some(record) = last {
                    results.send(Ok(record)).ok()?;
                }
                inputs.recv().ok()
            });
            let run = RunConfig {
                explorer: Explorer::Random,
                seed: 0,
                budget: Budget {
                    iterations: None,
                    time: None,
                },
                exec,
                stop: StopPolicy::Never,
                shard: (0, 1),
            };
            let inner = Box::new(BytesScheduler::new(Vec::new()));
            if let Err(e) = run_fed(&scenario, inner, &run, Hooks::default(), true, Some(feed)) {
                let _ = outputs.send(Err(e));
            }
        });
        SessionWorker {
            input,
            output,
            thread,
        }
    }

    /// Run one execution driven by `bytes` and record it in full.
    pub fn run(&mut self, bytes: &[u8]) -> Result<ExecutionRecord, EngineError> {
        let worker = match self.worker.take() {
            Some(w) => w,
            None => self.spawn(),
        };
        let died = || EngineError::ScenarioPanicked("the session's worker thread stopped".into());
        worker.input.send(bytes.to_vec()).map_err(|_| died())?;
        match worker.output.recv() {
            Ok(Ok(record)) => {
                self.worker = Some(worker);
                Ok(record)
            }
            // The run is over (the scenario panicked): the next input starts
            // a fresh worker.
            Ok(Err(e)) => {
                let _ = worker.thread.join();
                Err(e)
            }
            Err(_) => Err(died()),
        }
    }
}

impl Drop for BytesSession {
    fn drop(&mut self) {
        if let Some(w) = self.worker.take() {
            // Closing the input ends the worker's run at its next execution.
            drop(w.input);
            let _ = w.thread.join();
        }
    }
}
