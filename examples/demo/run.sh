#!/usr/bin/env bash
# `make demo`: the richest end-to-end example that works today. It grows with the project.
# Today: generate a day of food-delivery order events (with the bad records real feeds carry),
# validate the order-monitoring project, and push the events through the codecs, with bad records
# going to a dead-letter file with their reasons.
set -euo pipefail
MILLRACE=${1:-build/release/src/cli/millrace}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT="$ROOT/build/demo"
rm -rf "$OUT"; mkdir -p "$OUT"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. Validate the example project (examples/order-monitoring)"
"$MILLRACE" validate "$ROOT/examples/order-monitoring"

step "2. Generate 500,000 order events, 0.5% of them deliberately bad"
"$MILLRACE" generate orders --rows 500000 --bad-fraction 0.005 --seed 2026 -o "$OUT/orders.ndjson"
head -c 400 "$OUT/orders.ndjson"; echo "..."

SCHEMA="order_id: string not null, user_id: string, restaurant_id: string, timestamp: timestamp not null, status: string, amount: double not null, items: int32, city: string"
step "3. Decode NDJSON through the declared schema, encode CSV; bad records to a dead-letter file"
"$MILLRACE" convert "$OUT/orders.ndjson" "$OUT/orders.csv" --schema "$SCHEMA" \
  --errors "$OUT/orders_dead_letter.ndjson"
echo "first dead-letter records:"
head -n 3 "$OUT/orders_dead_letter.ndjson" | cut -c1-220

step "4. And back: CSV -> NDJSON (with schema inference this time)"
"$MILLRACE" convert "$OUT/orders.csv" "$OUT/orders_roundtrip.ndjson"

step "Where to look"
cat <<TXT
  events:        $OUT/orders.ndjson
  as CSV:        $OUT/orders.csv
  dead letters:  $OUT/orders_dead_letter.ndjson (one JSON line per rejected record: reason, line, raw bytes)
  round trip:    $OUT/orders_roundtrip.ndjson
  try:           $MILLRACE help convert
TXT
