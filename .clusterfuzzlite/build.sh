#!/bin/bash -eu
# ClusterFuzzLite build: every cargo fuzz target of fuzz/ into $OUT, each
# with a seed corpus made from the failing schedules in corpus/.
#
# The builder's cargo wrapper adds the sanitizer and coverage flags that
# ClusterFuzzLite asks for, so the build is the plain `cargo fuzz build -O`
# of the ClusterFuzzLite Rust guide (locally, --no-trace-compares makes the
# targets faster; it is left out here so as not to depend on the builder's
# cargo-fuzz version).

cd "$SRC/unplug"

# Seeds: one raw schedule per corpus entry whose workload a target runs.
# Built outside the fuzz profile (plain release build, its own target dir).
seeds="$WORK/unplug-seeds"
rm -rf "$seeds"
CARGO_TARGET_DIR="$WORK/unplug-seed-target" RUSTFLAGS="" \
  cargo run --release -p unplug --example fuzz_seeds -- corpus "$seeds"

cd fuzz
cargo fuzz build -O

release=target/x86_64-unknown-linux-gnu/release
for src in fuzz_targets/*.rs; do
  target=$(basename "${src%.rs}")
  cp "$release/$target" "$OUT/"
  # One input byte is one scheduling decision: let inputs be as long as a
  # schedule from the start instead of growing from a few bytes.
  printf '[libfuzzer]\nlen_control = 0\nmax_len = 512\n' >"$OUT/$target.options"
  if [ -d "$seeds/$target" ]; then
    (cd "$seeds/$target" && zip -q -r "$OUT/${target}_seed_corpus.zip" .)
  fi
done
