#!/usr/bin/env bash
# Smoke test of the cargo fuzz targets, for CI: build every target, check a
# buggy one crashes within seconds and its artifact replays (through the
# harness, not libFuzzer) to the finding, and a clean one survives 20,000
# executions. Stable Rust is enough: no sanitizer (-s none).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
flags=(-s none --no-trace-compares)
# One input byte is one scheduling decision: inputs as long as a schedule
# from the start, instead of libFuzzer's default growth from 4 bytes.
lf=(-len_control=0 -max_len=512)

if ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "smoke: installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

cd "$here"
cargo fuzz build "${flags[@]}"
host=$(rustc -vV | sed -n 's/^host: //p')
bin="$here/target/$host/release"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A buggy target: must crash, leave an artifact laid out as cargo fuzz does
# (artifacts/<target>/), and the artifact must replay to the finding.
buggy=unsynchronized
mkdir -p "$work/artifacts/$buggy" "$work/corpus/$buggy"
status=0
timeout 120 "$bin/$buggy" "${lf[@]}" -seed=1 -max_total_time=20 \
  -artifact_prefix="$work/artifacts/$buggy/" "$work/corpus/$buggy" >"$work/buggy.log" 2>&1 || status=$?
artifact=$(find "$work/artifacts/$buggy" -type f -name 'crash-*' | head -n 1)
if [ "$status" -eq 0 ] || [ -z "$artifact" ]; then
  tail -n 20 "$work/buggy.log"
  echo "smoke: FAIL: $buggy did not crash within 20 s (exit $status)"
  exit 1
fi
grep -m1 "$buggy: use-after-removal" "$work/buggy.log" || {
  tail -n 20 "$work/buggy.log"
  echo "smoke: FAIL: $buggy crashed without reporting its use-after-removal"
  exit 1
}
# `unplug replay` prints the race diagram of the artifact; `unplug import`
# turns it into a minimised corpus entry (exit 1: it found something).
(cd "$root" && cargo build --release -q -p unplug)
import_status=0
"$root/target/release/unplug" replay "$artifact" >"$work/replay.txt" || import_status=$?
grep -q "BUG: KASAN: use-after-removal" "$work/replay.txt" || {
  echo "smoke: FAIL: unplug replay does not turn the artifact into its report (exit $import_status)"
  exit 1
}
import_status=0
"$root/target/release/unplug" import "$artifact" --corpus "$work/imported" || import_status=$?
[ "$import_status" -eq 1 ] || {
  echo "smoke: FAIL: the artifact does not import to a finding through the harness (exit $import_status)"
  exit 1
}
grep -q '^finding = "use-after-removal"' "$work"/imported/$buggy/*.toml || {
  echo "smoke: FAIL: the imported entry is not a use-after-removal"
  exit 1
}

# A clean target: 20,000 executions without a crash.
clean=flag_under_write_lock
mkdir -p "$work/artifacts/$clean" "$work/corpus/$clean"
if ! timeout 300 "$bin/$clean" "${lf[@]}" -seed=1 -runs=20000 \
  -artifact_prefix="$work/artifacts/$clean/" "$work/corpus/$clean" >"$work/clean.log" 2>&1; then
  tail -n 20 "$work/clean.log"
  echo "smoke: FAIL: $clean crashed"
  exit 1
fi
grep -m1 "Done 20000 runs" "$work/clean.log" || grep -m1 "^#20000" "$work/clean.log"

echo "smoke: 2 passed, 0 failed"
