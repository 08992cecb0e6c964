#!/usr/bin/env bash
# The streaming runtime end to end: out-of-order events with a known disorder (and some far too
# late) are produced to a 3-partition topic; a `mode: streaming` pipeline with tumble(), hop()
# and session() windows runs with --until-idle. Its window results must equal a batch pipeline's GROUP BY over
# the same records minus the ones it reported late, and every late record must be in the dead
# letters with reason `late` (records read = accepted + late). A second run starts from the
# committed offsets and reads only what was appended since. validate reports streaming errors
# at their file:line:column.
source "$(dirname "$0")/lib/common.sh"

project=$WORK/sp
mkdir -p "$project/pipelines"
printf 'name: sp\ndata_dir: ./data\ninclude: [pipelines/*.yaml]\n' >"$project/millrace.yaml"
views='views:
  per_minute: |
    SELECT city, window_start, window_end, count(*) AS orders, round(sum(amount), 2) AS revenue,
           min(amount) AS low, max(amount) AS high, avg(items) AS mean_items,
           approx_count_distinct(user_id) AS users, approx_percentile(amount, 0.5) AS median
    FROM tumble(orders, timestamp, INTERVAL '"'"'1 minute'"'"')
    GROUP BY city, window_start, window_end
  per_hop: |
    SELECT window_start, window_end, count(*) AS orders, round(sum(amount), 2) AS revenue
    FROM hop(orders, timestamp, INTERVAL '"'"'1 minute'"'"', INTERVAL '"'"'5 minutes'"'"')
    GROUP BY window_start, window_end
  per_session: |
    SELECT user_id, window_start, window_end, count(*) AS orders, round(sum(amount), 2) AS spent
    FROM session(orders, timestamp, INTERVAL '"'"'90 seconds'"'"')
    GROUP BY user_id, window_start, window_end'
schema='{ order_id: string not null, user_id: string, city: string, amount: double not null, items: int32,
              timestamp: timestamp not null }'
cat >"$project/pipelines/live.yaml" <<YAML
name: live
mode: streaming
parallelism: ${PARALLELISM:-1}
sources:
  orders:
    topic: orders
    schema: $schema
    event_time: timestamp
    watermark_delay: 30s
    idle_timeout: 1s
$views
sinks:
  - { from: per_minute, file: { path: out/live_minute.csv, format: csv } }
  - { from: per_hop, file: { path: out/live_hop.csv, format: csv } }
  - { from: per_hop, lake: { table: live_hop } }
  - { from: per_session, file: { path: out/live_session.csv, format: csv } }
  - { from: dead_letter, file: { path: out/live_dead.ndjson } }
YAML
cat >"$project/pipelines/check.yaml" <<YAML
name: check
mode: batch
sources:
  orders:
    file: { path: expected/on_time.ndjson, format: ndjson }
    schema: $schema
$views
sinks:
  - { from: per_minute, file: { path: out/batch_minute.csv, format: csv } }
  - { from: per_hop, file: { path: out/batch_hop.csv, format: csv } }
  - { from: per_session, file: { path: out/batch_session.csv, format: csv } }
YAML

# 6000 events over 40 minutes, in arrival order: each arrives up to 20 s after its event time
# (within the 30 s watermark delay), every 50th one 5 minutes after it (late). Seeded.
events() {  # <first id> <count> <seed>
  /usr/bin/python3 - "$@" <<'PY'
import datetime, json, random, sys
first, count, seed = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(seed)
base = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc).timestamp()
out = []
for i in range(first, first + count):
    t = base + i * 0.4 + rnd.random() * 0.4
    arrive = t + (300 if i % 50 == 25 else rnd.random() * 20)
    ts = datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    out.append((arrive, {"order_id": f"o-{i:05d}", "user_id": f"u-{rnd.randrange(300)}",
                         "city": rnd.choice(["Berlin", "Lagos", "Lima", "Osaka", "Pune"]),
                         "amount": round(rnd.random() * 100, 2), "items": rnd.randrange(1, 6),
                         "timestamp": ts}))
out.sort(key=lambda e: e[0])
for _, e in out:
    print(json.dumps(e))
PY
}
events 0 6000 7 >"$WORK/events.ndjson"
"$MILLRACE" topic create orders -p "$project" --partitions 3 >/dev/null
"$MILLRACE" topic produce orders -p "$project" -i "$WORK/events.ndjson" --key-field order_id >/dev/null

out=$("$MILLRACE" run "$project" live --until-idle --idle 1s) && rc=0 || rc=$?
expect_eq "$rc" "0" "the streaming pipeline runs until idle and exits 0"
expect_contains "$out" "pipeline live (streaming)" "it runs as a streaming pipeline"
read_rows=$(grep -oE '[0-9]+ rows read' <<<"$out" | cut -d' ' -f1)
late=$(grep -oE '[0-9]+ late \(' <<<"$out" | cut -d' ' -f1)
expect_eq "$read_rows" "6000" "every record in the topic is read"
dead_late=$(grep -c '"reason":"late"' "$project/out/live_dead.ndjson" || true)
expect_eq "$dead_late" "$late" "every late record is a dead letter with reason late"
# How many of the 120 delayed records are late depends on how the partitions interleave (the
# watermark is the minimum over them), but never more, and some always are.
if [ "$late" -ge 1 ] && [ "$late" -le 120 ]; then
  pass "records delayed past the watermark are late ($late of the 120 delayed 5 minutes)"
else
  fail "expected 1..120 late records, got [$late]"
fi
# The batch oracle: the same records minus the late ones, through the same views.
mkdir -p "$project/expected"
/usr/bin/python3 - "$WORK/events.ndjson" "$project/out/live_dead.ndjson" \
  "$project/expected/on_time.ndjson" <<'PY'
import json, sys
late = {json.loads(line)["row"]["order_id"] for line in open(sys.argv[2])}
with open(sys.argv[3], "w") as out:
    for line in open(sys.argv[1]):
        if json.loads(line)["order_id"] not in late:
            out.write(line)
PY
expect_eq "$(wc -l <"$project/expected/on_time.ndjson")" "$((6000 - late))" "records = on time + late"
"$MILLRACE" run "$project" check >/dev/null
for view in minute hop session; do
  head -1 "$project/out/live_$view.csv" >"$WORK/live_$view.sorted"
  tail -n +2 "$project/out/live_$view.csv" | sort >>"$WORK/live_$view.sorted"
  head -1 "$project/out/batch_$view.csv" >"$WORK/batch_$view.sorted"
  tail -n +2 "$project/out/batch_$view.csv" | sort >>"$WORK/batch_$view.sorted"
  if cmp -s "$WORK/live_$view.sorted" "$WORK/batch_$view.sorted"; then
    pass "the streaming $view windows equal the batch GROUP BY over the on-time records"
  else
    fail "streaming and batch $view windows differ: $(diff "$WORK/live_$view.sorted" "$WORK/batch_$view.sorted" | head -5)"
  fi
done
rows=$(($(wc -l <"$project/out/live_minute.csv") - 1))
if [ "$rows" -ge 200 ]; then pass "40 minutes x 5 cities of windows ($rows)"; else fail "too few windows: $rows"; fi
sessions=$(($(wc -l <"$project/out/live_session.csv") - 1))
merged=$(awk -F, 'NR > 1 && $4 > 1' "$project/out/live_session.csv" | wc -l)
if [ "$sessions" -ge 1000 ] && [ "$merged" -ge 100 ]; then
  pass "session windows per user ($sessions, $merged of them with more than one order)"
else
  fail "unexpected sessions: $sessions ($merged with more than one order)"
fi
total=$("$MILLRACE" query "SELECT sum(orders) AS n FROM live_hop" -p "$project" | sed -n 3p | tr -d ' ')
expect_eq "$total" "$(((6000 - late) * 5))" "the lake sink holds every on-time record in 5 hop windows"

# A second run starts from the committed offsets: only the records appended since.
events 6000 500 8 >"$WORK/more.ndjson"
"$MILLRACE" topic produce orders -p "$project" -i "$WORK/more.ndjson" >/dev/null
out=$("$MILLRACE" run "$project" live --duration 2s) && rc=0 || rc=$?
expect_eq "$rc" "0" "a run with --duration exits 0"
expect_contains "$out" " 500 rows read" "the next run reads only the new records"

# validate: streaming mistakes at their file:line:column.
bad_pipeline() {  # <view SQL>
  cat >"$project/pipelines/bad.yaml" <<YAML
name: bad
mode: streaming
sources:
  orders:
    topic: orders
    schema: { order_id: string not null, amount: double, timestamp: timestamp }
    event_time: timestamp
    allowed_lateness: 5s
views:
  v: |
    $1
sinks:
  - { from: v, file: { path: out/a.csv } }
YAML
}
bad_pipeline "SELECT window_end, count(*) AS n FROM tumble(orders, amount, INTERVAL '1 minute') GROUP BY window_end"
err=$("$MILLRACE" validate "$project" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "validate fails on a window over a non-timestamp column"
expect_contains "$err" "bad.yaml:11:58: error: view \`v\`: the time column of tumble() must be a timestamp, not double" "named at the column, 11:58"
bad_pipeline "SELECT window_end, count(*) AS n FROM hop(orders, ts, INTERVAL '1 minute', INTERVAL '2 minutes') GROUP BY window_end"
err=$("$MILLRACE" validate "$project" 2>&1) && rc=0 || rc=$?
expect_contains "$err" "bad.yaml:11:55: error: view \`v\`: " "an unknown time column is named at 11:55"
expect_contains "$err" '`ts`' "by name"
bad_pipeline "SELECT order_id, count(*) AS n FROM orders GROUP BY order_id"
err=$("$MILLRACE" validate "$project" 2>&1) && rc=0 || rc=$?
expect_contains "$err" "bad.yaml:13:13: error:" "an unwindowed GROUP BY is refused at the sink's from"
expect_contains "$err" "GROUP BY without window_end" "saying why"
rm "$project/pipelines/bad.yaml"

# A generator source: synthetic orders paced by the clock; with a limit the run ends by itself.
cat >"$project/pipelines/gen.yaml" <<'YAML'
name: gen
mode: streaming
sources:
  orders:
    generator: { kind: orders, rate: 20000/s, seed: 7, bad_fraction: 0.01, limit: 20000 }
    event_time: timestamp
    watermark_delay: 1s
views:
  per_second: |
    SELECT city, window_start, window_end, count(*) AS orders
    FROM tumble(orders, timestamp, INTERVAL '1 second') GROUP BY city, window_start, window_end
sinks:
  - { from: per_second, lake: { table: gen_per_second } }
YAML
out=$("$MILLRACE" run "$project" gen) && rc=0 || rc=$?
expect_eq "$rc" "0" "a streaming pipeline over a limited generator ends by itself"
read_rows=$(grep -oE '[0-9]+ rows read' <<<"$out" | cut -d' ' -f1)
rejected=$(grep -oE '[0-9]+ rejected' <<<"$out" | head -1 | cut -d' ' -f1)
expect_eq "$((read_rows + rejected))" "20000" "generated = rows read + rejected (the bad ones)"
total=$("$MILLRACE" query "SELECT sum(orders) AS n FROM gen_per_second" -p "$project" | sed -n 3p | tr -d ' ')
expect_eq "$total" "$read_rows" "every generated order is in a window"
sed -i 's/^mode: streaming/mode: batch/' "$project/pipelines/gen.yaml"
err=$("$MILLRACE" validate "$project" 2>&1) && rc=0 || rc=$?
expect_contains "$err" "gen.yaml:4:3: error: source \`orders\`: generator sources are not available to batch runs" "a batch pipeline refuses a generator"
rm "$project/pipelines/gen.yaml"
finish
