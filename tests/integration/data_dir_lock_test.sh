#!/usr/bin/env bash
# One writer per data directory: `millrace topic produce` beside a running `millrace serve`
# sends its records through the server (all of them arrive), readers work beside it, other
# writers (a second serve, topic create, consume --consumer, a second jobs serve) refuse naming
# the holder's pid, a kill -9 leaves no stale lock behind, and a flipped byte in a segment is
# reported and skipped, never cut.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/server.sh"

project=$WORK/shop
mkdir -p "$project"
cat > "$project/millrace.yaml" <<'YAML'
name: shop
topics:
  events:
    partitions: 2
    fsync: always
YAML
port=$(free_port)
url=http://127.0.0.1:$port
start_server "$project" "$port" "$WORK/serve.log"
first_pid=$SERVER_PID

# Writers at once: HTTP ingest and `topic produce` on the same topic.
seq 1 3000 | sed 's/.*/{"id":&,"via":"produce"}/' >"$WORK/produce.ndjson"
seq 3001 5000 | sed 's/.*/{"id":&,"via":"http"}/' >"$WORK/http.ndjson"
"$MILLRACE" topic produce events --project "$project" --input "$WORK/produce.ndjson" \
  >"$WORK/produce.out" 2>&1 &
producer=$!
split -l 250 "$WORK/http.ndjson" "$WORK/http.part."
for part in "$WORK"/http.part.*; do
  curl -sf -H 'Content-Type: application/x-ndjson' --data-binary "@$part" \
    "$url/v1/ingest/events" >/dev/null || fail "HTTP ingest of $part"
done
produce_rc=0
wait "$producer" || produce_rc=$?
expect_eq "$produce_rc" "0" "topic produce beside serve succeeds"
expect_contains "$(cat "$WORK/produce.out")" "through http://127.0.0.1:$port" "it goes through the server"
expect_contains "$(cat "$WORK/produce.out")" "produced 3000 records" "and reports the 3000 records"

# Readers work beside the server.
count=$("$MILLRACE" topic consume events --project "$project" | wc -l | tr -d ' ')
expect_eq "$count" "5000" "topic consume reads beside serve"
expect_contains "$("$MILLRACE" topic list --project "$project")" "events" "topic list beside serve"

# Other writers refuse, naming the pid of the server.
holder="process $first_pid (millrace serve)"
rc=0; out=$("$MILLRACE" topic create other --project "$project" 2>&1) || rc=$?
expect_eq "$([ "$rc" -ne 0 ] && echo refused)" "refused" "topic create beside serve exits non-zero"
expect_contains "$out" "$holder" "topic create names the holder"
rc=0; out=$("$MILLRACE" topic consume events --project "$project" --consumer c1 2>&1 >/dev/null) || rc=$?
expect_eq "$([ "$rc" -ne 0 ] && echo refused)" "refused" "consume --consumer beside serve exits non-zero"
expect_contains "$out" "$holder" "consume --consumer names the holder"
rc=0; out=$(echo '{"id":1,"user":"a"}' | "$MILLRACE" topic produce events --project "$project" --key-field user 2>&1) || rc=$?
expect_eq "$([ "$rc" -ne 0 ] && echo refused)" "refused" "produce --key-field beside serve exits non-zero"
expect_contains "$out" "$holder" "produce --key-field names the holder"

# A second serve on the same data directory (another port) refuses; the first keeps running.
second_port=$(free_port)
rc=0; out=$(timeout 20 "$MILLRACE" serve "$project" --listen "127.0.0.1:$second_port" 2>&1) || rc=$?
expect_eq "$([ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && echo refused)" "refused" "a second serve exits non-zero"
expect_contains "$out" "$holder" "a second serve names the holder"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$url/healthz")" "200" "the first serve is still up"
out=$(curl -s -H 'Content-Type: application/x-ndjson' --data-binary '{"id":5001}' "$url/v1/ingest/events")
expect_contains "$out" '"accepted":1' "and still takes records"

# kill -9: the lock dies with the process; a restart is not blocked and every record is there.
kill9_server
start_server "$project" "$port" "$WORK/serve2.log"
ids=$("$MILLRACE" topic consume events --project "$project" | grep -o '"id":[0-9]*' | sort -u | wc -l | tr -d ' ')
expect_eq "$ids" "5001" "all 5001 acknowledged records survive (no silent loss)"
stop_server
out=$("$MILLRACE" topic create other --project "$project" 2>&1)
expect_contains "$out" "created topic" "after serve stopped, topic create works"

# One flipped byte in the middle of a segment: nothing is cut, the damage is reported (log,
# metric, readers), the records after it are intact and new records get fresh offsets.
segment=$project/data/log/events/0/00000000000000000000.log
[ -f "$segment" ] || segment=$(find "$project" -path '*/log/events/0/*.log' | head -1)
size_before=$(stat -c %s "$segment")
node -e "const fs=require('fs');const fd=fs.openSync(process.argv[1],'r+');const b=Buffer.alloc(1);
const at=Math.floor(fs.fstatSync(fd).size/2);fs.readSync(fd,b,0,1,at);b[0]^=0x5a;fs.writeSync(fd,b,0,1,at)" "$segment"
start_server "$project" "$port" "$WORK/serve3.log"
expect_eq "$(stat -c %s "$segment")" "$size_before" "a flipped byte cuts nothing"
expect_contains "$(cat "$WORK/serve3.log")" "damaged log data kept" "serve logs the damage"
expect_contains "$(curl -s "$url/metrics")" "millrace_log_damaged_ranges 1" "and counts it"
rc=0; out=$("$MILLRACE" topic consume events --project "$project" --partition 0 2>&1 >/dev/null) || rc=$?
expect_eq "$([ "$rc" -ne 0 ] && echo failed)" "failed" "consume stops at the damage"
expect_contains "$out" "damaged log data: $segment bytes [" "naming the file and range"
resume=$(grep -oE 'records from offset [0-9]+' <<<"$out" | grep -oE '[0-9]+$')
end=$(curl -s "$url/v1/topics/events" | grep -oE '"partition":0,"start_offset":0,"end_offset":[0-9]+' | grep -oE '[0-9]+$')
after=$("$MILLRACE" topic consume events --project "$project" --partition 0 --offset "$resume" 2>/dev/null | wc -l | tr -d ' ')
expect_eq "$after" "$((end - resume))" "every record after the damage is intact"
stop_server

# Two schedulers on one data directory: the second refuses naming the first.
mkdir -p "$project/jobs"
cat >"$project/jobs/tick.yaml" <<'YAML'
name: tick
schedule: "0 3 * * *"
tasks:
  noop: { kind: shell, command: "true" }
YAML
"$MILLRACE" jobs serve "$project" >"$WORK/jobs1.log" 2>&1 &
jobs_pid=$!
for _ in $(seq 1 200); do
  grep -q "scheduler serving" "$WORK/jobs1.log" && break
  sleep 0.1
done
rc=0; out=$(timeout 20 "$MILLRACE" jobs serve "$project" 2>&1) || rc=$?
expect_eq "$([ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && echo refused)" "refused" "a second jobs serve exits non-zero"
expect_contains "$out" "process $jobs_pid (millrace jobs serve)" "a second jobs serve names the first"
kill -TERM "$jobs_pid" 2>/dev/null || true
wait "$jobs_pid" || true
finish
