#!/usr/bin/env bash
# The README's quick start: `millrace serve` a project with topics, ingest with curl (NDJSON
# and a JSON array, keyed), consume over HTTP, then with `millrace topic` after a graceful stop;
# topic admin over HTTP and the CLI.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/server.sh"

project=$WORK/shop
mkdir -p "$project"
cat > "$project/millrace.yaml" <<'YAML'
name: shop
topics:
  clicks:
    partitions: 4
    fsync: always
    capture: { client_ip: remote_addr, user_agent: "header:User-Agent" }
YAML
port=$(free_port)
url=http://127.0.0.1:$port
start_server "$project" "$port" "$WORK/serve.log"

out=$(curl -s -H 'Content-Type: application/x-ndjson' -A 'it-agent/1.0' \
  --data-binary $'{"key":"u1","page":"/"}\n{"key":"u2","page":"/cart"}\n{"key":"u1","page":"/pay"}' \
  "$url/v1/ingest/clicks")
expect_contains "$out" '"accepted":3,"rejected":0' "NDJSON ingest accepted"
out=$(curl -s -H 'Content-Type: application/json' -d '[{"key":"u1","page":"/done"}]' "$url/v1/ingest/clicks")
expect_contains "$out" '"accepted":1' "JSON array ingest accepted"

topics=$(curl -s "$url/v1/topics")
expect_contains "$topics" '"name":"clicks"' "topic listed"
# All of u1's records are in one partition, in order, with the captured fields.
u1_partition=$(for p in 0 1 2 3; do
  if curl -s "$url/v1/topics/clicks/records?partition=$p" | grep -q "\"key\":\"u1\""; then echo "$p"; fi; done)
expect_eq "$(wc -w <<<"$u1_partition" | tr -d ' ')" "1" "one key, one partition"
records=$(curl -s "$url/v1/topics/clicks/records?partition=$u1_partition&offset=0&max=10")
expect_contains "$records" '"value":{"client_ip":"127.0.0.1","user_agent":"it-agent/1.0","key":"u1","page":"/"}' "captured client IP and User-Agent"
pages=$(grep -o '"key":"u1","page":"[^"]*"' <<<"$records" | cut -d, -f2 | tr '\n' ' ')
expect_contains "$pages" '"page":"/" "page":"/pay" "page":"/done"' "per-key order kept"

out=$(curl -s -X POST -d '{"name":"tmp","partitions":2,"fsync":"never"}' "$url/v1/topics")
expect_contains "$out" '"name":"tmp"' "topic created over HTTP"
out=$(curl -s -w ' %{http_code}' -X POST -d '{"name":"tmp"}' "$url/v1/topics")
expect_contains "$out" "409" "creating it again: 409"
out=$(curl -s -w ' %{http_code}' -X POST -d '{"name":"bad","partitions":0}' "$url/v1/topics")
expect_contains "$out" "400" "invalid topic config: 400"
out=$(curl -s -X DELETE "$url/v1/topics/tmp")
expect_contains "$out" '{"deleted":"tmp"}' "topic deleted over HTTP"
stop_server
expect_contains "$(cat "$WORK/serve.log")" '"msg":"stopped"' "graceful stop on SIGTERM"

# The CLI, on the project's data directory (server stopped).
count=$("$MILLRACE" topic consume clicks --project "$project" | wc -l | tr -d ' ')
expect_eq "$count" "4" "topic consume sees the 4 records"
"$MILLRACE" topic create audit --project "$project" --partitions 2 --fsync always >/dev/null
printf '{"id":1,"user":"a"}\n{"id":2,"user":"b"}\n{"id":3,"user":"a"}\n' |
  "$MILLRACE" topic produce audit --project "$project" --key-field user 2>/dev/null
expect_eq "$("$MILLRACE" topic list --project "$project" | tr '\n' ' ')" "audit clicks " "topic list"
expect_contains "$("$MILLRACE" topic describe audit --project "$project")" '"fsync":"always"' "topic describe"
first=$("$MILLRACE" topic consume audit --project "$project" --consumer c1 | wc -l | tr -d ' ')
again=$("$MILLRACE" topic consume audit --project "$project" --consumer c1 | wc -l | tr -d ' ')
expect_eq "$first/$again" "3/0" "consumer offsets are committed and resumed"
"$MILLRACE" topic delete audit --project "$project" >/dev/null
expect_eq "$("$MILLRACE" topic list --project "$project" | tr '\n' ' ')" "clicks " "topic delete"
finish
