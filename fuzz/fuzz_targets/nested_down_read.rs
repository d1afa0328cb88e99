#![no_main]
// The target body lives in unplug_fuzz (one copy for every target); the
// scheme and workload come from unplug::fuzz_targets().
unplug_fuzz::fuzz_target!("nested_down_read");
