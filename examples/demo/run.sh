#!/usr/bin/env bash
# `make demo`: the richest end-to-end example that works today. It grows with the project.
# Today: the retail batch job of seed 002 (a week of per-store POS CSV files → checks → SQL views
# → daily sales per store into CSV files and a Parquet lake table, bad rows dead-lettered with
# reasons), then a day of food-delivery
# order events pushed through the codecs with bad records going to a dead-letter file.
set -euo pipefail
MILLRACE=${1:-build/release/src/cli/millrace}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT="$ROOT/build/demo"
rm -rf "$OUT"; mkdir -p "$OUT"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. Validate the example projects (YAML, schemas and every view's SQL)"
"$MILLRACE" validate "$ROOT/examples/retail-daily-sales"
"$MILLRACE" validate "$ROOT/examples/order-monitoring"

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

step "6. Generate 500,000 order events, 0.5% of them deliberately bad"
"$MILLRACE" generate orders --rows 500000 --bad-fraction 0.005 --seed 2026 -o "$OUT/orders.ndjson"
head -c 400 "$OUT/orders.ndjson"; echo "..."

SCHEMA="order_id: string not null, user_id: string, restaurant_id: string, timestamp: timestamp not null, status: string, amount: double not null, items: int32, city: string"
step "7. Decode NDJSON through the declared schema, encode CSV; bad records to a dead-letter file"
"$MILLRACE" convert "$OUT/orders.ndjson" "$OUT/orders.csv" --schema "$SCHEMA" \
  --errors "$OUT/orders_dead_letter.ndjson"
echo "first dead-letter records:"
head -n 3 "$OUT/orders_dead_letter.ndjson" | cut -c1-220

step "8. And back: CSV -> NDJSON (with schema inference this time)"
"$MILLRACE" convert "$OUT/orders.csv" "$OUT/orders_roundtrip.ndjson"

step "Where to look"
cat <<TXT
  POS files:     $RETAIL/incoming/sales_*.csv
  daily sales:   $RETAIL/out/daily_store_sales.csv, $RETAIL/out/daily_totals.csv
  rejected rows: $RETAIL/out/rejected.ndjson (file, line, reason, original text)
  lake table:    $RETAIL/data/lake/daily_store_sales/ (Parquet, day=... partitions; DuckDB: read_parquet)
  the pipeline:  examples/retail-daily-sales/pipelines/daily_sales.yaml (SQL views, checks, sinks)
  events:        $OUT/orders.ndjson
  as CSV:        $OUT/orders.csv
  dead letters:  $OUT/orders_dead_letter.ndjson (one JSON line per rejected record: reason, line, raw bytes)
  round trip:    $OUT/orders_roundtrip.ndjson
  try:           $MILLRACE help run; $MILLRACE help convert
TXT
