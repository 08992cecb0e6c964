#!/usr/bin/env bash
# `millrace serve` runs the project's streaming pipelines beside the HTTP API: records ingested
# over HTTP reach the pipeline as they are appended, a window is written to the lake once the
# watermark passes its end (while the server runs), a record behind the watermark becomes a
# `late` dead letter, and a graceful stop emits the open windows and commits.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/server.sh"

project=$WORK/live
mkdir -p "$project/pipelines"
cat >"$project/millrace.yaml" <<'YAML'
name: live
data_dir: ./data
include: [pipelines/*.yaml]
topics:
  events: { partitions: 2 }
YAML
cat >"$project/pipelines/minutes.yaml" <<'YAML'
name: minutes
mode: streaming
checkpoint_interval: 200ms     # how often the lake sink commits
sources:
  events:
    topic: events
    schema: { id: int64 not null, ts: timestamp not null, n: int64 }
    event_time: ts
    watermark_delay: 1s
    idle_timeout: 1s
views:
  per_minute: |
    SELECT window_start, window_end, count(*) AS events, sum(n) AS n
    FROM tumble(events, ts, INTERVAL '1 minute') GROUP BY window_start, window_end
sinks:
  - { from: per_minute, lake: { table: per_minute } }
  - { from: dead_letter, file: { path: out/dead.ndjson } }
YAML
port=$(free_port)
start_server "$project" "$port" "$WORK/serve.log"
ingest() {  # <ndjson>
  curl -sf -H 'Content-Type: application/x-ndjson' --data-binary "$1" \
    "http://127.0.0.1:$port/v1/ingest/events" >/dev/null
}
total() {  # events in the lake table so far
  "$MILLRACE" query "SELECT coalesce(sum(events), 0) AS e FROM per_minute" -p "$project" | sed -n 3p | tr -d ' '
}
minute0=""
for i in $(seq 0 59); do
  minute0+=$(printf '{"id":%d,"ts":"2026-01-01T00:00:%02d.5Z","n":%d}\n' "$i" "$i" "$i")$'\n'
done
ingest "$minute0"
# A record five minutes on moves the watermark past the first minute (the other partition
# stops holding it back after its 1 s idle timeout).
ingest '{"id":100,"ts":"2026-01-01T00:05:00Z","n":1}'
seen=0
for _ in $(seq 1 120); do
  seen=$(total)
  [ "$seen" == "60" ] && break
  sleep 0.25
done
expect_eq "$seen" "60" "the first minute's window is in the lake while the server runs"
# Behind the watermark now: late.
ingest '{"id":101,"ts":"2026-01-01T00:00:30Z","n":1}'
sleep 1
# The windowed GROUP BY is a keyed operator with its own metrics (docs/metrics.md).
metrics=$(curl -s "http://127.0.0.1:$port/metrics")
operator='pipeline="minutes",operator="per_minute->lake table per_minute"'
expect_contains "$metrics" "millrace_stream_operator_records_in_total{$operator} 61" \
  "the window's rows in are exported (the late record never reaches it)"
expect_contains "$metrics" "millrace_stream_operator_queue_capacity{$operator} 8" \
  "so is its queue capacity"
# The pipeline's checkpoints and watermark: the window was committed, so a checkpoint completed;
# the watermark is 2026-01-01 event time, far behind the server's clock.
checkpoints=$(sed -n 's/^millrace_pipeline_checkpoints_total{pipeline="minutes"} //p' <<<"$metrics")
[ "${checkpoints:-0}" -ge 1 ] && pass "checkpoints are counted ($checkpoints)" ||
  fail "no millrace_pipeline_checkpoints_total for the pipeline"
expect_contains "$metrics" 'millrace_pipeline_checkpoint_duration_seconds{pipeline="minutes"}' \
  "the last checkpoint's duration is exported"
# Asynchronous checkpoints: the run stops reading for part of a checkpoint only.
duration=$(sed -n 's/^millrace_pipeline_checkpoint_duration_seconds{pipeline="minutes"} //p' <<<"$metrics")
pause=$(sed -n 's/^millrace_pipeline_checkpoint_pause_seconds{pipeline="minutes"} //p' <<<"$metrics")
awk -v p="${pause:--1}" -v d="${duration:--1}" 'BEGIN { exit !(p >= 0 && d > 0 && p <= d) }' &&
  pass "the last checkpoint's pause ($pause s) is exported, within its duration ($duration s)" ||
  fail "checkpoint pause '$pause' against duration '$duration'"
lag=$(sed -n 's/^millrace_pipeline_watermark_lag_seconds{pipeline="minutes"} //p' <<<"$metrics")
awk -v lag="${lag:-0}" 'BEGIN { exit !(lag > 86400) }' && pass "the watermark lag is the clock minus event time ($lag s)" ||
  fail "watermark lag: '$lag'"
bytes=$(sed -n 's/^millrace_pipeline_bytes_total{pipeline="minutes",source="events"} //p' <<<"$metrics")
[ "${bytes:-0}" -gt 0 ] && pass "the source's bytes are counted ($bytes)" || fail "millrace_pipeline_bytes_total: '$bytes'"
stop_server
expect_eq "$(total)" "61" "a graceful stop emits the open window (the late record is not counted)"
expect_eq "$(grep -c '"reason":"late"' "$project/out/dead.ndjson")" "1" "the late record is a dead letter with reason late"
expect_contains "$(grep -F '"reason":"late"' "$project/out/dead.ndjson")" '"id":101' "it is the record sent behind the watermark"
expect_contains "$(cat "$WORK/serve.log")" '"msg":"streaming pipeline stopped","pipeline":"minutes","rows_read":62,"late":1' "serve logs what the pipeline did"
finish
