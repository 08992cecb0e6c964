#!/usr/bin/env bash
# `make bench`: runs every benchmark (median of 5 repetitions) and prints the figures recorded in
# BENCHMARKS.md. Usage: bench/run.sh <release-build-dir>
set -euo pipefail
build=${1:-build/release}
out=$build/bench-results
mkdir -p "$out"
out=$(cd "$out" && pwd)
export MILLRACE_BENCH_DIR=$out
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
for bench in "$build"/bench/*_bench; do
  name=$(basename "$bench")
  echo "== $name"
  "$bench" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
    --benchmark_out="$out/$name.json" --benchmark_out_format=json 2>&1 | grep -E "median|Benchmark|---" || true
done
# The Parquet write benchmark left its file here: DuckDB writes the same rows in the same run.
if [ -f "$out/millrace_bench_orders.parquet" ]; then
  echo "== DuckDB COPY (FORMAT parquet, COMPRESSION zstd), same rows"
  node "$(dirname "$0")/parquet/duckdb_copy.mjs" "$out/millrace_bench_orders.parquet" "$out/duckdb_copy.json"
fi
node "$(dirname "$0")/summarize.mjs" "$out"
# End-to-end: `millrace run` of the retail example on ~1 GB of CSV vs DuckDB.
echo "== retail end to end (millrace run vs DuckDB)"
bash "$(dirname "$0")/pipeline/retail_e2e.sh" "$build/src/cli/millrace"
bash "$(dirname "$0")/log/run.sh" "$build"
bash "$(dirname "$0")/online/run.sh" "$build"
