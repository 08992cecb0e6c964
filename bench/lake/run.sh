#!/usr/bin/env bash
# Lake figures of `make bench` beyond the Google Benchmarks (results in part_lake.json):
#   - commit latency with 4 concurrent writer processes on one table against 1 writer, same run
#     (lake_commit: COMMITS commits of 1,000 rows each per writer; RUNS runs of each, alternated;
#     every run checks that every row of every commit is in the table afterwards);
#   - an upsert of UPSERT_CHANGED keys into a table of UPSERT_BASE rows against DuckDB
#     (upsert.sh, UPSERT_RUNS runs), and the read before and after compaction.
# PARTS=commit or PARTS=upsert runs one half.
# Usage: bash bench/lake/run.sh <release-build-dir>
set -euo pipefail
build=$(realpath "${1:-build/release}")
here=$(cd "$(dirname "$0")" && pwd)
out=${MILLRACE_BENCH_DIR:-/tmp}
runs=${RUNS:-3}
commits=${COMMITS:-50}
parts=${PARTS:-commit upsert}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
load_before=$(cut -d' ' -f1 /proc/loadavg)

commit_runs() {  # <writers> -> appends one JSON object per run to $work/commit-<writers>.json
  "$build/bench/lake_commit" "$work/table" "$1" "$commits" | tee -a "$work/commit-$1.json"
}
commit_json="null"
if [[ " $parts " == *" commit "* ]]; then
  echo "== lake commits: 1 and 4 writer processes, $commits commits each, $runs runs"
  for _ in $(seq 1 "$runs"); do
    commit_runs 1
    commit_runs 4
  done
  one=$(paste -sd, "$work/commit-1.json")
  four=$(paste -sd, "$work/commit-4.json")
  commit_json="{\"one\": [$one], \"four\": [$four]}"
fi

upsert_json="null"
if [[ " $parts " == *" upsert "* ]]; then
  base=${UPSERT_BASE:-10000000}
  changed=${UPSERT_CHANGED:-1000000}
  echo "== lake upsert: $changed changed keys into $base rows vs DuckDB"
  JSON_OUT="$work/upsert.json" bash "$here/upsert.sh" "$build/src/cli/millrace" "$base" "$changed" \
    "${UPSERT_RUNS:-3}"
  upsert_json=$(cat "$work/upsert.json")
fi

cat >"$out/part_lake.json" <<JSON
{"commit": $commit_json,
 "upsert": $upsert_json,
 "load_before": "$load_before", "load_after": "$(cut -d' ' -f1 /proc/loadavg)"}
JSON
echo "written $out/part_lake.json"
