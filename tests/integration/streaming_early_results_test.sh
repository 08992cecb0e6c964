#!/usr/bin/env bash
# Early results (`emit: { every: ... }`): an hour's tumble window per city into a keyed topic
# and an upserting lake table. A run stopped with a savepoint leaves the window open, and both
# sinks already hold its values so far (early results); after more records, one of them past
# the window's end, the next run closes the window and its final values replace them, equal to
# a batch GROUP BY. A file sink with `emit:` is refused by validate at emit's file:line:column.
source "$(dirname "$0")/lib/common.sh"

project=$WORK/early
mkdir -p "$project/pipelines"
printf 'name: early\ndata_dir: ./data\ninclude: [pipelines/*.yaml]\n' >"$project/millrace.yaml"
schema='{ id: int64 not null, city: string not null, amount: double not null, ts: timestamp not null }'
view='  per_hour: |
    SELECT city, window_start, count(*) AS orders, sum(amount) AS revenue
    FROM tumble(orders, ts, INTERVAL '"'"'1 hour'"'"') GROUP BY city, window_start, window_end'
cat >"$project/pipelines/hourly.yaml" <<YAML
name: hourly
mode: streaming
checkpoint_interval: 200ms
sources:
  orders:
    topic: orders
    schema: $schema
    event_time: ts
    watermark_delay: 0s
views:
$view
sinks:
  - { from: per_hour, topic: per_hour_updates, key: city, emit: { every: 100ms } }
  - from: per_hour
    lake: { table: per_hour, mode: upsert, key: [city, window_start] }
    emit: { every: 100ms }
YAML
cat >"$project/pipelines/check.yaml" <<YAML
name: check
mode: batch
sources:
  orders:
    file: { path: all.ndjson, format: ndjson }
    schema: $schema
views:
$view
sinks:
  - { from: per_hour, file: { path: out/batch.csv, format: csv } }
YAML

cat >"$WORK/first.ndjson" <<'JSON'
{"id": 1, "city": "Lima", "amount": 10, "ts": "2026-01-01T00:05:00Z"}
{"id": 2, "city": "Pune", "amount": 3, "ts": "2026-01-01T00:10:00Z"}
{"id": 3, "city": "Lima", "amount": 2.5, "ts": "2026-01-01T00:20:00Z"}
JSON
cat >"$WORK/second.ndjson" <<'JSON'
{"id": 4, "city": "Lima", "amount": 1, "ts": "2026-01-01T00:40:00Z"}
{"id": 5, "city": "Pune", "amount": 4, "ts": "2026-01-01T00:50:00Z"}
{"id": 6, "city": "Oslo", "amount": 8, "ts": "2026-01-01T01:30:00Z"}
JSON

cp "$WORK/first.ndjson" "$project/all.ndjson"
"$MILLRACE" validate "$project" >/dev/null
"$MILLRACE" topic create orders -p "$project" >/dev/null
"$MILLRACE" topic produce orders -p "$project" -i "$WORK/first.ndjson" >/dev/null
out=$("$MILLRACE" run "$project" hourly --until-idle --idle 1s --savepoint "$WORK/sp" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "a run stopped with a savepoint exits 0"
expect_contains "$out" "early firings" "it fired early"

newest() {  # the keyed topic's newest record per city, as city|window_start|orders|revenue
  "$MILLRACE" topic consume per_hour_updates -p "$project" | /usr/bin/python3 -c '
import json, sys
newest = {}
for line in sys.stdin:
    r = json.loads(line)
    r = r.get("value", r)
    if isinstance(r, str):
        r = json.loads(r)
    newest[r["city"]] = "%s|%s|%d|%g" % (r["city"], r["window_start"], r["orders"], r["revenue"])
print(" ".join(newest[k] for k in sorted(newest)))'
}
lake() {
  "$MILLRACE" query "SELECT city, orders, revenue FROM per_hour ORDER BY city, window_start" \
    -p "$project" --format csv | tail -n +2 | awk -F, '{printf "%s,%s,%g ", $1, $2, $3}'
}
# The hour [00:00, 01:00) is still open (the watermark is at 00:20), yet both sinks hold it.
expect_eq "$(newest)" "Lima|2026-01-01T00:00:00Z|2|12.5 Pune|2026-01-01T00:00:00Z|1|3" \
  "before the window closes, the keyed topic holds its values so far"
expect_eq "$(lake)" "Lima,2,12.5 Pune,1,3 " \
  "before the window closes, the upserting lake table holds its values so far"

"$MILLRACE" topic produce orders -p "$project" -i "$WORK/second.ndjson" >/dev/null
out=$("$MILLRACE" run "$project" hourly --until-idle --idle 1s 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "the next run exits 0"
expect_contains "$out" "restored checkpoint" "it goes on from the savepoint's checkpoint"
cat "$WORK/first.ndjson" "$WORK/second.ndjson" >"$project/all.ndjson"
"$MILLRACE" run "$project" check >/dev/null
batch=$(tail -n +2 "$project/out/batch.csv" | sort | awk -F, '{printf "%s,%s,%g ", $1, $3, $4}')
expect_eq "$(lake)" "$batch" "after the window closed, the lake table equals the batch GROUP BY"
expect_eq "$(newest)" "Lima|2026-01-01T00:00:00Z|3|13.5 Oslo|2026-01-01T01:00:00Z|1|8 Pune|2026-01-01T00:00:00Z|2|7" \
  "the keyed topic's newest record per city is the final one"

# A sink that only appends cannot take early results: refused at `emit:`, file:line:column.
cat >"$project/pipelines/bad.yaml" <<YAML
name: bad
mode: streaming
sources:
  orders:
    topic: orders
    schema: $schema
    event_time: ts
views:
$view
sinks:
  - { from: per_hour, file: { path: out/x.csv }, emit: { every: 1s } }
YAML
col=$(( $(sed -n 13p "$project/pipelines/bad.yaml" | grep -bo 'emit: ' | cut -d: -f1) + 7 ))
out=$("$MILLRACE" validate "$project" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "validate refuses emit into a file sink"
expect_contains "$out" "bad.yaml:13:$col:" "the error points at emit's value"
expect_contains "$out" "only appends rows" "and says why"
finish
