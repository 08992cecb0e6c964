#!/usr/bin/env bash
# Online feature serving: `millrace serve` on a project
# with feature views, YAML routes and a `serving:` block; rows pushed over
# POST /v1/features/{view}/upsert, then every read route and every bad-input answer checked
# with curl: 404/400/413/401/403/429/503/304, Feast's response shape, auth on the log's routes
# too, and the captured traffic in its replay format.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/server.sh"

project=$WORK/features
mkdir -p "$project/features" "$project/routes"
cat > "$project/millrace.yaml" <<'YAML'
name: feature-platform
include: [features/*.yaml, routes/*.yaml]
topics:
  clicks: { partitions: 1 }
serving:
  max_batch_keys: 3
  request_timeout: 1s
  auth:
    tokens:
      - { token: reader-token, scopes: [features] }
      - { token: writer-token, scopes: [ingest] }
      - { token_env: IT_ADMIN_TOKEN, scopes: [ingest, features, admin] }
  capture: { topic: feature_requests, sample: 1.0 }
YAML
cat > "$project/features/user_features.yaml" <<'YAML'
name: user_features
entities: { user_id: int64 }
features:
  clicks_30d: { type: int64, default: 0 }
  avg_viewed_price: { type: double, default: 0.0 }
  product_heat: int64
  segment: string
ttl: 2d
source:
  lake: { table: user_features }
YAML
cat > "$project/features/user_item.yaml" <<'YAML'
name: user_item
entities: { user_id: int64, item_id: string }
features:
  score: { type: double, default: -1.0 }
source:
  lake: { table: user_item }
YAML
cat > "$project/routes/user.yaml" <<'YAML'
name: user
path: /feature/user
view: user_features
key: { uid: user_id }
features:
  clicks_30d: clicks_30d
  avg_price: { feature: avg_viewed_price, type: double, default: 0.0 }
  heat: { feature: product_heat, type: double }
cache_control: "private, max-age=5"
YAML
cat > "$project/routes/limited.yaml" <<'YAML'
name: limited
path: /feature/limited
view: user_features
rate_limit: { rps: 0.01, burst: 2 }
YAML
cat > "$project/routes/slow.yaml" <<'YAML'
name: slow
path: /feature/slow
view: user_features
timeout: 1us
YAML

export IT_ADMIN_TOKEN=admin-token-from-env
port=$(free_port)
url=http://127.0.0.1:$port
start_server "$project" "$port" "$WORK/serve.log"
R=(-H 'Authorization: Bearer reader-token')
W=(-H 'Authorization: Bearer writer-token')
A=(-H "Authorization: Bearer $IT_ADMIN_TOKEN")
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
call() { curl -s -w ' %{http_code}' "$@" | tr -d '\n'; }  # body and status on one line

# Push rows (ingest scope): NDJSON, one bad key and one unknown feature reported by index.
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
out=$(curl -s "${W[@]}" -H 'Content-Type: application/x-ndjson' --data-binary @- \
  "$url/v1/features/user_features/upsert" <<NDJSON
{"user_id":1,"clicks_30d":5,"avg_viewed_price":12.5,"product_heat":7,"segment":"a","event_timestamp":"$now"}
{"user_id":"x","clicks_30d":1}
{"user_id":2,"clicks_30":1}
{"user_id":3,"clicks_30d":9,"event_timestamp":"2020-01-01T00:00:00Z"}
NDJSON
)
expect_contains "$out" '"upserted":2,"unchanged":0,"rejected":2' "upsert: good rows stored, bad ones rejected"
expect_contains "$out" '{"index":1,"error":"key `user_id` must be an int64, got `x`"}' "upsert: per-row error by index"
expect_contains "$out" 'did you mean `clicks_30d`?' "upsert: unknown feature with a hint"
out=$(curl -s "${W[@]}" -H 'Content-Type: application/json' \
  -d '[{"user_id":1,"item_id":"book","score":0.75}]' "$url/v1/features/user_item/upsert")
expect_contains "$out" '"upserted":1' "upsert: JSON array into a two-entity view"

# Event times from the future would pin a key forever: rejected per row with the reason, never
# stored; an older row than the stored one changes nothing and says so.
out=$(call "${W[@]}" -H 'Content-Type: application/x-ndjson' --data-binary @- \
  "$url/v1/features/user_features/upsert" <<'NDJSON'
{"user_id":5,"clicks_30d":1,"event_timestamp":"9999-12-31T00:00:00Z"}
{"user_id":5,"clicks_30d":1,"event_timestamp":9223372036854775807}
NDJSON
)
expect_contains "$out" '"upserted":0,"unchanged":0,"rejected":2' "future event times: every row rejected"
expect_contains "$out" 'ahead of the clock' "future event times: the reason"
expect_contains "$out" ' 400' "future event times only: 400"
expect_contains "$(curl -s "${R[@]}" "$url/v1/features/user_features?user_id=5")" '"status":"NOT_FOUND"' "a rejected future row is not stored"
out=$(curl -s "${W[@]}" -H 'Content-Type: application/x-ndjson' \
  --data-binary '{"user_id":5,"clicks_30d":2}' "$url/v1/features/user_features/upsert")
expect_contains "$out" '"upserted":1,"unchanged":0' "the key takes later upserts"
out=$(curl -s "${W[@]}" -H 'Content-Type: application/x-ndjson' \
  --data-binary '{"user_id":1,"clicks_30d":99,"event_timestamp":"2024-01-01T00:00:00Z"}' \
  "$url/v1/features/user_features/upsert")
expect_contains "$out" '"upserted":0,"unchanged":1,"rejected":0,"unchanged_rows":[0]' "an older row: unchanged, not upserted"

# Reads.
out=$(curl -s "${R[@]}" "$url/v1/features/user_features?user_id=1")
expect_eq "$out" "{\"view\":\"user_features\",\"key\":{\"user_id\":1},\"status\":\"PRESENT\",\"event_timestamp\":\"$now\",\"features\":{\"clicks_30d\":5,\"avg_viewed_price\":12.5,\"product_heat\":7,\"segment\":\"a\"}}" "GET a present key"
out=$(curl -s "${R[@]}" "$url/v1/features/user_features?key=42")
expect_contains "$out" '"status":"NOT_FOUND","event_timestamp":null,"features":{"clicks_30d":0,"avg_viewed_price":0.0,"product_heat":null,"segment":null}' "GET a missing key: 200 with defaults"
out=$(curl -s "${R[@]}" "$url/v1/features/user_features?user_id=3&features=clicks_30d")
expect_contains "$out" '"status":"OUTSIDE_MAX_AGE","event_timestamp":"2020-01-01T00:00:00Z","features":{"clicks_30d":0}' "GET an expired key: defaults"
out=$(curl -s "${R[@]}" "$url/v1/features/user_features?user_id=1&features=segment&max_age=0s")
expect_contains "$out" '"status":"OUTSIDE_MAX_AGE"' "max_age narrows the TTL"
out=$(curl -s "${R[@]}" "$url/v1/features/user_item?user_id=1&item_id=book")
expect_contains "$out" '"key":{"user_id":1,"item_id":"book"},"status":"PRESENT"' "GET a two-entity key"
out=$(curl -s "${R[@]}" -d '{"keys":[42,{"user_id":1}],"features":["clicks_30d"]}' "$url/v1/features/user_features/batch")
expect_contains "$out" '"results":[{"key":{"user_id":42},"status":"NOT_FOUND","event_timestamp":null,"features":{"clicks_30d":0}},{"key":{"user_id":1},"status":"PRESENT"' "batch: rows in key order"

# The YAML route: renames, int -> double, its Cache-Control, ETag and 304.
headers=$(curl -s -D - -o "$WORK/body" "${R[@]}" "$url/feature/user?uid=1")
expect_eq "$(cat "$WORK/body")" "{\"key\":{\"uid\":1},\"status\":\"PRESENT\",\"event_timestamp\":\"$now\",\"features\":{\"clicks_30d\":5,\"avg_price\":12.5,\"heat\":7.0}}" "YAML route: renamed and converted"
expect_contains "$headers" 'Cache-Control: private, max-age=5' "YAML route: its Cache-Control"
etag=$(grep -i '^etag:' <<<"$headers" | cut -d' ' -f2 | tr -d '\r')
expect_eq "$(code "${R[@]}" -H "If-None-Match: $etag" "$url/feature/user?uid=1")" "304" "If-None-Match: 304"
expect_eq "$(code "${R[@]}" -H 'If-None-Match: "other"' "$url/feature/user?uid=1")" "200" "other ETag: 200"

# Feast's feature server shape.
out=$(curl -s "${R[@]}" -d '{"features":["user_features:clicks_30d","user_features:segment"],"entities":{"user_id":[1,42]}}' "$url/get-online-features")
expect_eq "$out" "{\"metadata\":{\"feature_names\":[\"user_id\",\"clicks_30d\",\"segment\"]},\"results\":[{\"values\":[1,42],\"statuses\":[\"PRESENT\",\"PRESENT\"],\"event_timestamps\":[\"1970-01-01T00:00:00Z\",\"1970-01-01T00:00:00Z\"]},{\"values\":[5,0],\"statuses\":[\"PRESENT\",\"NOT_FOUND\"],\"event_timestamps\":[\"$now\",\"1970-01-01T00:00:00Z\"]},{\"values\":[\"a\",null],\"statuses\":[\"PRESENT\",\"NOT_FOUND\"],\"event_timestamps\":[\"$now\",\"1970-01-01T00:00:00Z\"]}]}" "Feast get-online-features"
out=$(curl -s "${R[@]}" -d '{"feature_service":"user","entities":{"user_id":[1]},"full_feature_names":true}' "$url/get-online-features")
expect_contains "$out" '"feature_names":["user_id","user_features__clicks_30d","user_features__avg_viewed_price","user_features__product_heat"]' "Feast full_feature_names with a route as feature service"

# Bad input: always a JSON error naming the problem.
out=$(call "${R[@]}" "$url/v1/features/user_feature?user_id=1")
expect_eq "$out" '{"error":"unknown feature view `user_feature`; did you mean `user_features`?"} 404' "unknown view: 404 with a hint"
out=$(call "${R[@]}" "$url/feature/usr?uid=1")
expect_eq "$out" '{"error":"no route for /feature/usr; did you mean /feature/user?"} 404' "unknown route: 404 with a hint"
out=$(call "${R[@]}" "$url/feature/user?user_id=1")
expect_eq "$out" '{"error":"missing key parameter `uid`"} 400' "missing key parameter: 400"
out=$(call "${R[@]}" "$url/v1/features/user_features?user_id=abc")
expect_eq "$out" '{"error":"key `user_id` must be an int64, got `abc`"} 400' "wrong key type: 400"
out=$(call "${R[@]}" "$url/v1/features/user_features?user_id=1&features=clicks,segment")
expect_contains "$out" 'unknown feature `clicks` of view `user_features`' "unknown feature: 400"
expect_contains "$out" ' 400' "unknown feature status"
out=$(call "${R[@]}" -d $'{"keys":[1,\n 2,]}' "$url/v1/features/user_features/batch")
expect_contains "$out" 'malformed JSON at line 2, column 4' "malformed JSON: 400 with the position"
expect_contains "$out" ' 400' "malformed JSON status"
out=$(call "${R[@]}" -d '{"keys":[1,2,3,4]}' "$url/v1/features/user_features/batch")
expect_eq "$out" '{"error":"4 keys in one request; the limit is 3 (serving.max_batch_keys)"} 413' "too many keys: 413"
out=$(call "${R[@]}" -d '{"features":["user_features:clicks_30d"],"entities":{"user_id":[1,2,3,4]}}' "$url/get-online-features")
expect_contains "$out" ' 413' "Feast: too many keys: 413"

# Auth by route group, for the feature routes and the log's routes alike.
headers=$(curl -s -D - -o "$WORK/body" "$url/v1/features/user_features?user_id=1")
expect_contains "$headers" ' 401' "no token: 401"
expect_contains "$headers" 'WWW-Authenticate: Bearer' "401 carries WWW-Authenticate: Bearer"
expect_contains "$(cat "$WORK/body")" '{"error":' "401 body is a JSON error"
expect_eq "$(code -H 'Authorization: Basic abc' "$url/feature/user?uid=1")" "401" "malformed Authorization: 401"
expect_eq "$(code -H 'Authorization: Bearer nope' "$url/feature/user?uid=1")" "401" "unknown token: 401"
expect_eq "$(code "${W[@]}" "$url/feature/user?uid=1")" "403" "token without the features scope: 403"
expect_eq "$(code "${R[@]}" -H 'Content-Type: application/json' -d '{"user_id":9}' "$url/v1/features/user_features/upsert")" "403" "reader cannot upsert: 403"
expect_eq "$(code -H 'Content-Type: application/json' -d '{"a":1}' "$url/v1/ingest/clicks")" "401" "ingest route needs a token too"
expect_eq "$(code "${W[@]}" -H 'Content-Type: application/json' -d '{"a":1}' "$url/v1/ingest/clicks")" "200" "ingest with the ingest scope"
expect_eq "$(code "${R[@]}" "$url/v1/topics")" "403" "admin route with a features token: 403"
expect_eq "$(code "${A[@]}" "$url/v1/topics")" "200" "admin route with the token_env token"
expect_eq "$(code "$url/healthz")" "200" "/healthz stays open"
out=$(call "$url/readyz")
expect_contains "$out" '{"status":"ready","components":{"log":{"status":"ok"' "/readyz: open, every component ready"
expect_contains "$out" '"online_store":{"status":"ok"' "/readyz: the online store is checked"
expect_contains "$out" ' 200' "/readyz: 200"

# Rate limit (burst 2, then 429 + Retry-After) and the route's timeout (1us: 503).
expect_eq "$(code "${R[@]}" "$url/feature/limited?user_id=1") $(code "${R[@]}" "$url/feature/limited?user_id=1")" "200 200" "within the burst"
headers=$(curl -s -D - -o "$WORK/body" "${R[@]}" "$url/feature/limited?user_id=1")
expect_contains "$headers" ' 429' "past the burst: 429"
expect_contains "$headers" 'Retry-After: ' "429 carries Retry-After"
out=$(call "${R[@]}" "$url/feature/slow?user_id=1")
expect_eq "$out" '{"error":"timed out after 1us"} 503' "lookup past the route's timeout: 503"

# Metrics and captured traffic (replay format).
metrics=$(curl -s "$url/metrics")
expect_contains "$metrics" 'millrace_feature_keys_total{view="user_features",status="PRESENT"}' "keys by view and status"
expect_contains "$metrics" 'millrace_http_requests_total{route="route:user",status="2xx"}' "YAML route metrics named route:<name>"
sleep 0.1
records=$(curl -s "${A[@]}" "$url/v1/topics/feature_requests/records?partition=0&offset=0&max=1000")
expect_contains "$records" '"method":"GET","target":"/v1/features/user_features?user_id=1","body":"","status":200,"response":"{\"view\":\"user_features\"' "captured request in replay format"
expect_contains "$records" '"method":"POST","target":"/get-online-features","body":"{\"features\"' "captured POST with its body"
expect_contains "$records" '"latency_us":' "captured latency"
expect_contains "$records" '"ts_us":' "captured timestamp"

stop_server
expect_contains "$(cat "$WORK/serve.log")" '"msg":"stopped"' "graceful stop"

# No auth where other machines reach the server only when the project says so.
open_project=$WORK/open
mkdir -p "$open_project/features"
cp "$project/features/user_features.yaml" "$open_project/features/"
printf 'name: open\ninclude: [features/*.yaml]\nlisten: { http: "0.0.0.0:%s" }\n' "$(free_port)" >"$open_project/millrace.yaml"
out=$(timeout 10 "$MILLRACE" serve "$open_project" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "serve on 0.0.0.0 without tokens refuses to start"
expect_contains "$out" "millrace.yaml:3:17: error: refusing to serve on \`listen.http\` 0.0.0.0:" "the refusal points at listen.http"
expect_contains "$out" 'serving: { auth: none }' "and names the fixes"
out=$("$MILLRACE" validate "$open_project" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "validate reports it too"
expect_contains "$out" "millrace.yaml:3:17: error: refusing to serve on \`listen.http\` 0.0.0.0:" "validate: at listen.http"
out=$(timeout 10 "$MILLRACE" serve "$open_project" --listen "0.0.0.0:$(free_port)" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "the same with --listen"
expect_contains "$out" "refusing to serve on --listen 0.0.0.0:" "naming the flag"
printf 'serving: { auth: none }\n' >>"$open_project/millrace.yaml"
open_port=$(free_port)
"$MILLRACE" serve "$open_project" --listen "0.0.0.0:$open_port" >"$WORK/open.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
  if curl -sf "http://127.0.0.1:$open_port/healthz" >/dev/null 2>&1; then break; fi
  sleep 0.05
done
expect_eq "$(code "http://127.0.0.1:$open_port/healthz")" "200" "with auth: none it starts"
stop_server
expect_contains "$(cat "$WORK/open.log")" "WARNING: millrace serve listens on 0.0.0.0:$open_port with NO AUTH" "and warns on stderr"
expect_contains "$(cat "$WORK/open.log")" '"msg":"serving without auth on a non-loopback address"' "and in the log"

# `millrace validate` checks routes and the serving block, every error with file:line:column
# (token_env need not be set to validate).
expect_contains "$(env -u IT_ADMIN_TOKEN "$MILLRACE" validate "$project")" "is valid" "validate: the project is valid"
cat > "$project/routes/broken.yaml" <<'YAML'
name: broken
path: /feature/broken
view: user_featurs
YAML
cat > "$project/routes/broken2.yaml" <<'YAML'
name: broken2
path: /feature/broken2
view: user_features
features:
  price: { feature: avg_viewed_price, type: int64 }
YAML
out=$("$MILLRACE" validate "$project" 2>&1 || true)
expect_contains "$out" "routes/broken.yaml:3:7: error: unknown feature view \`user_featurs\` for route \`broken\`; did you mean \`user_features\`?" "validate: unknown view with its position"
expect_contains "$out" "routes/broken2.yaml:5:45: error: cannot serve feature \`avg_viewed_price\` (double) as int64" "validate: impossible conversion at its type"
finish
