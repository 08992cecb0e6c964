#!/usr/bin/env bash
# `millrace serve` runs the scheduler beside the server: the retail example's nightly job is
# listed at /v1/jobs, triggered over HTTP for a given day (an API-triggered job), and its
# run and tasks are visible at /v1/runs; bad requests get 4xx JSON errors; a topic trigger
# starts a job when enough records arrive.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/server.sh"

project=$WORK/retail
cp -r "$ROOT/examples/retail-daily-sales" "$project"
rm -rf "$project/incoming" "$project/out" "$project/data"
"$MILLRACE" generate sales --days 1 --stores 4 --rows-per-day 2000 --start 2026-11-01 \
  --output-dir "$project/incoming" >/dev/null 2>&1
# A second job, triggered by records arriving in a log topic (event-driven jobs).
cat >>"$project/millrace.yaml" <<'YAML'
topics:
  clicks: { partitions: 2 }
YAML
cat >"$project/jobs/on_clicks.yaml" <<'YAML'
name: on_clicks
triggers: [{ topic: clicks, records: 5, poke_interval: 100ms }]
tasks:
  count: { kind: shell, command: "echo fired >> out/fired.txt" }
YAML
mkdir -p "$project/out"
port=$(free_port)
url=http://127.0.0.1:$port
start_server "$project" "$port" "$WORK/serve.log"

jobs=$(curl -s "$url/v1/jobs")
expect_contains "$jobs" '"name":"daily_sales"' "the job is listed"
expect_contains "$jobs" '"tasks":["wait_for_sales","run_pipeline","check_outputs","compact_partition"]' "with its tasks"
expect_contains "$jobs" '"scheduler":{"status":"ok"}' "the scheduler's status is listed"
expect_contains "$(curl -s "$url/readyz")" '"scheduler":{"status":"ok"' "/readyz checks the scheduler"

# The interval of 2026-11-01 in the job's time zone (Europe/Paris, UTC+1 in November).
body='{"interval_start":"2026-10-31T23:00:00Z","interval_end":"2026-11-01T23:00:00Z"}'
out=$(curl -s -w ' %{http_code}' -X POST -d "$body" "$url/v1/jobs/daily_sales/trigger")
expect_contains "$out" ' 202' "a trigger is accepted (202)"
run_id=$(grep -oE '"run_id":"[^"]*"' <<<"$out" | cut -d'"' -f4)
expect_contains "$run_id" "daily_sales@" "the trigger returns the run id"
state=""
for _ in $(seq 1 150); do
  run=$(curl -s "$url/v1/runs/$(printf '%s' "$run_id" | sed 's/:/%3A/g; s/+/%2B/g')")
  state=$(grep -oE '^\{"run_id":"[^"]*","job":"[^"]*","version":"[^"]*","state":"[^"]*"' <<<"$run" | grep -oE '"state":"[^"]*"' | cut -d'"' -f4)
  if [ "$state" = "success" ] || [ "$state" = "failed" ]; then break; fi
  sleep 0.2
done
expect_eq "$state" "success" "the triggered run succeeds"
expect_contains "$run" '"task":"run_pipeline","state":"success"' "its pipeline task succeeded"
expect_contains "$run" '"task":"compact_partition","state":"success"' "and the lake was compacted"
runs=$(curl -s "$url/v1/runs?job=daily_sales&limit=5")
expect_contains "$runs" "\"run_id\":\"$run_id\"" "the run is in /v1/runs"
[ -s "$project/out/daily_store_sales.csv" ] && pass "the pipeline wrote its output" || fail "no pipeline output"
# A task's log, as the dashboard shows it.
run_path="$url/v1/runs/$(printf '%s' "$run_id" | sed 's/:/%3A/g; s/+/%2B/g')"
log=$(curl -s -w ' %{http_code}' "$run_path/tasks/run_pipeline/log")
expect_contains "$log" "rows" "a task's log is served (the pipeline's report)"
expect_contains "$log" " 200" "with 200"
expect_eq "$(curl -s "$run_path/tasks/run_pipeline/log?tail_bytes=5" | wc -c)" "5" "tail_bytes gives the end of it"
expect_contains "$(curl -s -w ' %{http_code}' "$run_path/tasks/nope/log")" ' 404' "an unknown task's log is a 404"
expect_contains "$(curl -s -w ' %{http_code}' "$run_path/tasks/run_pipeline/log?tail_bytes=0")" ' 400' "a bad tail_bytes is a 400"
out=$(curl -s -w ' %{http_code}' -X POST "$url/v1/runs/nightly%402026-01-01T00%3A00%3A00Z/rerun")
expect_contains "$out" '"error":' "re-running an unknown run is refused with a JSON error"

out=$(curl -s -w ' %{http_code}' -X POST -d "$body" "$url/v1/jobs/daily_sales/trigger")
expect_contains "$out" ' 409' "the same interval is not run twice (409)"
out=$(curl -s -w ' %{http_code}' -X POST "$url/v1/jobs/nightly/trigger")
expect_contains "$out" ' 404' "an unknown job is a 404"
expect_contains "$out" '"error":"unknown job `nightly`"' "with a JSON error"
out=$(curl -s -w ' %{http_code}' -X POST -d '{"interval_start": "yesterday"}' "$url/v1/jobs/daily_sales/trigger")
expect_contains "$out" ' 400' "a bad interval is a 400"
out=$(curl -s -w ' %{http_code}' "$url/v1/runs?limit=zero")
expect_contains "$out" ' 400' "a bad limit is a 400"
# Four records do not fire the topic trigger; the fifth does.
curl -s -H 'Content-Type: application/x-ndjson' --data-binary $'{"u":1}\n{"u":2}\n{"u":3}\n{"u":4}' "$url/v1/ingest/clicks" >/dev/null
sleep 0.5
expect_eq "$(curl -s "$url/v1/runs?job=on_clicks" | grep -c '"run_id"' || true)" "0" "fewer records than the trigger's count start nothing"
curl -s -H 'Content-Type: application/x-ndjson' --data-binary '{"u":5}' "$url/v1/ingest/clicks" >/dev/null
for _ in $(seq 1 50); do
  if grep -q fired "$project/out/fired.txt" 2>/dev/null; then break; fi
  sleep 0.1
done
expect_eq "$(cat "$project/out/fired.txt" 2>/dev/null)" "fired" "the fifth record triggers a run of on_clicks"

# A backwards interval is refused; the epoch is a time like any other (not null).
out=$(curl -s -w ' %{http_code}' -X POST -d '{"interval_start":"2026-11-02T00:00:00Z","interval_end":"2026-11-01T00:00:00Z"}' "$url/v1/jobs/on_clicks/trigger" | tr -d '\n')
expect_eq "$out" '{"error":"`interval_start` (2026-11-02T00:00:00Z) is after `interval_end` (2026-11-01T00:00:00Z)"} 400' "start after end: 400"
out=$(curl -s -w ' %{http_code}' -X POST -d '{"interval_start":1}' "$url/v1/jobs/on_clicks/trigger")
expect_contains "$out" ' 400' "a non-string interval bound: 400"
out=$(curl -s -w ' %{http_code}' -X POST -d '{"interval_start":"1970-01-01T00:00:00Z","interval_end":"1970-01-01T01:00:00Z"}' "$url/v1/jobs/on_clicks/trigger" | tr -d '\n')
expect_contains "$out" '"interval_start":"1970-01-01T00:00:00Z","interval_end":"1970-01-01T01:00:00Z"} 202' "the epoch is rendered as a time"
expect_contains "$(curl -s "$url/v1/runs?job=on_clicks")" '"interval_start":"1970-01-01T00:00:00Z"' "also in /v1/runs"

# A state-store write that fails (here: a trigger installed through a connection of its own,
# as a full disk would) stops scheduling; /readyz and /v1/jobs say why.
sqlite3 -cmd ".timeout 10000" "$project/data/scheduler.db" "CREATE TRIGGER fail_attempts BEFORE INSERT ON attempts BEGIN SELECT RAISE(ABORT, 'injected write failure'); END;"
curl -s -X POST -d '{"interval_start":"1970-01-02T00:00:00Z","interval_end":"1970-01-02T01:00:00Z"}' "$url/v1/jobs/on_clicks/trigger" >/dev/null
ready=""
for _ in $(seq 1 50); do
  ready=$(curl -s -w ' %{http_code}' "$url/readyz")
  if grep -q ' 503$' <<<"$ready"; then break; fi
  sleep 0.1
done
expect_contains "$ready" ' 503' "/readyz: not ready once a state-store write failed"
expect_contains "$ready" '"failing":["scheduler"]' "the scheduler is the failing component"
expect_contains "$ready" 'injected write failure' "with the reason"
expect_contains "$(curl -s "$url/v1/jobs")" '"scheduler":{"status":"failed","reason":"scheduling stopped: a state store write failed: ' "/v1/jobs shows the scheduler failed"
out=$(curl -s -w ' %{http_code}' -X POST -d '{"interval_start":"1970-01-03T00:00:00Z","interval_end":"1970-01-03T01:00:00Z"}' "$url/v1/jobs/on_clicks/trigger")
expect_contains "$out" 'scheduling stopped' "a new trigger is refused with the reason"
stop_server
finish
