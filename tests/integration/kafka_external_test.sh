#!/usr/bin/env bash
# Pipelines on an external Kafka cluster (librdkafka): the "cluster" is a second Millrace,
# `millrace serve` with a Kafka listener in its own project. Records produced into it with kcat
# are read by a batch pipeline of another project with a `kafka:` source (exactly N, then only
# what was produced since: the group's offsets were committed after the sink), and by a
# streaming pipeline through event time and tumble() windows; a streaming upserting aggregate
# keeps its groups across runs (checkpointed with the partitions' offsets) and a `kill -9`;
# a `kafka:` sink writes N keyed records that kcat reads back with their keys; brokers that
# are down fail a run with a clear error (no hang); config mistakes are reported at
# file:line:column.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/server.sh"

command -v kcat >/dev/null || { echo "SKIP: kcat is not installed (scripts/install-deps.sh)"; exit 0; }

start_kafka_cluster "$WORK/serve.log" orders:3 totals:2 per_customer:1

app=$WORK/app
mkdir -p "$app/pipelines" "$app/in"
printf 'name: app\ndata_dir: ./data\ninclude: [pipelines/*.yaml]\n' >"$app/millrace.yaml"
schema='{ order_id: int64 not null, customer: string not null, amount: double, ts: timestamp not null }'
cat >"$app/pipelines/read.yaml" <<YAML
name: read
sources:
  orders:
    kafka: { brokers: $broker, topic: orders, group: readers, start_from: earliest }
    schema: $schema
sinks:
  - { from: orders, file: { path: out/read.ndjson } }
YAML

orders() {  # <first> <count>: keyed JSON orders, one per line, for kcat -K'|'
  for i in $(seq "$1" $(($1 + $2 - 1))); do
    printf 'c%d|{"order_id":%d,"customer":"c%d","amount":%d.5,"ts":"2026-01-01T00:%02d:%02dZ"}\n' \
      $((i % 7)) "$i" $((i % 7)) "$i" $(((i / 60) % 60)) $((i % 60))
  done
}
n=500
orders 1 $n | timeout 60 kcat -b "$broker" -P -t orders -K'|'
out=$(timeout 120 "$MILLRACE" run "$app" read 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "batch kafka source run succeeds ($out)"
expect_eq "$(wc -l <"$app/out/read.ndjson")" "$n" "the batch run read exactly $n records"
expect_eq "$(grep -o '"order_id":[0-9]*' "$app/out/read.ndjson" | sort -u | wc -l)" "$n" "each record once"

# The group's offsets were committed after the file sink: a second run reads only what is new.
orders 1001 5 | timeout 60 kcat -b "$broker" -P -t orders -K'|'
timeout 120 "$MILLRACE" run "$app" read >/dev/null 2>&1 && rc=0 || rc=$?
expect_eq "$rc" "0" "second batch run succeeds"
expect_eq "$(grep -o '"order_id":[0-9]*' "$app/out/read.ndjson" | sort | tr '\n' ' ')" \
  '"order_id":1001 "order_id":1002 "order_id":1003 "order_id":1004 "order_id":1005 ' \
  "the second run read only the 5 records produced since"

# A streaming pipeline: the same records through event time and a one-minute tumble window.
cat >"$app/pipelines/live.yaml" <<YAML
name: live
mode: streaming
sources:
  orders:
    kafka: { brokers: $broker, topic: orders, group: live, start_from: earliest }
    schema: $schema
    event_time: ts
    watermark_delay: 1h   # the partitions are read in turn: no record is late
    idle_timeout: 1s
views:
  per_minute: |
    SELECT window_start, window_end, count(*) AS orders
    FROM tumble(orders, ts, INTERVAL '1 minute') GROUP BY window_start, window_end
sinks:
  - { from: per_minute, file: { path: out/live.csv, format: csv } }
YAML
out=$(timeout 120 "$MILLRACE" run "$app" live --until-idle --idle 2s 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "streaming kafka source run succeeds ($out)"
total=$(tail -n +2 "$app/out/live.csv" | awk -F, '{ s += $3 } END { print s + 0 }')
expect_eq "$total" "$((n + 5))" "the streaming windows counted every record once"

# A streaming upserting aggregate into a keyed Kafka topic (a changelog): its groups are saved
# in every checkpoint with the offsets they account for, so a second run (and a run after a
# kill -9) goes on counting from them instead of from zero.
cat >"$app/pipelines/customers.yaml" <<YAML
name: customers
mode: streaming
checkpoint_interval: 200ms
sources:
  orders:
    kafka:
      brokers: $broker
      topic: orders
      group: customers
      start_from: earliest
      # A killed member leaves the group when its session times out: soon, for the test.
      properties: { session.timeout.ms: "2000", heartbeat.interval.ms: "500" }
    schema: $schema
views:
  per_customer: SELECT customer, count(*) AS orders, sum(amount) AS amount FROM orders GROUP BY customer
sinks:
  - { from: per_customer, kafka: { brokers: $broker, topic: per_customer, key: customer } }
YAML
newest_per_customer() {  # the changelog's newest value per key: "c0=<orders> c1=... "
  timeout 60 kcat -b "$broker" -C -t per_customer -o beginning -e -q -f '%k %s\n' |
    awk '{ split($0, a, "\"orders\":"); split(a[2], b, ","); last[$1] = b[1] }
         END { for (k in last) print k "=" last[k] }' | sort | tr '\n' ' '
}
expected_per_customer() {  # <ids...>: the same counts from the order ids themselves
  for i in "$@"; do echo "c$((i % 7))"; done | sort | uniq -c | awk '{ print $2 "=" $1 }' | tr '\n' ' '
}
out=$(timeout 120 "$MILLRACE" run "$app" customers --until-idle --idle 2s 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "streaming upserting aggregate over kafka succeeds ($out)"
ids="$(seq 1 $n) $(seq 1001 1005)"
# shellcheck disable=SC2086
expect_eq "$(newest_per_customer)" "$(expected_per_customer $ids)" "the changelog holds every customer's count"
orders 2001 20 | timeout 60 kcat -b "$broker" -P -t orders -K'|'
out=$(timeout 120 "$MILLRACE" run "$app" customers --until-idle --idle 2s 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "a second run succeeds ($out)"
ids="$ids $(seq 2001 2020)"
# shellcheck disable=SC2086
expect_eq "$(newest_per_customer)" "$(expected_per_customer $ids)" \
  "the second run went on from the saved groups: counts over both runs' records"
# kill -9 after a checkpoint: the next run restores the groups and the offsets they account for.
orders 3001 30 | timeout 60 kcat -b "$broker" -P -t orders -K'|'
"$MILLRACE" run "$app" customers >"$WORK/customers.log" 2>&1 &  # no `timeout`: kill it, not a wrapper
runner=$!
for _ in $(seq 150); do
  [ "$(ls "$app/data/checkpoints/customers" 2>/dev/null | wc -l)" -ge 2 ] && break
  sleep 0.1
done
sleep 0.5
kill -9 "$runner" 2>/dev/null || true
wait "$runner" 2>/dev/null || true
sleep 3  # the dead member's session times out; the next run gets every partition
orders 4001 10 | timeout 60 kcat -b "$broker" -P -t orders -K'|'
out=$(timeout 120 "$MILLRACE" run "$app" customers --until-idle --idle 2s 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "the run after a kill -9 succeeds ($out)"
ids="$ids $(seq 3001 3030) $(seq 4001 4010)"
# shellcheck disable=SC2086
expect_eq "$(newest_per_customer)" "$(expected_per_customer $ids)" \
  "after the kill -9, every record counted exactly once"

# A kafka sink: N keyed records, read back with kcat.
for i in $(seq 1 $n); do
  printf '{"customer":"k%d","total":%d}\n' $((i % 11)) "$i"
done >"$app/in/totals.ndjson"
cat >"$app/pipelines/write.yaml" <<YAML
name: write
sources:
  totals:
    file: { path: in/totals.ndjson, format: ndjson }
    schema: { customer: string not null, total: int64 not null }
sinks:
  - { from: totals, kafka: { brokers: $broker, topic: totals, key: customer } }
YAML
out=$(timeout 120 "$MILLRACE" run "$app" write 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "kafka sink run succeeds ($out)"
timeout 60 kcat -b "$broker" -C -t totals -o beginning -e -q -f '%k %s\n' >"$WORK/totals.txt"
expect_eq "$(wc -l <"$WORK/totals.txt")" "$n" "kcat read exactly $n records back"
bad=$(awk '{ split($2, a, "\""); if ($1 != a[4]) bad++ } END { print bad + 0 }' "$WORK/totals.txt")
expect_eq "$bad" "0" "every record's key is its customer column"
expect_eq "$(grep -o '"total":[0-9]*' "$WORK/totals.txt" | sort -u | wc -l)" "$n" "every row once"

# Brokers that are down: a clear error within a bounded time.
dead=$(free_port)
sed "s/$broker/127.0.0.1:$dead/" "$app/pipelines/write.yaml" | sed 's/name: write/name: down/' \
  >"$app/pipelines/down.yaml"
err=$(timeout 60 "$MILLRACE" run "$app" down 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "a run against brokers that are down fails (not a hang: rc $rc)"
expect_contains "$err" "no answer from the Kafka brokers 127.0.0.1:$dead" "the error names the brokers"
rm "$app/pipelines/down.yaml"

# Config mistakes at file:line:column.
cat >"$app/pipelines/bad.yaml" <<YAML
name: bad
sources:
  orders:
    kafka: { topic: orders, start_from: beginning }
    schema: $schema
sinks:
  - { from: orders, kafka: { brokers: $broker } }
YAML
err=$("$MILLRACE" validate "$app" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "validate fails on a broken kafka config"
expect_contains "$err" "bad.yaml:4:12" "a missing brokers is reported at the kafka map"
expect_contains "$err" "bad.yaml:4:41" "a bad start_from is reported at its value"
expect_contains "$err" "bad.yaml:7:28" "a sink without a topic is reported at its kafka map"
stop_server
finish
