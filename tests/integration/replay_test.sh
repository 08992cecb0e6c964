#!/usr/bin/env bash
# `millrace replay`: requests captured into a topic of instance A (hand-written in the capture
# format) are replayed against instance B; statuses and (with --compare) bodies are checked
# against the recorded ones. Also: --limit, --partition, --speedup, --fail-on-mismatch, and the
# bad inputs (unknown topic, unreachable target, malformed records, bad options).
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/server.sh"

SERVER_B_PID=
stop_b() { if [ -n "$SERVER_B_PID" ]; then kill -TERM "$SERVER_B_PID" 2>/dev/null || true; wait "$SERVER_B_PID" 2>/dev/null || true; SERVER_B_PID=; fi; }
trap 'stop_b; kill9_server; rm -rf "$WORK"' EXIT

mkdir -p "$WORK/a" "$WORK/b"
cat > "$WORK/a/millrace.yaml" <<'YAML'
name: prod
topics:
  feature_requests: { partitions: 2, fsync: always }
YAML
cat > "$WORK/b/millrace.yaml" <<'YAML'
name: staging
topics:
  events: { partitions: 1 }
YAML
port_a=$(free_port)
port_b=$(free_port)
url_a=http://127.0.0.1:$port_a
url_b=http://127.0.0.1:$port_b
start_server "$WORK/b" "$port_b" "$WORK/b.log"
SERVER_B_PID=$SERVER_PID
start_server "$WORK/a" "$port_a" "$WORK/a.log"

# What B really answers, to record as "production" responses that match.
# Command substitution drops trailing newlines: keep them (bodies are compared byte for byte).
topics_b=$(curl -s "$url_b/v1/topics"; echo .); topics_b=${topics_b%.}
nope_b=$(curl -s "$url_b/nope"; echo .); nope_b=${nope_b%.}
missing_b=$(curl -s -H 'Content-Type: application/x-ndjson' --data-binary '{"a":1}' "$url_b/v1/ingest/missing"; echo .); missing_b=${missing_b%.}
health_b=$(curl -s "$url_b/healthz"; echo .); health_b=${health_b%.}
expect_contains "$missing_b" "unknown topic" "B answers 404 for an unknown ingest topic"
json() { node -e 'process.stdout.write(JSON.stringify(process.argv[1]))' "$1"; }

t0=1732406400000000
{
  # 5 that match: statuses and bodies as B answers them.
  echo "{\"ts_us\":$((t0 + 0)),\"method\":\"GET\",\"target\":\"/healthz\",\"body\":\"\",\"status\":200,\"response\":$(json "$health_b"),\"latency_us\":40}"
  echo "{\"ts_us\":$((t0 + 10000)),\"method\":\"GET\",\"target\":\"/healthz\",\"status\":200,\"response\":$(json "$health_b")}"
  echo "{\"ts_us\":$((t0 + 20000)),\"method\":\"GET\",\"target\":\"/v1/topics\",\"status\":200,\"response\":$(json "$topics_b")}"
  echo "{\"ts_us\":$((t0 + 30000)),\"method\":\"GET\",\"target\":\"/nope\",\"status\":404,\"response\":$(json "$nope_b")}"
  echo "{\"ts_us\":$((t0 + 40000)),\"method\":\"POST\",\"target\":\"/v1/ingest/missing\",\"body\":\"{\\\"a\\\":1}\",\"status\":404,\"response\":$(json "$missing_b")}"
  # A wrong recorded status, and a wrong recorded body (a mismatch only with --compare).
  echo "{\"ts_us\":$((t0 + 50000)),\"method\":\"GET\",\"target\":\"/healthz\",\"status\":500,\"response\":\"{\\\"status\\\":\\\"ok\\\"}\"}"
  echo "{\"ts_us\":$((t0 + 60000)),\"method\":\"GET\",\"target\":\"/healthz?probe=1\",\"status\":200,\"response\":\"{\\\"status\\\":\\\"degraded\\\"}\"}"
  # Malformed captured records: no target; a status that is not a number.
  echo "{\"ts_us\":$((t0 + 70000)),\"method\":\"GET\",\"status\":200}"
  echo "{\"ts_us\":$((t0 + 80000)),\"method\":\"GET\",\"target\":\"/healthz\",\"status\":\"oops\"}"
} > "$WORK/captured.ndjson"
out=$(curl -s -H 'Content-Type: application/x-ndjson' --data-binary @"$WORK/captured.ndjson" "$url_a/v1/ingest/feature_requests")
expect_contains "$out" '"accepted":9,"rejected":0' "9 captured records ingested into A"

code=0
out=$("$MILLRACE" replay --from "$url_a" --topic feature_requests --target "$url_b" --rate 200 --compare --json 2>&1) || code=$?
echo "$out" | sed 's/^/  | /'
expect_eq "$code" "0" "replay exits 0 without --fail-on-mismatch"
report=$(tail -1 <<<"$out")
expect_contains "$report" '"records_read":9,"malformed":2,"matched":5,"mismatches":2,"status_mismatches":1,"body_mismatches":1' "counts with --compare"
expect_contains "$report" '"sent":7,"completed":7,"by_status":{"200":5,"404":2}' "7 sent, statuses by code"
expect_contains "$out" 'malformed: partition' "malformed records are named"
expect_contains "$out" '`target` must start with /' "a missing target is explained"
expect_contains "$out" '`status` must be an integer' "a bad status is explained"
expect_contains "$out" 'mismatch: GET /healthz (partition' "the status mismatch is shown"
expect_contains "$out" 'expected status 500, got 200' "expected vs got status"
expect_contains "$out" 'status 200, bodies differ at byte 11' "the body mismatch is located"
expect_contains "$out" 'expected: {"status":"degraded"}' "expected body shown"
expect_contains "$out" 'got:      {"status":"ok"}\n' "received body shown (newline escaped)"
expect_contains "$out" 'latency us p50' "latency percentiles reported"

out=$("$MILLRACE" replay --from "$url_a" --topic feature_requests --target "$url_b" --rate 200 --json)
expect_contains "$(tail -1 <<<"$out")" '"matched":6,"mismatches":1,"status_mismatches":1,"body_mismatches":0' "without --compare only statuses count"

code=0
"$MILLRACE" replay --from "$url_a" --topic feature_requests --target "$url_b" --compare --fail-on-mismatch >/dev/null 2>&1 || code=$?
expect_eq "$code" "2" "--fail-on-mismatch exits 2 on mismatches"
code=0
"$MILLRACE" replay --from "$url_a" --topic feature_requests --target "$url_b" --limit 5 --compare --fail-on-mismatch >/dev/null 2>&1 || code=$?
expect_eq "$code" "0" "--fail-on-mismatch exits 0 when everything matched"

out=$("$MILLRACE" replay --from "$url_a" --topic feature_requests --target "$url_b" --limit 3 --json)
expect_contains "$(tail -1 <<<"$out")" '"sent":3,' "--limit 3 replays the 3 earliest"
expect_contains "$(tail -1 <<<"$out")" '"matched":3,' "the 3 earliest all match"

p0=$("$MILLRACE" replay --from "$url_a" --topic feature_requests --target "$url_b" --partition 0 --json | tail -1 | grep -o '"records_read":[0-9]*' | cut -d: -f2)
p1=$("$MILLRACE" replay --from "$url_a" --topic feature_requests --target "$url_b" --partition 1 --json | tail -1 | grep -o '"records_read":[0-9]*' | cut -d: -f2)
expect_eq "$((p0 + p1))" "9" "--partition 0 and 1 together read every record"

start=$(date +%s%N)
out=$("$MILLRACE" replay --from "$url_a" --topic feature_requests --target "$url_b" --speedup 0.5 --json)
took_ms=$(( ($(date +%s%N) - start) / 1000000 ))
expect_contains "$(tail -1 <<<"$out")" '"schedule":"recorded_offsets"' "--speedup keeps the recorded spacing"
# 7 requests recorded over 60 ms, replayed at half speed: the last one is due 120 ms in.
if [ "$took_ms" -ge 120 ]; then pass "--speedup 0.5 stretches 60 ms of traffic to >= 120 ms ($took_ms ms)"; else fail "--speedup 0.5 took only $took_ms ms"; fi

out=$("$MILLRACE" replay --from "$url_a" --topic feature_requests --target "$url_b" --limit 5 \
  -H 'Authorization: Bearer staging-token' --from-header 'Authorization: Bearer prod-token' --json)
expect_contains "$(tail -1 <<<"$out")" '"matched":5,' "extra headers on replayed requests and topic reads"

# --ignore-field: a field a refresh changes (event_timestamp) left out of the body comparison.
curl -s -X POST -d '{"name":"refreshed","partitions":1}' "$url_a/v1/topics" >/dev/null
{
  echo "{\"ts_us\":$t0,\"method\":\"GET\",\"target\":\"/healthz\",\"status\":200,\"response\":\"{\\\"status\\\":\\\"ok\\\",\\\"event_timestamp\\\":\\\"2024-01-01T00:00:00Z\\\"}\"}"
  echo "{\"ts_us\":$((t0 + 1000)),\"method\":\"GET\",\"target\":\"/v1/topics\",\"status\":200,\"response\":\"{\\\"topics\\\":[],\\\"metadata\\\":{\\\"event_timestamp\\\":1}}\"}"
} | curl -s -H 'Content-Type: application/x-ndjson' --data-binary @- "$url_a/v1/ingest/refreshed" >/dev/null
out=$("$MILLRACE" replay --from "$url_a" --topic refreshed --target "$url_b" --compare --json)
expect_contains "$(tail -1 <<<"$out")" '"matched":0,"mismatches":2,"status_mismatches":0,"body_mismatches":2' "bodies differ in event_timestamp (and the topic list)"
out=$("$MILLRACE" replay --from "$url_a" --topic refreshed --target "$url_b" --compare --json \
  --ignore-field event_timestamp)
expect_contains "$(tail -1 <<<"$out")" '"matched":1,"mismatches":1,' "--ignore-field event_timestamp: the field is left out"
out=$("$MILLRACE" replay --from "$url_a" --topic refreshed --target "$url_b" --compare --json \
  --ignore-field metadata --ignore-field topics)
expect_contains "$(tail -1 <<<"$out")" '"matched":1,"mismatches":1,' "other fields ignored, event_timestamp counts again"
out=$("$MILLRACE" replay --from "$url_a" --topic refreshed --target "$url_b" --compare --json \
  --ignore-field event_timestamp --ignore-field metadata --ignore-field topics)
expect_contains "$(tail -1 <<<"$out")" '"matched":2,"mismatches":0,' "--ignore-field is repeatable"
out=$("$MILLRACE" replay --from "$url_a" --topic refreshed --target "$url_b" --ignore-field a..b 2>&1 || true)
expect_contains "$out" 'needs --compare' "--ignore-field without --compare is refused"
out=$("$MILLRACE" replay --from "$url_a" --topic refreshed --target "$url_b" --compare --ignore-field a..b 2>&1 || true)
expect_contains "$out" '--ignore-field `a..b`' "an empty path segment is refused"

# Bad inputs: clear messages and exit code 1, never a crash.
code=0
out=$("$MILLRACE" replay --from "$url_a" --topic no_such_topic --target "$url_b" 2>&1) || code=$?
expect_eq "$code" "1" "unknown topic: exit 1"
expect_contains "$out" "unknown topic \`no_such_topic\`" "unknown topic: named"
dead_port=$(free_port)
code=0
out=$("$MILLRACE" replay --from "$url_a" --topic feature_requests --target "http://127.0.0.1:$dead_port" 2>&1) || code=$?
expect_eq "$code" "1" "unreachable target: exit 1"
expect_contains "$out" "cannot connect to 127.0.0.1:$dead_port" "unreachable target: named"
out=$("$MILLRACE" replay --from "http://127.0.0.1:$dead_port" --topic feature_requests --target "$url_b" 2>&1 || true)
expect_contains "$out" "cannot connect to 127.0.0.1:$dead_port" "unreachable source: named"
out=$("$MILLRACE" replay --from "$url_a" --topic feature_requests --target "https://x" 2>&1 || true)
expect_contains "$out" "https is not supported" "https target refused"
out=$("$MILLRACE" replay --from "$url_a" --topic feature_requests --target "$url_b" --partition 5 2>&1 || true)
expect_contains "$out" "there is no partition 5" "bad partition named"
out=$("$MILLRACE" replay --from "$url_a" --topic feature_requests --target "$url_b" --rate 10 --speedup 2 2>&1 || true)
expect_contains "$out" "not both" "rate and speedup together refused"
out=$("$MILLRACE" replay --from "$url_a" --topic feature_requests --target "$url_b" -H 'no colon' 2>&1 || true)
expect_contains "$out" 'bad header `no colon`' "a malformed --header is refused"

# The target stopped (staging is down): a clear error before anything is sent.
stop_b
code=0
out=$("$MILLRACE" replay --from "$url_a" --topic feature_requests --target "$url_b" 2>&1) || code=$?
expect_eq "$code" "1" "target stopped: exit 1"
expect_contains "$out" "cannot connect to 127.0.0.1:$port_b" "target stopped: named"

stop_server
finish
