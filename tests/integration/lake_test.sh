#!/usr/bin/env bash
# Lake tables driven through `millrace lake`: DuckDB (read_parquet with hive_partitioning) reads
# the committed files and agrees with the manifest; a writer killed with SIGKILL at random
# points leaves the table at a previous or the new snapshot, never in between.
source "$(dirname "$0")/lib/common.sh"
cd "$WORK"

"$MILLRACE" generate orders --rows 100000 --seed 11 -o orders.ndjson 2>/dev/null
schema="order_id: string not null, user_id: string, restaurant_id: string, timestamp: timestamp not null, status: string, amount: double not null, items: int32, city: string"
columns="{'order_id':'VARCHAR','user_id':'VARCHAR','restaurant_id':'VARCHAR','timestamp':'TIMESTAMPTZ','status':'VARCHAR','amount':'DOUBLE','items':'INTEGER','city':'VARCHAR'}"
original="read_json('orders.ndjson', format='newline_delimited', columns=$columns)"

# The committed files of a table's current snapshot, as a DuckDB list literal.
committed_files() {  # <data-dir> <table>
  local table_dir="$1/lake/$2" current
  current=$(tr -d '\n' < "$table_dir/_manifest/current")
  duckdb "SELECT '[' || coalesce(string_agg('''$table_dir/' || f.path || '''', ','), '') || ']' AS l
          FROM (SELECT unnest(files) AS f FROM read_json('$table_dir/_manifest/v$(printf %010d "$current").json', maximum_object_size=100000000))" \
    | sed -E 's/^\{"l":"(.*)"\}$/\1/'
}

# 1. Import with commits every 8192 rows, partitioned by day and status.
"$MILLRACE" lake import orders --data-dir data -i orders.ndjson --schema "$schema" --create \
  --partition-by "date(timestamp)" --partition-by status --commit-rows 8192 2>import.log
expect_contains "$(cat import.log)" "100000 rows into \`orders\`" "import reports every row"
history=$("$MILLRACE" lake history orders --data-dir data)
expect_eq "$(wc -l <<<"$history")" "14" "one snapshot per commit (13) plus the empty table"
files=$(committed_files data orders)
diff=$(duckdb "SELECT (SELECT count(*) FROM (FROM $original EXCEPT ALL SELECT * EXCLUDE (day) FROM read_parquet($files, hive_partitioning=true))) AS a,
                      (SELECT count(*) FROM (SELECT * EXCLUDE (day) FROM read_parquet($files, hive_partitioning=true) EXCEPT ALL FROM $original)) AS b")
expect_eq "$diff" '{"a":"0","b":"0"}' "DuckDB over the committed files (hive_partitioning) has exactly the imported rows"
bad=$(duckdb "SELECT count(*) AS n FROM read_parquet($files, hive_partitioning=true) WHERE day <> CAST(timezone('UTC', timestamp) AS DATE)")
expect_eq "$bad" '{"n":"0"}' "every row sits in the day folder of its timestamp"
describe=$("$MILLRACE" lake describe orders --data-dir data)
expect_contains "$describe" "rows:         100000" "describe counts the rows"
expect_contains "$describe" "partition_by: date(timestamp), status" "describe shows the partitioning"
stats=$(duckdb "SELECT min(amount) AS lo, max(amount) AS hi FROM $original")
lo=$(sed -E 's/.*"lo":([0-9.]+).*/\1/' <<<"$stats"); hi=$(sed -E 's/.*"hi":([0-9.]+).*/\1/' <<<"$stats")
expect_contains "$describe" "min $lo  max $hi" "manifest statistics of amount match DuckDB's min and max"

# 2. Compaction merges the small files of each partition; the rows stay the same; AS OF works.
before=$(tr -d '\n' < data/lake/orders/_manifest/current)
out=$("$MILLRACE" lake compact orders --data-dir data)
expect_contains "$out" "compacted" "compact runs"
after_files=$("$MILLRACE" lake files orders --data-dir data | wc -l)
before_files=$("$MILLRACE" lake files orders --data-dir data --snapshot "$before" | wc -l)
if [ "$after_files" -lt "$before_files" ]; then pass "compaction leaves fewer files ($before_files -> $after_files)"; else fail "compaction: $before_files -> $after_files files"; fi
files=$(committed_files data orders)
n=$(duckdb "SELECT count(*) AS n, count(DISTINCT order_id) AS d FROM read_parquet($files, hive_partitioning=true)")
expect_eq "$n" '{"n":"100000","d":"100000"}' "after compaction DuckDB reads every row once"

# 3. Overwrite re-runs of the same input give the same table.
for run in 1 2; do
  "$MILLRACE" lake import daily --data-dir data -i orders.ndjson --schema "$schema" --create \
    --partition-by "date(timestamp)" --overwrite --writer-id "rerun$run" 2>/dev/null
done
rows=$("$MILLRACE" lake describe daily --data-dir data | grep '^rows:')
expect_eq "$rows" "rows:         100000" "an overwrite re-run replaces its partitions instead of adding"

# 3b. hyparquet (no zstd without plugins) reads every committed file of a snappy table.
"$MILLRACE" lake import snappy --data-dir data -i orders.ndjson --schema "$schema" --create \
  --partition-by "date(timestamp)" --compression snappy 2>/dev/null
: > hy.ndjson
for f in $(find data/lake/snappy -name '*.parquet' -not -path '*/_staging/*'); do
  node "$ROOT/tests/integration/lib/hyparquet_read.mjs" "$f" >> hy.ndjson
done
diff=$(duckdb "SELECT (SELECT count(*) FROM (
    SELECT * REPLACE (date_trunc('millisecond', timestamp) AS timestamp) FROM $original
    EXCEPT ALL
    SELECT * REPLACE (timestamp::TIMESTAMPTZ AS timestamp) FROM read_json('hy.ndjson', format='newline_delimited',
      columns={'order_id':'VARCHAR','user_id':'VARCHAR','restaurant_id':'VARCHAR','timestamp':'VARCHAR','status':'VARCHAR','amount':'DOUBLE','items':'INTEGER','city':'VARCHAR'}))) AS a,
    (SELECT count(*) FROM read_json('hy.ndjson', format='newline_delimited', columns={'order_id':'VARCHAR'})) AS n")
expect_eq "$diff" '{"a":"0","n":"100000"}' "hyparquet reads every row of the lake table's files"

# 4. Crash test: SIGKILL the importer at random points; the table must be at a committed
# snapshot, i.e. hold exactly the first k * 8192 rows of the input (or all of them).
"$MILLRACE" generate orders --rows 300000 --seed 5 -o big.ndjson 2>/dev/null
: > empty.ndjson
kills=0
for i in $(seq 1 8); do
  rm -rf crash
  "$MILLRACE" lake import t --data-dir crash -i big.ndjson --schema "$schema" --create \
    --partition-by "hour(timestamp)" --commit-rows 8192 2>/dev/null &
  pid=$!
  sleep "0.$((RANDOM % 9 + 1))$((RANDOM % 10))"
  kill -9 "$pid" 2>/dev/null && kills=$((kills + 1))
  wait "$pid" 2>/dev/null || true
  if [ ! -f crash/lake/t/_manifest/current ]; then continue; fi  # killed before the table existed
  files=$(committed_files crash t)
  manifest_rows=$("$MILLRACE" lake describe t --data-dir crash | sed -nE 's/^rows: +([0-9]+)$/\1/p')
  if [ "$files" == "[]" ]; then
    got='{"n":"0","d":"0","hi":null}'
  else
    got=$(duckdb "SELECT count(*) AS n, count(DISTINCT order_id) AS d, max(order_id) AS hi FROM read_parquet($files, hive_partitioning=true)")
  fi
  n=$(sed -E 's/.*"n":"([0-9]+)".*/\1/' <<<"$got")
  if [ "$n" != "$manifest_rows" ] || { [ $((n % 8192)) -ne 0 ] && [ "$n" -ne 300000 ]; }; then
    fail "crash $i: table holds $n rows (manifest says $manifest_rows): not a commit boundary"
    continue
  fi
  if [ "$n" -gt 0 ]; then
    expected_hi=$(printf 'o-%09d' $((n - 1)))
    expect_eq "$got" "{\"n\":\"$n\",\"d\":\"$n\",\"hi\":\"$expected_hi\"}" "crash $i: exactly the first $n rows are committed"
  else
    pass "crash $i: killed before the first commit, table empty"
  fi
  # Recovery: commits what was pre-committed, removes the rest, leaves a readable table.
  "$MILLRACE" lake import t --data-dir crash -i empty.ndjson --schema "$schema" 2>/dev/null
  leftovers=$(find crash/lake/t/_staging -type f ! -name 'done-*' 2>/dev/null | wc -l)
  expect_eq "$leftovers" "0" "crash $i: recovery leaves no staged files"
done
if [ "$kills" -gt 0 ]; then pass "killed the writer $kills times"; else fail "the writer was never killed"; fi
finish
