#!/usr/bin/env bash
# examples/retail-daily-sales/jobs/daily_sales.yaml as the example README runs it: one day now,
# then a backfill; the sensor waits for the day's file, the pipeline runs as a child process
# (its report lands in the task log), the check passes, the lake partition is compacted.
source "$(dirname "$0")/lib/common.sh"

project=$WORK/retail
cp -r "$ROOT/examples/retail-daily-sales" "$project"
rm -rf "$project/incoming" "$project/out" "$project/data"
"$MILLRACE" generate sales --days 3 --stores 4 --rows-per-day 500 --output-dir "$project/incoming" >/dev/null 2>&1

expect_contains "$("$MILLRACE" jobs list "$project")" "daily_sales" "the job is listed"
out=$("$MILLRACE" jobs run "$project" daily_sales --date 2026-11-02 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "the day's run succeeds"
expect_contains "$out" "found $project/incoming/sales_20261102.csv" "the sensor waits for that day's file"
expect_contains "$out" "compact_partition        success" "the lake table is compacted"
logs=$("$MILLRACE" jobs logs "$project" 'daily_sales@2026-11-02T01:00:00Z' run_pipeline)
expect_contains "$logs" "pipeline daily_sales (batch)" "the pipeline's report is in the task log"
expect_contains "$logs" "500 rows read, 0 rejected" "the day's run reads that day's rows only"
expect_contains "$logs" "(1 file," "and that day's file only"
expect_eq "$(ls "$project/data/lake/daily_store_sales" | grep '^day=' | paste -sd' ')" "day=2026-11-02" \
  "the lake table holds that day's partition only"
out=$("$MILLRACE" jobs backfill "$project" daily_sales --from 2026-11-01 --to 2026-11-03 --concurrency 2 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "the backfill succeeds"
expect_contains "$out" "2 interval(s) to run, 1 already run" "the day already run is skipped"
# Two runs at once write the same lake table: each must commit on its first attempt (a retry
# would hide a lost race) and the table must hold each store and day once.
retried=$("$MILLRACE" jobs history "$project" daily_sales | grep -E "attempt [2-9]" || true)
expect_eq "$retried" "" "no task of the concurrent runs needed a retry"
counts=$("$MILLRACE" query -d "$project/data" "SELECT count(*) AS n, count(DISTINCT CAST(store_id AS VARCHAR) || '|' || CAST(day AS VARCHAR)) AS d FROM daily_store_sales" | sed -n 3p | tr -s ' ')
expect_eq "$(cut -d' ' -f1 <<<"$counts")" "$(cut -d' ' -f2 <<<"$counts")" "each store and day is in the lake table once"
expect_eq "$(ls "$project/data/lake/daily_store_sales" | grep -c '^day=')" "3" "each day's run wrote its own partition"

# `millrace serve` as the example README runs it: the scheduler starts last night's run, whose
# sensor waits for a file that is not there; a day triggered by hand still runs at once.
source "$(dirname "$0")/lib/server.sh"
"$MILLRACE" generate sales --days 1 --start 2026-11-08 --stores 4 --rows-per-day 500 \
  --output-dir "$project/incoming" >/dev/null 2>&1
port=$(free_port)
start_server "$project" "$port" "$WORK/serve.log"
body='{"interval_start":"2026-11-08T01:00:00Z","interval_end":"2026-11-09T01:00:00Z"}'
out=$(curl -s -w ' %{http_code}' -X POST -d "$body" "http://127.0.0.1:$port/v1/jobs/daily_sales/trigger")
expect_contains "$out" ' 202' "the README's trigger names a free interval (202)"
state=""
for _ in $(seq 1 150); do
  state=$(curl -s "http://127.0.0.1:$port/v1/runs/daily_sales@2026-11-08T01%3A00%3A00Z" |
    grep -oE '^\{"run_id":"[^"]*","job":"[^"]*","version":"[^"]*","state":"[^"]*"' | grep -oE '[a-z_]+"$' | tr -d '"')
  if [ "$state" = "success" ] || [ "$state" = "failed" ]; then break; fi
  sleep 0.2
done
expect_eq "$state" "success" "the triggered day runs beside the waiting nightly run"
stop_server

# No file for 2026-11-04: the sensor times out (shortened here) and the run fails.
sed -i 's/timeout: 6h/timeout: 1s/' "$project/jobs/daily_sales.yaml"
out=$("$MILLRACE" jobs run "$project" daily_sales --date 2026-11-04 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "a missing day fails"
expect_contains "$out" "run_pipeline             upstream_failed" "nothing runs without the day's file"
finish
