#!/usr/bin/env bash
# examples/retail-daily-sales backfilled from an empty data directory with --concurrency 2, three
# times: the two concurrent runs race to create the lake table and to commit to it (optimistic
# Iceberg commits that retry on conflict), and every time the backfill succeeds on each task's
# first attempt with every store and day once, equal to one run of the pipeline over all days.
source "$(dirname "$0")/lib/common.sh"
cd "$WORK"

oracle=$WORK/oracle
cp -r "$ROOT/examples/retail-daily-sales" "$oracle"
rm -rf "$oracle/incoming" "$oracle/out" "$oracle/data"
"$MILLRACE" generate sales --days 4 --stores 5 --rows-per-day 400 --output-dir "$oracle/incoming" >/dev/null 2>&1
"$MILLRACE" run "$oracle" daily_sales >/dev/null 2>&1
lake_rows() {  # <data-dir>: every row of daily_store_sales as NDJSON, through millrace query
  "$MILLRACE" query -d "$1" -f json "SELECT store_id, day, transactions, items, revenue FROM daily_store_sales"
}
lake_rows "$oracle/data" > oracle.ndjson
expect_eq "$(wc -l < oracle.ndjson)" "20" "the single run writes 5 stores x 4 days"

for trial in 1 2 3; do
  project=$WORK/retail$trial
  cp -r "$oracle" "$project"
  rm -rf "$project/out" "$project/data"
  out=$("$MILLRACE" jobs backfill "$project" daily_sales --from 2026-11-01 --to 2026-11-04 --concurrency 2 2>&1) && rc=0 || rc=$?
  expect_eq "$rc" "0" "trial $trial: the backfill succeeds"
  retried=$("$MILLRACE" jobs history "$project" daily_sales | grep -E "attempt [2-9]" || true)
  expect_eq "$retried" "" "trial $trial: no task needed a retry"
  lake_rows "$project/data" > "trial$trial.ndjson"
  diff=$(duckdb "SELECT (SELECT count(*) FROM (FROM read_json('oracle.ndjson') EXCEPT ALL FROM read_json('trial$trial.ndjson'))) AS a,
                        (SELECT count(*) FROM (FROM read_json('trial$trial.ndjson') EXCEPT ALL FROM read_json('oracle.ndjson'))) AS b,
                        (SELECT count(*) FROM read_json('trial$trial.ndjson')) AS n")
  expect_eq "$diff" '{"a":"0","b":"0","n":"20"}' "trial $trial: every store and day once, as the single run wrote them"
done
finish
