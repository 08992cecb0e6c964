#!/usr/bin/env bash
# Validation at the door of POST /v1/ingest: clear 4xx answers with JSON bodies for oversized,
# mistyped, malformed, slow and unknown requests; per-record errors by index with the good
# records kept; dead-lettering; the server never goes down.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/server.sh"

project=$WORK/project
mkdir -p "$project"
cat > "$project/millrace.yaml" <<'YAML'
name: validation
topics:
  events: {}
  orders:
    schema: "order_id: string not null, amount: double not null"
    on_error: dead_letter
YAML
port=$(free_port)
url=http://127.0.0.1:$port
start_server "$project" "$port" "$WORK/serve.log"
# The server's own flags for this test: small body limit and short read timeouts.
stop_server
"$MILLRACE" serve "$project" --listen "127.0.0.1:$port" --max-body-bytes 1000000 \
  --header-timeout-ms 1000 --body-timeout-ms 1000 >>"$WORK/serve.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do curl -sf "$url/healthz" >/dev/null && break; sleep 0.05; done

post() {  # <path> <content-type> <body-file> -> "status body"
  curl -s -o "$WORK/body" -w '%{http_code}' -H "Content-Type: $2" --data-binary "@$3" "$url$1"
  printf ' '; cat "$WORK/body"
}
ndjson=application/x-ndjson

head -c 2000000 /dev/zero | tr '\0' 'x' > "$WORK/big"
out=$(post /v1/ingest/events $ndjson "$WORK/big")
expect_contains "$out" "413 {\"error\":\"request body larger than 1000000 bytes\"}" "oversized body: 413"

awk 'BEGIN { for (i = 0; i < 100001; i++) print "{}" }' > "$WORK/many"
out=$(post /v1/ingest/events $ndjson "$WORK/many")
expect_contains "$out" '413 {"error":"more than 100000 records in one request"}' "too many records: 413"

echo '{"a":1}' > "$WORK/one"
out=$(post /v1/ingest/events text/csv "$WORK/one")
expect_contains "$out" "415 {\"error\":\"Content-Type must be" "wrong content type: 415"

out=$(post /v1/ingest/nosuch $ndjson "$WORK/one")
expect_contains "$out" '404 {"error":"unknown topic `nosuch`"}' "unknown topic: 404"

printf '[{"a":1},{"a":2}' > "$WORK/open"
out=$(post /v1/ingest/events application/json "$WORK/open")
expect_contains "$out" '400 {"error":"the JSON array is not closed"}' "unclosed array: 400"

printf '{"n":1}\n{"n":2,}\n{"n":"\xff"}\n[]\n{"n":3}\n' > "$WORK/mixed"
out=$(post /v1/ingest/events $ndjson "$WORK/mixed")
expect_contains "$out" '200 {"accepted":2,"rejected":3' "mixed batch: good records kept"
expect_contains "$out" '{"index":1,"error":"invalid JSON' "bad JSON reported at index 1"
expect_contains "$out" '{"index":2,"error":"invalid JSON: The input is not valid UTF-8' "invalid UTF-8 at index 2"
expect_contains "$out" '{"index":3,"error":"the record is not a JSON object"}' "non-object at index 3"

printf 'nope\n' > "$WORK/allbad"
out=$(post /v1/ingest/events $ndjson "$WORK/allbad")
expect_contains "$out" '400 {"accepted":0,"rejected":1' "all records bad: 400"

printf '[{"order_id":"o1","amount":1.5},{"order_id":"o2","amount":"lots"},{"amount":2}]' > "$WORK/orders"
out=$(post /v1/ingest/orders application/json "$WORK/orders")
expect_contains "$out" '200 {"accepted":1,"rejected":2,"dead_lettered":2' "schema errors dead-lettered"
expect_contains "$out" '{"index":1,"error":"field `amount`: expected double' "schema error names the field"
dlq=$(curl -s "$url/v1/topics/orders_dlq/records")
expect_contains "$dlq" '"reason":"missing required field `order_id`","raw":"{\"amount\":2}"' "DLQ keeps reason and raw record"

stored=$(curl -s "$url/v1/topics/events/records?partition=0&offset=0&max=10")
expect_contains "$stored" '"value":{"n":1}},{"offset":1' "good records readable"
out=$(curl -s -w '%{http_code}' "$url/v1/topics/events/records?offset=abc")
expect_contains "$out" '"error":"partition, offset and max must be non-negative integers"}' "bad query: error body"
expect_contains "$out" '400' "bad query: 400"

# Malformed HTTP, oversized headers, slowloris: answered, not crashed.
raw_http() {  # <bytes (printf %b)> <seconds to stay silent after them>: prints the answer
  (
    exec 3<>"/dev/tcp/127.0.0.1/$port"
    printf '%b' "$1" >&3
    sleep "$2"
    timeout 3 cat <&3 || true
  )
}
out=$(raw_http 'GARBAGE\r\n\r\n' 0.3)
expect_contains "$out" "400 Bad Request" "malformed request line: 400"
big_header=$(head -c 20000 /dev/zero | tr '\0' 'h')
out=$(curl -s -w ' %{http_code}' -H "X-Big: $big_header" "$url/healthz")
expect_contains "$out" '431' "oversized headers: 431"
out=$(raw_http 'POST /v1/ingest/events HTTP/1.1\r\nHost: x\r\n' 1.5)
expect_contains "$out" "408 Request Timeout" "slow headers: 408"
out=$(raw_http 'POST /v1/ingest/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":' 1.5)
expect_contains "$out" "408 Request Timeout" "slow body: 408"
out=$(curl -s -X DELETE -w ' %{http_code}' "$url/v1/ingest/events")
expect_contains "$out" "405" "wrong method: 405"
expect_eq "$(curl -s "$url/healthz")" '{"status":"ok"}' "server still healthy"
metrics=$(curl -s "$url/metrics")
expect_contains "$metrics" 'millrace_http_requests_total{route="ingest",status="4xx"}' "request metrics"
expect_contains "$metrics" 'millrace_ingest_records_total{outcome="dead_letter"} 2' "dead-letter metric"
stop_server
finish
