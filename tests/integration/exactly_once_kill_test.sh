#!/usr/bin/env bash
# Exactly-once under kill -9. A streaming pipeline reads a fixed, pre-produced topic (orders with
# out-of-order event times, some far too late, some that do not decode) into a windowed
# aggregate written to a lake table and to a topic, and an upserting aggregate written to an
# online feature view; late and bad records go to the dead letters. One copy of the project
# runs once without a crash. Another is killed KILLS times (default 5) at random moments:
# half at a named point of the checkpoint protocol (MILLRACE_TEST_CRASH_AT, test-only: it
# exits as kill -9 would at e.g. "sinks-pre-committed" or "checkpoint-complete"), half by a
# real kill -9 after a random delay; it restarts after each kill and finally runs to the end.
# Every sink of the two copies must then be identical: lake rows, committed topic records,
# online values, dead letters. Usage: $0 <millrace> [kills] [seed]
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/server.sh"
# KEEP_WORK=1 keeps the two copies for a look after a failure.
trap 'kill9_server; [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"' EXIT

KILLS=${2:-5}
SEED=${3:-$RANDOM}
echo "# kills=$KILLS seed=$SEED"
RANDOM=$SEED

make_project() {  # <dir>
  mkdir -p "$1/pipelines" "$1/features"
  printf 'name: eo\ndata_dir: ./data\ninclude: [pipelines/*.yaml, features/*.yaml]\n' >"$1/millrace.yaml"
  cat >"$1/features/user_totals.yaml" <<'YAML'
name: user_totals
entities: { user_id: string }
features: { orders: int64, total: double, largest: double }
source: { pipeline: orders_live }
YAML
  cat >"$1/pipelines/orders_live.yaml" <<'YAML'
name: orders_live
mode: streaming
sources:
  orders:
    topic: orders
    schema: { order_id: string not null, user_id: string not null, city: string,
              amount: double not null, ts: timestamp not null }
    event_time: ts
    watermark_delay: 30s
views:
  per_minute: |
    SELECT city, window_start, window_end, count(*) AS orders, round(sum(amount), 2) AS revenue,
           max(amount) AS largest
    FROM tumble(orders, ts, INTERVAL '1 minute')
    GROUP BY city, window_start, window_end
  user_totals: |
    SELECT user_id, count(*) AS orders, round(sum(amount), 2) AS total, max(amount) AS largest
    FROM orders GROUP BY user_id
sinks:
  - { from: per_minute, lake: { table: per_minute } }
  - { from: per_minute, topic: per_minute_out }
  - { from: user_totals, online: { feature_view: user_totals } }
YAML
  # PARALLELISM=2: the same test with two subtasks (exactly_once_kill_parallel_test.sh).
  sed -i "s/^mode: streaming$/mode: streaming\nparallelism: ${PARALLELISM:-1}/" \
    "$1/pipelines/orders_live.yaml"
}

# 30000 orders over about an hour of event time, in arrival order: each arrives up to 20 s after
# its event time (within the 30 s watermark delay); every 97th arrives 5 minutes late; every
# 211th has an amount that does not decode. Seeded, so both copies read the same bytes.
/usr/bin/python3 - >"$WORK/orders.ndjson" <<'PY'
import json, random
rnd = random.Random(7)
base = 1764979200.0
for i in range(30000):
    arrival = base + i * 0.12
    event = arrival - rnd.uniform(0, 20)
    if i % 97 == 96 and i > 3000:
        event = arrival - 300
    ts = __import__("datetime").datetime.utcfromtimestamp(event).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    amount = round(rnd.uniform(1, 500), 2)
    record = {"order_id": f"o-{i}", "user_id": f"u-{rnd.randrange(300)}",
              "city": rnd.choice(["oslo", "lima", "pune", "kobe", "graz"]),
              "amount": "n/a" if i % 211 == 210 else amount, "ts": ts}
    print(json.dumps(record))
PY

for copy in reference crashed; do
  make_project "$WORK/$copy"
  "$MILLRACE" topic create orders -p "$WORK/$copy" --partitions 1 >/dev/null
  "$MILLRACE" topic produce orders -p "$WORK/$copy" -i "$WORK/orders.ndjson" >/dev/null
done

run_args=(--until-idle --idle 1s --commit-interval 20ms)
out=$("$MILLRACE" run "$WORK/reference" orders_live "${run_args[@]}" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "the crash-free run exits 0"
# rows read counts the late ones; rejected are the records that do not decode.
expect_contains "$out" "29858 rows read, 142 rejected, 278 late" "the crash-free run reads every order"

points=(after-poll checkpoint-start checkpoint-state-written sinks-pre-committed checkpoint-complete
        sink-committed topic-sink-appended checkpoint-end before-final-checkpoint)
killed=0
attempts=0
while [ "$killed" -lt "$KILLS" ] && [ "$attempts" -lt $((KILLS * 8)) ]; do
  attempts=$((attempts + 1))
  # Odd attempts die at a named point. The first three always die after a checkpoint
  # completed: before its sinks commit, between two sinks' commits, and after the topic sink
  # appended but before it marked the commit done, so every run of the test rolls a
  # checkpoint forward; the others at random. Even attempts are killed after a random delay.
  case $attempts in
    1) point=checkpoint-complete:2 ;;
    3) point=sink-committed:2 ;;
    5) point=topic-sink-appended:2 ;;
    *) point=${points[$((RANDOM % ${#points[@]}))]}:$((RANDOM % 4 + 1)) ;;
  esac
  crash_or_kill "$attempts" "$point" 0 2500 "$WORK/attempt.log" \
    "$MILLRACE" run "$WORK/crashed" orders_live "${run_args[@]}"
  if [ "$rc" -eq 137 ]; then
    killed=$((killed + 1))
    echo "# killed $how"
  elif [ "$rc" -ne 0 ]; then
    fail "a restarted run failed ($how, exit $rc): $(cat "$WORK/attempt.log")"
    break
  fi
done
expect_eq "$killed" "$KILLS" "the crashed copy was killed $KILLS times"
out=$("$MILLRACE" run "$WORK/crashed" orders_live "${run_args[@]}" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "the last restart runs to the end"
expect_contains "$out" "restored checkpoint" "the last restart goes on from a checkpoint"
ls "$WORK/crashed/data/checkpoints/orders_live" >"$WORK/kept.txt" 2>/dev/null || true
expect_eq "$(grep -c '^[0-9]' "$WORK/kept.txt")" "3" "three complete checkpoints are kept"

# Lake rows.
for copy in reference crashed; do
  "$MILLRACE" query -p "$WORK/$copy" -f csv \
    "SELECT * FROM per_minute ORDER BY city, window_start" >"$WORK/$copy.lake.csv"
done
expect_eq "$(wc -l <"$WORK/reference.lake.csv" | tr -d ' ')" \
  "$(wc -l <"$WORK/crashed.lake.csv" | tr -d ' ')" "lake: as many rows"
expect_eq "$(cmp -s "$WORK/reference.lake.csv" "$WORK/crashed.lake.csv" && echo same)" "same" \
  "lake: identical rows ($(wc -l <"$WORK/reference.lake.csv") lines)"

# Committed topic records (values; the partition and offset of each may differ).
topic_values() {  # <copy>
  "$MILLRACE" topic consume per_minute_out -p "$WORK/$1" | /usr/bin/python3 -c '
import json, sys
values = []
for line in sys.stdin:
    r = json.loads(line)
    v = r.get("value", r)
    values.append(v if isinstance(v, str) else json.dumps(v, sort_keys=True))
print("\n".join(sorted(values)))'
}
topic_values reference >"$WORK/reference.topic"
topic_values crashed >"$WORK/crashed.topic"
expect_eq "$(cmp -s "$WORK/reference.topic" "$WORK/crashed.topic" && echo same)" "same" \
  "topic: identical committed records ($(wc -l <"$WORK/reference.topic") records)"
expect_eq "$(sort "$WORK/reference.lake.csv" | wc -l)" "$(($(wc -l <"$WORK/reference.topic") + 1))" \
  "topic: one record per lake row"

# Dead letters: decode errors and late records, each once, in the same order.
dead=data/dead_letter/orders_live.ndjson
# Each envelope's "time" is when it was dead-lettered (the wall clock): compared without it.
without_time() { sed -E 's/,"time":"[^"]*"//' "$1"; }
expect_eq "$(cmp -s <(without_time "$WORK/reference/$dead") <(without_time "$WORK/crashed/$dead") && echo same)" "same" \
  "dead letters: identical ($(wc -l <"$WORK/reference/$dead") records)"
expect_contains "$(cat "$WORK/crashed/$dead")" '"reason":"late"' "dead letters hold late records"
expect_contains "$(cat "$WORK/crashed/$dead")" '"stage":"decode"' "dead letters hold decode errors"

# Online values of every user.
for copy in reference crashed; do
  port=$(free_port)
  start_server "$WORK/$copy" "$port" "$WORK/$copy.serve.log"
  # The values, not the write time each was stored at.
  for u in $(seq 0 299); do
    curl -s "http://127.0.0.1:$port/v1/features/user_totals?user_id=u-$u"
    echo
  done | /usr/bin/python3 -c '
import json, sys
for line in sys.stdin:
    if line.strip():
        body = json.loads(line)
        print(json.dumps([body["key"], body["features"]], sort_keys=True))' >"$WORK/$copy.online"
  stop_server
done
expect_eq "$(grep -c '"orders"' "$WORK/reference.online")" "300" "online: every user has values"
expect_eq "$(cmp -s "$WORK/reference.online" "$WORK/crashed.online" && echo same)" "same" \
  "online: identical values"
finish
