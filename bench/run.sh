#!/usr/bin/env bash
# `make bench`: runs every benchmark (median of 5 repetitions), then the shell parts (retail
# end to end, lake, log, Kafka protocol, online serving), and closes with one table of every
# figure against its peer (bench/summarize.mjs), printed and written into BENCHMARKS.md between
# its marker comments.
# Usage: bench/run.sh <release-build-dir>
set -euo pipefail
build=${1:-build/release}
root=$(cd "$(dirname "$0")/.." && pwd)
out=$build/bench-results
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out"/*.json  # the closing table shows this run's figures only
export MILLRACE_BENCH_DIR=$out
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
for bench in "$build"/bench/*_bench; do
  name=$(basename "$bench")
  echo "== $name"
  # The scheduler's repetitions interleaved at random, so the fan-out and its peer (bare
  # spawning) see the same moments of a shared machine.
  interleave=()
  [ "$name" = scheduler_bench ] && interleave=(--benchmark_enable_random_interleaving=true)
  "$bench" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true "${interleave[@]}" \
    --benchmark_out="$out/$name.json" --benchmark_out_format=json 2>&1 | grep -E "median|Benchmark|---" || true
done
# The Parquet write benchmark left its file here: DuckDB writes the same rows in the same run.
if [ -f "$out/millrace_bench_orders.parquet" ]; then
  echo "== DuckDB COPY (FORMAT parquet, COMPRESSION zstd), same rows"
  node "$(dirname "$0")/parquet/duckdb_copy.mjs" "$out/millrace_bench_orders.parquet" "$out/duckdb_copy.json"
fi
# The lake planning benchmark left its table of 10,000 files here: DuckDB reads the same files
# with the same filter in the same run.
if [ -d "$out/lake_plan/lake/events" ]; then
  echo "== DuckDB read_parquet over the lake benchmark's 10,000 files, same filter"
  node "$(dirname "$0")/lake/duckdb_plan.mjs" "$out/lake_plan/lake/events" "$out/duckdb_plan.json" ||
    echo "bench/lake/duckdb_plan.mjs FAILED"
fi
# End-to-end: `millrace run` of the retail example on ~1 GB of CSV vs DuckDB.
echo "== retail end to end (millrace run vs DuckDB)"
# A part that fails shows as "not run" in the closing table instead of hiding the rest.
bash "$(dirname "$0")/pipeline/retail_e2e.sh" "$build/src/cli/millrace" || echo "retail end to end FAILED"
echo "== exactly-once under kill -9 (25 kills)"
bash "$(dirname "$0")/pipeline/exactly_once_kill.sh" "$build/src/cli/millrace" 25 ||
  echo "bench/pipeline/exactly_once_kill.sh FAILED"
echo "== operator state, checkpoints and restart after kill -9 (1M keys)"
bash "$(dirname "$0")/pipeline/state_recovery.sh" "$build/src/cli/millrace" ||
  echo "bench/pipeline/state_recovery.sh FAILED"
echo "== freshness: ingest response -> feature served at 20k events/s"
bash "$(dirname "$0")/pipeline/freshness.sh" "$build" || echo "bench/pipeline/freshness.sh FAILED"
echo "== window freshness: watermark past a tumbling window's end -> result in its sinks"
bash "$(dirname "$0")/pipeline/window_freshness.sh" "$build" ||
  echo "bench/pipeline/window_freshness.sh FAILED"
echo "== windowed aggregate throughput at parallelism 1 and 2"
bash "$(dirname "$0")/pipeline/window_parallel.sh" "$build/src/cli/millrace" ||
  echo "bench/pipeline/window_parallel.sh FAILED"
echo "== lake: commits with 4 writers vs 1, upsert at scale vs DuckDB"
bash "$(dirname "$0")/lake/run.sh" "$build" || echo "bench/lake/run.sh FAILED"
bash "$(dirname "$0")/log/run.sh" "$build" || echo "bench/log/run.sh FAILED"
bash "$(dirname "$0")/kafka/produce.sh" "$build" || echo "bench/kafka/produce.sh FAILED"
bash "$(dirname "$0")/online/run.sh" "$build" || echo "bench/online/run.sh FAILED"
bash "$(dirname "$0")/nexmark/run.sh" "$build" || echo "bench/nexmark/run.sh FAILED"
node "$root/bench/summarize.mjs" "$out" "$root/BENCHMARKS.md"
