#!/usr/bin/env bash
# `make demo`: the richest end-to-end example that works today. It grows with the project.
# Today: the retail batch job (a week of per-store POS CSV files → checks → SQL views
# → daily sales per store into CSV files and a Parquet lake table, bad rows dead-lettered with
# reasons); the online feature platform (user activity → features in the lake →
# materialized into the online store → served by YAML routes over HTTP, a job refreshing them
# through the server, captured traffic replayed); then a day of food-delivery order events
# pushed through the codecs with bad records going to a dead-letter file.
set -euo pipefail
MILLRACE=${1:-build/release/src/cli/millrace}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT="$ROOT/build/demo"
rm -rf "$OUT"; mkdir -p "$OUT"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. Validate the example projects (YAML, schemas and every view's SQL)"
"$MILLRACE" validate "$ROOT/examples/retail-daily-sales"
"$MILLRACE" validate "$ROOT/examples/order-monitoring"
"$MILLRACE" validate "$ROOT/examples/feature-platform"
"$MILLRACE" validate "$ROOT/examples/food-delivery"
"$MILLRACE" validate "$ROOT/examples/fraud-features"

RETAIL="$OUT/retail-daily-sales"
cp -r "$ROOT/examples/retail-daily-sales" "$RETAIL"
rm -rf "$RETAIL/incoming" "$RETAIL/out" "$RETAIL/data"
step "2. Generate a week of point-of-sale exports: 20 stores, 50,000 sales a day, some rows broken"
"$MILLRACE" generate sales --days 7 --stores 20 --rows-per-day 50000 --bad-fraction 0.002 \
  --seed 2026 --output-dir "$RETAIL/incoming"
ls "$RETAIL/incoming" | head -3; echo "..."

step "3. The plan of the daily-sales pipeline (the scan reads only the columns the views use)"
"$MILLRACE" explain "$RETAIL" daily_sales

step "4. Run it: checks drop incomplete rows, malformed rows go to the dead-letter file"
"$MILLRACE" run "$RETAIL" daily_sales
echo "daily totals:"
column -s, -t <"$RETAIL/out/daily_totals.csv" | head -8
echo "first dead-letter record:"
head -n 1 "$RETAIL/out/rejected.ndjson" | cut -c1-240

step "5. Ask the lake: the daily sales landed in a Parquet table partitioned by day"
"$MILLRACE" query "SELECT day, count(*) AS stores, sum(transactions) AS transactions, round(sum(revenue), 2) AS revenue
                   FROM daily_store_sales GROUP BY day ORDER BY day" -p "$RETAIL"
"$MILLRACE" lake history daily_store_sales -p "$RETAIL"

FEATURES="$OUT/feature-platform"
cp -r "$ROOT/examples/feature-platform" "$FEATURES"
rm -rf "$FEATURES/incoming" "$FEATURES/out" "$FEATURES/data"
PORT=$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
sed -i "s/127.0.0.1:8090/127.0.0.1:$PORT/" "$FEATURES/millrace.yaml"
URL=http://127.0.0.1:$PORT
step "6. Online features: 35 days of user activity -> features in the lake"
"$MILLRACE" generate activity --days 35 --rows-per-day 20000 --users 10000 --bad-fraction 0.001 \
  --seed 2026 --output-dir "$FEATURES/incoming"
"$MILLRACE" run "$FEATURES" user_features

step "7. Materialize them into the online store (RocksDB; newest event time per key wins)"
"$MILLRACE" materialize "$FEATURES"

step "8. Serve them: YAML routes, the Feast API, a job refreshing through the server"
"$MILLRACE" serve "$FEATURES" >"$OUT/serve.log" 2>&1 &
SERVE_PID=$!
trap 'kill $SERVE_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "$URL/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
show() { echo "\$ curl $*"; curl -s "$@"; echo; }
show "$URL/feature/user?uid=1"
show "$URL/feature/user?uid=99999999"
show "$URL/feature/user?uid=abc"
show "$URL/feature/product?pid=7"
show -d '{"features":["user_features:clicks_30d"],"entities":{"user_id":[1,2]}}' "$URL/get-online-features"
show -X POST "$URL/v1/jobs/refresh_features/trigger"
for _ in $(seq 1 100); do
  state=$(curl -s "$URL/v1/runs?job=refresh_features" | grep -oE '"state":"[a-z_]+"' | head -1)
  case "$state" in *success*|*failed*) break ;; esac; sleep 0.1
done
echo "refresh_features: $state"
show "$URL/feature/user?uid=1"
curl -s "$URL/metrics" | grep -E '^millrace_online_cache_requests_total|^millrace_http_requests_total\{route="route:user"' || true
step "9. Replay the captured serving traffic against the server, comparing responses"
echo "(the refresh in step 8 re-stamped every row, so the replay shows which answers changed)"
"$MILLRACE" replay --from "$URL" --topic feature_requests --target "$URL" --rate 100 --limit 5 --compare || true
kill -TERM $SERVE_PID; wait $SERVE_PID 2>/dev/null || true; trap - EXIT

step "10. Generate 500,000 order events, 0.5% of them deliberately bad"
"$MILLRACE" generate orders --rows 500000 --bad-fraction 0.005 --seed 2026 -o "$OUT/orders.ndjson"
head -c 400 "$OUT/orders.ndjson"; echo "..."

SCHEMA="order_id: string not null, user_id: string, restaurant_id: string, timestamp: timestamp not null, status: string, amount: double not null, items: int32, city: string"
step "11. Decode NDJSON through the declared schema, encode CSV; bad records to a dead-letter file"
"$MILLRACE" convert "$OUT/orders.ndjson" "$OUT/orders.csv" --schema "$SCHEMA" \
  --errors "$OUT/orders_dead_letter.ndjson"
echo "first dead-letter records:"
head -n 3 "$OUT/orders_dead_letter.ndjson" | cut -c1-220

step "12. And back: CSV -> NDJSON (with schema inference this time)"
"$MILLRACE" convert "$OUT/orders.csv" "$OUT/orders_roundtrip.ndjson"

# The streaming examples, each on a fresh copy: records on a topic, `run --until-idle`.
copy_example() {  # <name>: a fresh copy under $OUT
  cp -r "$ROOT/examples/$1" "$OUT/$1"
  rm -rf "$OUT/$1/data" "$OUT/$1/out" "$OUT/$1/geo"
}
FOOD="$OUT/food-delivery"
copy_example food-delivery
step "13. Streaming: food-delivery orders -> one-minute windows per city -> lake + online store"
"$MILLRACE" generate orders --rows 60000 --bad-fraction 0.01 --seed 5 -o "$OUT/food_orders.ndjson"
"$MILLRACE" topic create orders -p "$FOOD" --partitions 2
"$MILLRACE" topic produce orders -p "$FOOD" -i "$OUT/food_orders.ndjson" --key-field user_id
"$MILLRACE" run "$FOOD" city_minute --until-idle --idle 1s
"$MILLRACE" query "SELECT city, window_start, orders, revenue, p95_amount, customers FROM city_minute ORDER BY city, window_start LIMIT 6" -p "$FOOD"

LOGS="$OUT/log-collection"
copy_example log-collection
step "14. Streaming: access logs -> User-Agent, GeoIP, URL parsed -> PV, UV, p95/p99 per page and minute"
perl "$LOGS/make_geo_db.pl" "$LOGS/geo/city.mmdb"
"$MILLRACE" validate "$LOGS"
/usr/bin/python3 "$LOGS/make_access_log.py" --rows 12000 --seed 7 --bad-fraction 0.005 >"$OUT/access.ndjson"
"$MILLRACE" topic create access_log -p "$LOGS" --partitions 2
"$MILLRACE" topic produce access_log -p "$LOGS" -i "$OUT/access.ndjson" --key-field user_id
"$MILLRACE" run "$LOGS" access_metrics --until-idle --idle 1s
"$MILLRACE" query "SELECT page, sum(pv) AS pv, max(uv) AS peak_uv, round(max(p95_ms), 1) AS worst_p95_ms, round(max(p99_ms), 1) AS worst_p99_ms FROM page_minute GROUP BY page ORDER BY pv DESC" -p "$LOGS"
"$MILLRACE" query "SELECT country, browser, os, device, sum(pv) AS pv FROM audience_minute GROUP BY country, browser, os, device ORDER BY pv DESC LIMIT 6" -p "$LOGS"

FRAUD="$OUT/fraud-features"
copy_example fraud-features
PORT=$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
sed -i "s/127.0.0.1:8095/127.0.0.1:$PORT/" "$FRAUD/millrace.yaml"
step "15. Streaming: card transactions -> per-account features upserted online -> served over HTTP"
/usr/bin/python3 "$FRAUD/make_transactions.py" --rows 12000 --seed 3 >"$OUT/transactions.ndjson"
"$MILLRACE" topic create transactions -p "$FRAUD" --partitions 2
"$MILLRACE" topic produce transactions -p "$FRAUD" -i "$OUT/transactions.ndjson" --key-field account_id
"$MILLRACE" run "$FRAUD" account_features --until-idle --idle 1s
"$MILLRACE" serve "$FRAUD" >"$OUT/fraud_serve.log" 2>&1 &
SERVE_PID=$!
trap 'kill $SERVE_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
show "http://127.0.0.1:$PORT/risk/account?id=a-00042"
show "http://127.0.0.1:$PORT/risk/account?id=a-01234"
show "http://127.0.0.1:$PORT/v1/features/account_10m?account_id=a-00042"
kill -TERM $SERVE_PID; wait $SERVE_PID 2>/dev/null || true; trap - EXIT

step "Where to look"
cat <<TXT
  POS files:     $RETAIL/incoming/sales_*.csv
  daily sales:   $RETAIL/out/daily_store_sales.csv, $RETAIL/out/daily_totals.csv
  rejected rows: $RETAIL/out/rejected.ndjson (file, line, reason, original text)
  lake table:    $RETAIL/data/lake/daily_store_sales/ (Parquet, day=... partitions; DuckDB: read_parquet)
  the pipeline:  examples/retail-daily-sales/pipelines/daily_sales.yaml (SQL views, checks, sinks)
  features:      examples/feature-platform (README: curl commands); lake tables and online store
                 under $FEATURES/data; serve it: $MILLRACE serve $FEATURES
  events:        $OUT/orders.ndjson
  as CSV:        $OUT/orders.csv
  dead letters:  $OUT/orders_dead_letter.ndjson (one JSON line per rejected record: reason, line, raw bytes)
  round trip:    $OUT/orders_roundtrip.ndjson
  streaming:     examples/food-delivery, examples/log-collection, examples/fraud-features
                 (READMEs); their copies, lake tables and dead letters under $OUT
  try:           $MILLRACE help run; $MILLRACE help convert
TXT
