#!/usr/bin/env bash
# Rows with an event time far in the future (9999-12-31) would pin their key forever in the
# keep-newest online store: every write path refuses them as row errors with the reason, never
# stores them, and keeps the good rows. The online sink (dead letters), `millrace materialize`
# (rejected, with reasons), in this process and through a running server (which holds the store).
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/server.sh"

project=$WORK/future
mkdir -p "$project/features" "$project/pipelines" "$project/incoming"
port=$(free_port)
url=http://127.0.0.1:$port
cat >"$project/millrace.yaml" <<YAML
name: future
listen: { http: 127.0.0.1:$port }
include: [features/*.yaml, pipelines/*.yaml]
YAML
cat >"$project/features/clicks.yaml" <<'YAML'
name: clicks
entities: { user_id: int64 }
features: { clicks: int64 }
source: { pipeline: push_clicks }
YAML
cat >"$project/features/lake_clicks.yaml" <<'YAML'
name: lake_clicks
entities: { user_id: int64 }
features: { clicks: int64 }
max_event_time_skew: 1h
source: { lake: { table: lake_clicks, event_time: computed_at } }
YAML
cat >"$project/pipelines/push_clicks.yaml" <<'YAML'
name: push_clicks
mode: batch
sources:
  rows:
    file: { path: incoming/rows.csv, format: csv }
    schema: { user_id: int64 not null, clicks: int64, ts: timestamp }
sinks:
  - { from: rows, online: { feature_view: clicks, event_time: ts } }
  - { from: dead_letter, file: { path: out/rejected.ndjson, format: json } }
YAML
printf 'user_id,clicks,ts\n1,5,2026-01-01T00:00:00Z\n2,6,9999-12-31T00:00:00Z\n' >"$project/incoming/rows.csv"

# The online sink in this process: the future row is a dead letter with the reason.
out=$("$MILLRACE" run "$project" push_clicks 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "online sink: the run succeeds"
expect_contains "$out" "1 rows written to online feature view clicks" "online sink: the good row is written"
expect_contains "$(cat "$project/out/rejected.ndjson")" '"reason":"event time 9999-12-31T00:00:00Z is more than 1d ahead of the clock' "online sink: the future row is a dead letter with the reason"

# materialize from the lake (the view narrows the skew to 1h).
soon=$(date -u -d '+3 hours' +%Y-%m-%dT%H:%M:%SZ)
printf '{"user_id":1,"clicks":5,"computed_at":"2026-01-01T00:00:00Z"}\n{"user_id":2,"clicks":6,"computed_at":"9999-12-31T00:00:00Z"}\n{"user_id":3,"clicks":7,"computed_at":"%s"}\n' "$soon" >"$WORK/lake.ndjson"
"$MILLRACE" lake import lake_clicks --data-dir "$project/data" -i "$WORK/lake.ndjson" --create \
  --schema "user_id: int64 not null, clicks: int64, computed_at: timestamp" >/dev/null 2>&1
out=$("$MILLRACE" materialize "$project" lake_clicks 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "materialize: exits 0"
expect_contains "$out" "3 rows read, 1 upserted, 2 rejected" "materialize: future rows rejected"
expect_contains "$out" "rejected: event time 9999-12-31T00:00:00Z is more than 1h ahead of the clock" "materialize: with the reason"

# Through a running server (it holds the store): the same rules, also for a request in which
# every row is refused (the server answers 400 with per-row errors: row errors, not a failure).
start_server "$project" "$port" "$WORK/serve.log"
printf 'user_id,clicks,ts\n4,1,9999-12-31T00:00:00Z\n5,1,9999-12-31T00:00:00Z\n' >"$project/incoming/rows.csv"
out=$("$MILLRACE" run "$project" push_clicks 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "online sink through the server: the run succeeds"
expect_contains "$out" "0 rows written to online feature view clicks" "online sink through the server: nothing written"
expect_eq "$(grep -c 'ahead of the clock' "$project/out/rejected.ndjson")" "2" "online sink through the server: both rows dead-lettered with the reason"
out=$("$MILLRACE" materialize "$project" lake_clicks 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "materialize through the server: exits 0"
expect_contains "$out" "1 upserted, 2 rejected" "materialize through the server: future rows rejected"
for user in 2 3; do
  expect_contains "$(curl -s "$url/v1/features/lake_clicks?user_id=$user")" '"status":"NOT_FOUND"' "user $user's future row was never stored"
done
expect_contains "$(curl -s "$url/v1/features/clicks?user_id=4")" '"status":"NOT_FOUND"' "a pushed future row was never stored"
expect_contains "$(curl -s "$url/v1/features/lake_clicks?user_id=1")" '"status":"PRESENT"' "the good rows are served"
stop_server
finish
