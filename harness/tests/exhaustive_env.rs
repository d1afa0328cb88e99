//! A bad `LOOM_*` environment variable is a clear error, not a panic. (Its
//! own test binary: the environment is process-wide.)

use std::sync::Arc;
use unplug_harness::engine::ScenarioFn;
use unplug_harness::exhaustive::{explore_exhaustive, ExhaustiveConfig, ExhaustiveError};

#[test]
fn an_unparsable_loom_variable_is_an_environment_error() {
    std::env::set_var("LOOM_MAX_PREEMPTIONS", "many");
    let s: ScenarioFn = Arc::new(|| {});
    let err = explore_exhaustive(&s, &ExhaustiveConfig::default())
        .expect_err("loom rejects the variable");
    assert!(
        matches!(err, ExhaustiveError::Environment(ref m) if m.contains("LOOM_MAX_PREEMPTIONS")),
        "{err}"
    );
}
