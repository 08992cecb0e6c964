#!/usr/bin/env bash
# examples/food-delivery end to end: generated orders (1% bad) on a topic, the streaming
# pipeline run until idle; its per-city minutes in the lake must equal a batch run of the same
# views over the same orders (the orders arrive in order, so none is late), the online feature
# view must serve each city's latest minute, and every bad order must be a dead letter.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/server.sh"

project=$WORK/food-delivery
cp -r "$ROOT/examples/food-delivery" "$project"
rm -rf "$project/data" "$project/out"
port=$(free_port)
sed -i "s/127.0.0.1:8096/127.0.0.1:$port/" "$project/millrace.yaml"
"$MILLRACE" generate orders --rows 60000 --bad-fraction 0.01 --seed 9 -o "$WORK/orders.ndjson" 2>/dev/null
"$MILLRACE" topic create orders -p "$project" --partitions 2 >/dev/null
"$MILLRACE" topic produce orders -p "$project" -i "$WORK/orders.ndjson" --key-field user_id >/dev/null
out=$("$MILLRACE" run "$project" city_minute --until-idle --idle 1s) && rc=0 || rc=$?
expect_eq "$rc" "0" "the streaming pipeline runs until idle"
read_rows=$(grep -oE '[0-9]+ rows read' <<<"$out" | head -1 | cut -d' ' -f1)
rejected=$(grep -oE '[0-9]+ rejected' <<<"$out" | head -1 | cut -d' ' -f1)
expect_eq "$((read_rows + rejected))" "60000" "every order is read or rejected"
expect_eq "$(wc -l <"$project/out/rejected.ndjson")" "$rejected" "every rejected order is a dead letter"

# The batch oracle: the same views over the orders file.
cp "$WORK/orders.ndjson" "$project/orders.ndjson"
sed -e 's/^name: city_minute/name: check/' -e 's/^mode: streaming/mode: batch/' \
  -e 's/^    topic: orders/    file: { path: orders.ndjson, format: ndjson }/' \
  -e '/event_time:\|watermark_delay:\|    format: json/d' -e '/^sinks:/,$d' "$project/pipelines/city_minute.yaml" \
  >"$project/pipelines/check.yaml"
printf 'sinks:\n  - { from: per_city, file: { path: out/batch.csv, format: csv } }\n' >>"$project/pipelines/check.yaml"
"$MILLRACE" run "$project" check >/dev/null
rm "$project/pipelines/check.yaml"
"$MILLRACE" query "SELECT city, window_start, window_end, orders, revenue, p95_amount, customers, cancelled FROM city_minute ORDER BY city, window_start" \
  -p "$project" --format csv >"$WORK/stream.csv"
sort "$project/out/batch.csv" | grep -v '^city,' >"$WORK/batch.sorted"
grep -v '^city,' "$WORK/stream.csv" | sort >"$WORK/stream.sorted"
if [ -s "$WORK/stream.sorted" ] && cmp -s "$WORK/stream.sorted" "$WORK/batch.sorted"; then
  pass "the lake's per-city minutes equal the batch GROUP BY ($(wc -l <"$WORK/stream.sorted") windows)"
else
  fail "streaming and batch differ: $(diff "$WORK/stream.sorted" "$WORK/batch.sorted" | head -4)"
fi
orders=$(awk -F, '{ n += $4 } END { print n }' "$WORK/stream.sorted")
expect_eq "$orders" "$read_rows" "every good order is counted in one window"

# The online store serves each city's latest minute.
latest=$(awk -F, '$1 == "Berlin" { line = $0 } END { print line }' "$WORK/stream.sorted")
start_server "$project" "$port" "$WORK/serve.log"
served=$(curl -s "http://127.0.0.1:$port/v1/features/city_live?city=Berlin")
stop_server
expect_contains "$served" "\"orders\":$(cut -d, -f4 <<<"$latest")," "city_live serves Berlin's latest minute"
finish
