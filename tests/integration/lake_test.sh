#!/usr/bin/env bash
# Lake tables (Iceberg v2) driven through `millrace lake`: DuckDB (read_parquet with
# hive_partitioning) reads the committed files and agrees with the metadata; a writer killed with
# SIGKILL at random points leaves the table at a previous or the new snapshot, never in between.
source "$(dirname "$0")/lib/common.sh"
cd "$WORK"

"$MILLRACE" generate orders --rows 100000 --seed 11 -o orders.ndjson 2>/dev/null
schema="order_id: string not null, user_id: string, restaurant_id: string, timestamp: timestamp not null, status: string, amount: double not null, items: int32, city: string"
columns="{'order_id':'VARCHAR','user_id':'VARCHAR','restaurant_id':'VARCHAR','timestamp':'TIMESTAMPTZ','status':'VARCHAR','amount':'DOUBLE','items':'INTEGER','city':'VARCHAR'}"
original="read_json('orders.ndjson', format='newline_delimited', columns=$columns)"

# The committed files of a table's current snapshot (as its manifests list them), as a DuckDB
# list literal.
committed_files() {  # <data-dir> <table>
  local list
  list=$("$MILLRACE" lake files "$2" -d "$1" | cut -f1 | sed "s|^|'$1/lake/$2/|; s|\$|'|" | paste -sd, -)
  echo "[$list]"
}
# The newest metadata version of a table (metadata/v<N>.metadata.json).
metadata_version() {  # <data-dir> <table>
  ls "$1/lake/$2/metadata" | sed -nE 's/^v([0-9]+)\.metadata\.json$/\1/p' | sort -n | tail -1
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
before=$("$MILLRACE" lake describe orders -d data | sed -nE 's/^snapshot: +([0-9]+) .*/\1/p')
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
  if [ ! -f crash/lake/t/metadata/v1.metadata.json ]; then continue; fi  # killed before the table existed
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
  # The next import drops what the killed one staged (never commits it) and leaves a readable
  # table.
  "$MILLRACE" lake import t --data-dir crash -i empty.ndjson --schema "$schema" 2>/dev/null
  leftovers=$(find crash/lake/t/_staging -type f ! -name 'done-*' 2>/dev/null | wc -l)
  expect_eq "$leftovers" "0" "crash $i: recovery leaves no staged files"
done
if [ "$kills" -gt 0 ]; then pass "killed the writer $kills times"; else fail "the writer was never killed"; fi

# Rows and distinct order ids of a table's current snapshot, through `millrace query`.
counts() {  # <data-dir> <table>
  "$MILLRACE" query -d "$1" "SELECT count(*) AS n, count(DISTINCT order_id) AS d FROM $2" \
    | sed -n 3p | tr -s ' ' | sed 's/ $//'
}
# Blocks the metadata version of the commit <n> ahead (a folder in its way, as a full disk would
# refuse the write): that commit fails, the ones before it succeed.
block_commit() {  # <data-dir> <table> <n>
  mkdir "$1/lake/$2/metadata/v$(($(metadata_version "$1" "$2") + $3)).metadata.json"
}
unblock_commits() { rmdir "$1"/lake/"$2"/metadata/v*.metadata.json 2>/dev/null || true; }

# 5. --overwrite applies once per import: with --commit-rows, each partition is replaced by the
# import's first commit into it and appended to by its later ones, so every row stays; a
# re-run gives the same table. (`-d` is --data-dir for every lake subcommand.)
for run in 1 2; do
  "$MILLRACE" lake import ow -d data -i orders.ndjson --schema "$schema" --create \
    --partition-by "date(timestamp)" --commit-rows 8192 --overwrite 2>/dev/null
  expect_eq "$(counts data ow)" "100000 100000" "overwrite with --commit-rows, run $run: every row once"
done

# 6. A failed import changes nothing, and the next import does not commit what it staged.
head -n 3000 orders.ndjson > part1.ndjson
sed -n 3001,6000p orders.ndjson > part2.ndjson
sed -n 6001,9000p orders.ndjson > part3.ndjson
"$MILLRACE" lake import failed -d data -i part1.ndjson --schema "$schema" --create \
  --partition-by "date(timestamp)" 2>/dev/null
block_commit data failed 1
set +e
"$MILLRACE" lake import failed -d data -i part2.ndjson --schema "$schema" 2>failed.log; rc=$?
set -e
expect_eq "$rc" "1" "an import whose manifest cannot be written exits 1"
expect_eq "$(counts data failed)" "3000 3000" "the failed import left the table unchanged"
unblock_commits data failed
"$MILLRACE" lake import failed -d data -i part3.ndjson --schema "$schema" 2>/dev/null
expect_eq "$(counts data failed)" "6000 6000" "the next import commits only its own rows"
parquet=$(find data/lake/failed -name '*.parquet' | wc -l)
listed=$("$MILLRACE" lake files failed -d data | wc -l)
expect_eq "$parquet" "$listed" "no file of the failed import is left on disk"

# 7. An import interrupted after some commits resumes where it stopped when re-run on the same
# input: no row twice, none missing; the whole input, appended or overwritten.
for mode in append overwrite; do
  flag=""; [ "$mode" == "overwrite" ] && flag="--overwrite"
  "$MILLRACE" lake import "resume_$mode" -d data -i part1.ndjson --schema "$schema" --create \
    --partition-by "date(timestamp)" 2>/dev/null  # rows the import must keep (append) or replace
  block_commit data "resume_$mode" 4
  set +e
  "$MILLRACE" lake import "resume_$mode" -d data -i orders.ndjson --schema "$schema" \
    --commit-rows 8192 $flag 2>/dev/null; rc=$?
  set -e
  expect_eq "$rc" "1" "$mode: the import is interrupted at its 4th commit"
  unblock_commits data "resume_$mode"
  "$MILLRACE" lake import "resume_$mode" -d data -i orders.ndjson --schema "$schema" \
    --commit-rows 8192 $flag 2>resume.log
  expect_contains "$(cat resume.log)" "resuming an interrupted import" "$mode: the re-run resumes"
  if [ "$mode" == "append" ]; then
    expect_eq "$(counts data resume_append)" "103000 100000" "append: the earlier rows plus each input row once"
  else
    expect_eq "$(counts data resume_overwrite)" "100000 100000" "overwrite: each input row once"
  fi
done

# 8. Concurrent imports into one table with one writer id (as parallel runs of one job) all
# commit, every row once.
: > slices.pids
for k in 0 1 2 3; do
  sed -n "$((k * 5000 + 1)),$(((k + 1) * 5000))p" orders.ndjson > "slice$k.ndjson"
done
pids=()
for k in 0 1 2 3; do
  "$MILLRACE" lake import together -d data -i "slice$k.ndjson" --schema "$schema" --create \
    --partition-by "date(timestamp)" --commit-rows 1000 2>"together$k.log" &
  pids+=($!)
done
failed_writers=0
for pid in "${pids[@]}"; do wait "$pid" || failed_writers=$((failed_writers + 1)); done
expect_eq "$failed_writers" "0" "four concurrent importers all succeed"
expect_eq "$(counts data together)" "20000 20000" "concurrent importers commit every row once"

# 8b. A FIFO as import input is streamed; --commit-rows on it is refused (it cannot be re-read
# to resume).
mkfifo pipe.ndjson
cat part1.ndjson > pipe.ndjson &
"$MILLRACE" lake import piped -d data -i pipe.ndjson --schema "$schema" --create 2>/dev/null
wait
expect_eq "$(counts data piped)" "3000 3000" "a FIFO input is imported whole"
set +e
out=$("$MILLRACE" lake import piped -d data -i pipe.ndjson --schema "$schema" --commit-rows 100 2>&1); rc=$?
set -e
expect_eq "$rc" "1" "--commit-rows with a FIFO input is refused"
expect_contains "$out" "needs a regular file" "and says why"

# 9. A truncated manifest list is reported (file, what is wrong) with the intact snapshot to read
# instead; older snapshots stay readable and listed; nothing older is served as current.
"$MILLRACE" lake import torn -d data -i part1.ndjson --schema "$schema" --create 2>/dev/null
"$MILLRACE" lake import torn -d data -i part2.ndjson --schema "$schema" 2>/dev/null
manifest=$(ls data/lake/torn/metadata/snap-2-*.avro)
truncate -s 200 "$manifest"
set +e
out=$("$MILLRACE" query -d data "SELECT count(*) AS n FROM torn" 2>&1); rc=$?
set -e
expect_eq "$rc" "1" "a query of the corrupt snapshot fails"
expect_contains "$out" "$manifest" "the error names the corrupt manifest"
expect_contains "$out" "\"torn@1\"" "the error names the intact snapshot to read"
expect_eq "$("$MILLRACE" query -d data 'SELECT count(*) AS n FROM "torn@1"' | sed -n 3p | tr -d ' ')" "3000" "AS OF the intact snapshot works"
set +e
history=$("$MILLRACE" lake history torn -d data 2>/dev/null)
set -e
expect_contains "$history" "1	parent 0" "lake history still lists the intact snapshots"
expect_contains "$history" "2	corrupt" "lake history marks the corrupt one"
finish
