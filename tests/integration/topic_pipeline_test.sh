#!/usr/bin/env bash
# A batch pipeline over a log topic: produce events into a 3-partition topic, run a pipeline
# whose source is the topic (bounded by the end offsets at start), write the result to a file
# and to another topic, and dead-letter the undecodable records into a dead-letter topic.
source "$(dirname "$0")/lib/common.sh"

project=$WORK/tp
mkdir -p "$project/pipelines"
cat >"$project/millrace.yaml" <<'YAML'
name: tp
include: [pipelines/*.yaml]
YAML
cat >"$project/pipelines/city.yaml" <<'YAML'
name: city
mode: batch
sources:
  orders:
    topic: orders
    format: json
    schema: { order_id: string not null, user_id: string, restaurant_id: string,
              timestamp: timestamp not null, status: string, amount: double not null,
              items: int32, city: string }
views:
  city_totals: |
    SELECT city, count(*) AS orders, round(sum(amount), 2) AS revenue
    FROM orders GROUP BY city
sinks:
  - { from: city_totals, file: { path: out/city_totals.csv, format: csv } }
  - { from: city_totals, topic: city_totals }
  - { from: dead_letter, topic: orders_dlq }
YAML
gen=$("$MILLRACE" generate orders --rows 20000 --bad-fraction 0.01 -o "$WORK/orders.ndjson" 2>&1)
bad=$(grep -oE '[0-9]+ deliberately bad' <<<"$gen" | cut -d' ' -f1)
"$MILLRACE" topic create orders -p "$project" --partitions 3 >/dev/null
"$MILLRACE" topic produce orders -p "$project" -i "$WORK/orders.ndjson" --key-field user_id >/dev/null

out=$("$MILLRACE" run "$project" city) && rc=0 || rc=$?
expect_eq "$rc" "0" "the topic pipeline runs"
read_rows=$(grep -oE '[0-9]+ rows read' <<<"$out" | cut -d' ' -f1)
rejected=$(grep -oE '[0-9]+ rejected' <<<"$out" | head -1 | cut -d' ' -f1)
expect_eq "$((read_rows + rejected))" "20000" "records in the topic = rows read + rejected"
expect_eq "$rejected" "$bad" "exactly the bad events are rejected"
expect_contains "$out" "(3 partitions" "all three partitions are read"
total=$(duckdb "SELECT sum(orders)::BIGINT AS n FROM read_csv('$project/out/city_totals.csv')")
expect_eq "$total" "{\"n\":\"$read_rows\"}" "the per-city counts add up to the rows read"
dlq=$("$MILLRACE" topic consume orders_dlq -p "$project" | wc -l)
expect_eq "$dlq" "$rejected" "every rejected record is in the dead-letter topic"
expect_contains "$("$MILLRACE" topic consume orders_dlq -p "$project" | head -1)" '"reason":' "dead letters carry a reason"
"$MILLRACE" topic consume city_totals -p "$project" >"$WORK/topic_out.ndjson"
same=$(duckdb "SELECT count(*) AS n FROM (SELECT city, orders, revenue FROM read_csv('$project/out/city_totals.csv') EXCEPT ALL SELECT city, orders, revenue FROM read_json('$WORK/topic_out.ndjson'))")
expect_eq "$same" '{"n":"0"}' "the output topic holds the same rows as the file"

# Records appended after the run started are not read by it (bounded by the end offsets),
# and a re-run over the grown topic sees them.
"$MILLRACE" topic produce orders -p "$project" -i "$WORK/orders.ndjson" >/dev/null
out=$("$MILLRACE" run "$project" city)
read_again=$(grep -oE '[0-9]+ rows read' <<<"$out" | cut -d' ' -f1)
expect_eq "$read_again" "$((read_rows * 2))" "a re-run reads the whole grown topic"

# An unknown topic is a clear error.
sed -i 's/topic: orders$/topic: ordrs/' "$project/pipelines/city.yaml"
err=$("$MILLRACE" run "$project" city 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "an unknown topic fails the run"
expect_contains "$err" 'topic `ordrs` does not exist' "the error names the topic"
finish
