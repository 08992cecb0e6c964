#!/usr/bin/env bash
# Upsert into a lake table (merge-on-read: equality deletes + the new rows) against DuckDB doing
# the same upsert (INSERT OR REPLACE into a table with a primary key, then CHECKPOINT), same
# rows, same run; then what the deletes cost readers, before and after `lake compact`.
# Usage: bash bench/lake/upsert.sh <millrace binary> [base rows] [changed rows] [runs]
# PEER=0 skips DuckDB (at 100M rows its primary-key index would not fit beside the run in memory).
# Prints one line per run and the medians; not part of `make test`. With JSON_OUT=<file> it also
# writes the runs there (bench/lake/run.sh: part_lake.json), with the files the upsert commit
# wrote and the row count after it (every changed key is an existing one: it must not grow).
set -euo pipefail
millrace=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
base_rows=${2:-1000000}
changed_rows=${3:-100000}
runs=${4:-3}
root=$(cd "$(dirname "$0")/../.." && pwd)
json_out=${JSON_OUT:+$(realpath -m "$JSON_OUT")}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
export NODE_PATH="$root/node_modules"
now_ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

"$millrace" generate orders --rows "$base_rows" --seed 1 -o base.ndjson 2>/dev/null
# The same order ids (o-000000000…) with other values: every changed row replaces a base row.
"$millrace" generate orders --rows "$changed_rows" --seed 2 -o changes.ndjson 2>/dev/null
mkdir -p p/pipelines
printf 'name: bench\ndata_dir: ./data\ninclude: [pipelines/*.yaml]\n' > p/millrace.yaml
cat > p/pipelines/upsert.yaml <<'YAML'
name: upsert
vars: { input: base.ndjson }
sources:
  orders:
    file: { path: "../{{ input }}", format: ndjson }
    schema: { order_id: string not null, user_id: string, restaurant_id: string, timestamp: timestamp not null, status: string, amount: double not null, items: int32, city: string }
sinks:
  - { from: orders, lake: { table: orders, mode: upsert, key: [order_id] } }
YAML
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "base $base_rows rows, $changed_rows changed keys, $runs runs"
load_before=$(cut -d' ' -f1 /proc/loadavg)
: > ours.txt; : > peer.txt; : > read_before.txt; : > read_after.txt
query="SELECT count(*) AS n, sum(amount) AS s FROM orders"
for run in $(seq 1 "$runs"); do
  rm -rf p/data duck.db duck.db.wal
  (cd p && "$millrace" run . upsert >/dev/null 2>&1)
  base_files=$("$millrace" lake files orders -d p/data | wc -l)
  start=$(now_ms)
  (cd p && "$millrace" run . upsert --var input=changes.ndjson >/dev/null 2>&1)
  ours=$(( $(now_ms) - start ))
  data_files_added=$(( $("$millrace" lake files orders -d p/data | wc -l) - base_files ))
  delete_files=$("$millrace" lake files orders -d p/data --deletes | wc -l)
  start=$(now_ms)
  rows_after=$("$millrace" query -d p/data -f csv "$query" | sed -n 2p | cut -d, -f1)
  before=$(( $(now_ms) - start ))
  "$millrace" lake compact orders -d p/data >/dev/null
  start=$(now_ms)
  "$millrace" query -d p/data "$query" >/dev/null
  after=$(( $(now_ms) - start ))
  peer=0
  if [ "${PEER:-1}" != 0 ]; then
    peer=$(node "$root/bench/lake/duckdb_upsert.mjs" duck.db base.ndjson changes.ndjson | sed -E 's/.*"ms":([0-9]+).*/\1/')
  fi
  echo "run $run: millrace upsert run ${ours} ms, DuckDB INSERT OR REPLACE + CHECKPOINT ${peer} ms; millrace count+sum ${before} ms with deletes, ${after} ms after compact; upsert wrote ${data_files_added} data + ${delete_files} delete files; ${rows_after} rows after"
  if [ "$rows_after" != "$base_rows" ]; then
    echo "upsert: $rows_after rows after the upsert, expected $base_rows" >&2
    exit 1
  fi
  echo "$ours" >> ours.txt; echo "$peer" >> peer.txt; echo "$before" >> read_before.txt; echo "$after" >> read_after.txt
done
echo "median: millrace upsert $(median < ours.txt) ms, DuckDB $(median < peer.txt) ms; read with deletes $(median < read_before.txt) ms, after compaction $(median < read_after.txt) ms"
if [ -n "$json_out" ]; then
  list() { paste -sd, "$1"; }
  cat > "$json_out" <<JSON
{"base_rows": $base_rows, "changed_rows": $changed_rows, "millrace_ms": [$(list ours.txt)],
 "duckdb_ms": [$(list peer.txt)], "read_before_ms": [$(list read_before.txt)],
 "read_after_ms": [$(list read_after.txt)], "data_files_added": $data_files_added,
 "delete_files": $delete_files, "rows_after": $rows_after,
 "load_before": "$load_before", "load_after": "$(cut -d' ' -f1 /proc/loadavg)"}
JSON
fi
