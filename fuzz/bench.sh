#!/usr/bin/env bash
# Executions and time to the first finding, median over seeds, for the
# seeded explorers (random, PCT ladder, PCT d3/d4: the fuzz_bench example)
# and for cargo fuzz with and without interleaving feedback, on
# srcu_single_drain, check_outside_lock and srcu_single_drain_hard.
#
#   bash fuzz/bench.sh [SEEDS=10] [FUZZ_SECONDS=30]
#
# FUZZ_FLAGS (default "-len_control=0 -max_len=512") are passed to every
# libFuzzer run: one byte is one scheduling decision, so inputs need to be
# as long as a schedule from the start rather than grow from 4 bytes.
#
# Prints a Markdown table. A seed that misses within its cap counts as
# infinitely slow: the median is ">cap" when half the seeds or more miss.
# Worst case on 2 cores: ~6 min of explorers plus 2 x SEEDS x FUZZ_SECONDS
# for the hard target; the small targets find within a second or two.
set -euo pipefail

seeds=${1:-10}
secs=${2:-30}
read -r -a fuzz_flags <<<"${FUZZ_FLAGS:--len_control=0 -max_len=512}"
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
targets=(srcu_single_drain check_outside_lock srcu_single_drain_hard)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
(cd "$root" && cargo build --release -q -p unplug --example fuzz_bench)
(cd "$here" && cargo fuzz build -s none --no-trace-compares >/dev/null 2>&1)
host=$(rustc -vV | sed -n 's/^host: //p')
bin="$here/target/$host/release"

# Explorers: one line per (target, explorer), tab-separated.
"$root/target/release/examples/fuzz_bench" "$seeds" \
  srcu_single_drain:200000 check_outside_lock:200000 srcu_single_drain_hard:250000 \
  | tail -n +2 >"$work/explore.tsv"

# The lower median of a column of numbers, "inf" meaning missed.
median() {
  sort -g | awk '{ v[NR] = $1 } END { m = v[int((NR + 1) / 2)]; print (m == "inf" ? "miss" : m) }'
}

# cargo fuzz: one fresh corpus per run, -seed=1..SEEDS.
for t in "${targets[@]}"; do
  for fb in 1 0; do
    : >"$work/runs"
    for seed in $(seq 1 "$seeds"); do
      dir="$work/$t-$fb-$seed"
      mkdir -p "$dir/corpus" "$dir/artifacts"
      start=$(date +%s.%N)
      UNPLUG_FUZZ_FEEDBACK=$fb timeout $((secs + 60)) "$bin/$t" "${fuzz_flags[@]}" -seed="$seed" -max_total_time="$secs" \
        -print_final_stats=1 -artifact_prefix="$dir/artifacts/" "$dir/corpus" >"$dir/log" 2>&1 || true
      end=$(date +%s.%N)
      execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -n 1)
      if grep -q "Test unit written to" "$dir/log"; then
        awk -v e="$execs" -v a="$start" -v b="$end" 'BEGIN { printf "%s %.3f\n", e, b - a }' >>"$work/runs"
      else
        echo "inf inf $execs" >>"$work/runs"
      fi
    done
    found=$(grep -vc '^inf' "$work/runs" || true)
    me=$(cut -d' ' -f1 "$work/runs" | median)
    ms=$(cut -d' ' -f2 "$work/runs" | median)
    rate=$(awk '$1 != "inf" { e += $1; s += $2 } END { if (s > 0) printf "%.0f", e / s; else print "-" }' "$work/runs")
    name="cargo fuzz, feedback $([ "$fb" = 1 ] && echo on || echo off)"
    [ "$me" = miss ] && me=">${secs}s" && ms=">${secs}"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$name" "$seeds" "$found" "$me" "$ms" "$rate" >>"$work/explore.tsv"
  done
done

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); seeds 1..$seeds;" \
  "cargo fuzz ${fuzz_flags[*]}, capped at ${secs}s per seed"
echo
echo "| target | explorer | found | median executions | median seconds | executions/s |"
echo "|---|---|---|---|---|---|"
sort -s -t$'\t' -k1,1 "$work/explore.tsv" | awk -F'\t' '{ printf "| %s | %s | %s/%s | %s | %s | %s |\n", $1, $2, $4, $3, $5, $6, $7 }'
