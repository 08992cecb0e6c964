#!/usr/bin/env bash
# kill -9 durability: a client ingests into a topic with `fsync: always` while the server is
# killed with SIGKILL and restarted, again and again. Every acknowledged record must be present
# afterwards, at the offset its response named, exactly once, in order per partition.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/server.sh"

project=$WORK/project
mkdir -p "$project"
cat > "$project/millrace.yaml" <<'YAML'
name: durability
topics:
  events: { partitions: 2, fsync: always, segment_bytes: 65536 }
YAML
port=$(free_port)
log=$WORK/serve.log
start_server "$project" "$port" "$log"
node "$ROOT/tests/integration/lib/ingest_client.mjs" produce "http://127.0.0.1:$port" events \
  "$WORK/stop" "$WORK/acked.json" 4 &
client=$!
for round in 1 2 3 4 5 6; do
  sleep 0.$((RANDOM % 6 + 4))
  kill9_server
  start_server "$project" "$port" "$log"
done
sleep 0.5
touch "$WORK/stop"
wait "$client"
kill9_server
start_server "$project" "$port" "$log"
set +e
out=$(node "$ROOT/tests/integration/lib/ingest_client.mjs" verify "http://127.0.0.1:$port" events \
  "$WORK/acked.json" 2)
rc=$?
set -e
echo "$out"
expect_eq "$rc" "0" "every acknowledged record survives 6 kill -9s, once, in order"
segments=$(ls "$project/data/log/events/0" | grep -c '\.log$')
if [ "$segments" -gt 1 ]; then pass "segments rolled during the run ($segments)"; else fail "no segment roll"; fi
stop_server
finish
