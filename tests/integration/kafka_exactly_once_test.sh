#!/usr/bin/env bash
# Exactly-once into an external Kafka cluster under kill -9. The "cluster" is a second Millrace
# (`millrace serve` with its Kafka listener: transactions, TxnOffsetCommit, read_committed), and
# the pipeline writes to it through librdkafka's transactional producer, as it would to Kafka.
# A streaming pipeline reads a fixed, pre-produced topic of its own project into a one-minute
# tumble window per city, written to a `kafka:` sink and to a lake table, checkpointing every
# 200 ms. One copy of the project runs once without a crash. Another is killed KILLS times
# (default 6): at named points of the checkpoint protocol (MILLRACE_TEST_CRASH_AT, test-only:
# it exits as kill -9 would), among them "checkpoint-complete" (after `_metadata`, before the
# Kafka transaction commits: the checkpoint must be dropped and its records never seen) and
# "checkpoint-decided" (after the Kafka commit, before the lake sink commits: the checkpoint must
# roll forward), and by real kill -9s after random delays; it restarts after each kill and
# finally runs to the end. A read_committed consumer (kcat) must then find in the crashed copy's
# topic exactly the records of the crash-free copy's: the same multiset, none twice, none
# missing; the lake tables must be identical too. Usage: $0 <millrace> [kills] [seed]
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/server.sh"
trap 'kill9_server; [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"' EXIT

command -v kcat >/dev/null || { echo "SKIP: kcat is not installed (scripts/install-deps.sh)"; exit 0; }

KILLS=${2:-6}
SEED=${3:-$RANDOM}
echo "# kills=$KILLS seed=$SEED"
RANDOM=$SEED

start_kafka_cluster "$WORK/serve.log" per_minute_reference:2 per_minute_crashed:2

make_project() {  # <dir> <copy>
  mkdir -p "$1/pipelines"
  printf 'name: keo\ndata_dir: ./data\ninclude: [pipelines/*.yaml]\n' >"$1/millrace.yaml"
  cat >"$1/pipelines/live.yaml" <<YAML
name: live
mode: streaming
checkpoint_interval: 200ms
sources:
  orders:
    topic: orders
    schema: { order_id: string not null, city: string not null, amount: double not null,
              ts: timestamp not null }
    event_time: ts
    watermark_delay: 30s
views:
  per_minute: |
    SELECT city, window_start, window_end, count(*) AS orders, round(sum(amount), 2) AS revenue
    FROM tumble(orders, ts, INTERVAL '1 minute') GROUP BY city, window_start, window_end
sinks:
  - { from: per_minute, kafka: { brokers: $broker, topic: per_minute_$2, key: city } }
  - { from: per_minute, lake: { table: per_minute } }
YAML
}

# 120000 orders over about four hours of event time, in arrival order, each up to 20 s late.
/usr/bin/python3 - >"$WORK/orders.ndjson" <<'PY'
import datetime, json, random
rnd = random.Random(11)
base = 1764979200.0
for i in range(120000):
    event = base + i * 0.12 - rnd.uniform(0, 20)
    ts = datetime.datetime.utcfromtimestamp(event).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    print(json.dumps({"order_id": f"o-{i}", "city": rnd.choice(["oslo", "lima", "pune", "kobe"]),
                      "amount": round(rnd.uniform(1, 500), 2), "ts": ts}))
PY

for copy in reference crashed; do
  make_project "$WORK/$copy" "$copy"
  "$MILLRACE" topic create orders -p "$WORK/$copy" --partitions 1 >/dev/null
  "$MILLRACE" topic produce orders -p "$WORK/$copy" -i "$WORK/orders.ndjson" >/dev/null
done

run_args=(--until-idle --idle 1s)
out=$("$MILLRACE" run "$WORK/reference" live "${run_args[@]}" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "the crash-free run exits 0 ($out)"
expect_contains "$out" "120000 rows read" "the crash-free run reads every order"

# Every checkpoint that wrote records names the transaction that decides it.
meta=$(cat "$WORK/reference"/data/checkpoints/live/*/_metadata)
expect_contains "$meta" "decided_by kafka millrace-live-" "the metadata names the deciding Kafka transaction"

# The killed runs are slowed down (test-only: every row a window emits waits 4 ms before its
# sinks, about 8 s for the whole input) so that every kill falls before the input's end.
slow=4
points=(after-poll checkpoint-start checkpoint-state-written sinks-pre-committed checkpoint-complete
        checkpoint-decided sink-committed checkpoint-end before-final-checkpoint)
killed=0
attempts=0
dropped=0
while [ "$killed" -lt "$KILLS" ] && [ "$attempts" -lt $((KILLS * 8)) ]; do
  attempts=$((attempts + 1))
  # Odd attempts die at a named point. The first ones always die after a checkpoint's
  # metadata: before its Kafka transaction commits (the checkpoint must be dropped), after it
  # and before the lake commits (rolled forward), and between the lake commit and the end; the
  # others at random. Even attempts are killed after a random delay.
  case $attempts in
    1) point=checkpoint-complete:3 ;;
    3) point=checkpoint-decided:3 ;;
    5) point=sink-committed:4 ;;
    *) point=${points[$((RANDOM % ${#points[@]}))]}:$((RANDOM % 3 + 1)) ;;
  esac
  crash_or_kill "$attempts" "$point" 300 1200 "$WORK/attempt.log" \
    env MILLRACE_TEST_SINK_DELAY_MS="$slow" "$MILLRACE" run "$WORK/crashed" live "${run_args[@]}"
  grep -q "was not committed by kafka transaction" "$WORK/attempt.log" && dropped=$((dropped + 1))
  if [ "$rc" -eq 137 ]; then
    killed=$((killed + 1))
    echo "# killed $how"
  elif [ "$rc" -ne 0 ]; then
    fail "a restarted run failed ($how, exit $rc): $(cat "$WORK/attempt.log")"
    break
  fi
done
expect_eq "$killed" "$KILLS" "the crashed copy was killed $KILLS times"
out=$("$MILLRACE" run "$WORK/crashed" live "${run_args[@]}" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "the last restart runs to the end ($out)"
expect_contains "$out" "restored checkpoint" "the last restart goes on from a checkpoint"
grep -q "was not committed by kafka transaction" <<<"$out" && dropped=$((dropped + 1))
# The kill at checkpoint-complete left a checkpoint whose transaction never committed: the next
# run found its marker older and restored the checkpoint before it.
[ "$dropped" -ge 1 ] && pass "a checkpoint whose Kafka transaction never committed was dropped ($dropped)" ||
  fail "no restart dropped an uncommitted checkpoint"

# What a read_committed consumer sees: every record of the crash-free run, once.
committed_records() {  # <topic>: "key value" lines, sorted
  timeout 60 kcat -b "$broker" -C -t "$1" -o beginning -e -q -X isolation.level=read_committed \
    -f '%k %s\n' | sort
}
committed_records per_minute_reference >"$WORK/reference.records"
committed_records per_minute_crashed >"$WORK/crashed.records"
records=$(wc -l <"$WORK/reference.records" | tr -d ' ')
[ "$records" -gt 500 ] && pass "the crash-free run wrote $records records" ||
  fail "the crash-free run wrote only $records records"
expect_eq "$(uniq -d "$WORK/crashed.records" | wc -l | tr -d ' ')" "0" "no record is seen twice"
expect_eq "$(comm -23 "$WORK/reference.records" "$WORK/crashed.records" | wc -l | tr -d ' ')" "0" \
  "no record is missing"
expect_eq "$(cmp -s "$WORK/reference.records" "$WORK/crashed.records" && echo same)" "same" \
  "read_committed: identical records ($records)"
# read_uncommitted also sees the aborted transactions' records: the kills did abort some.
uncommitted=$(timeout 60 kcat -b "$broker" -C -t per_minute_crashed -o beginning -e -q \
  -X isolation.level=read_uncommitted -f '%s\n' | wc -l | tr -d ' ')
echo "# read_uncommitted sees $uncommitted records, read_committed $records"

# The lake sink, committed after the Kafka transaction, holds the same rows in both copies.
for copy in reference crashed; do
  "$MILLRACE" query -p "$WORK/$copy" -f csv \
    "SELECT * FROM per_minute ORDER BY city, window_start" >"$WORK/$copy.lake.csv"
done
expect_eq "$(cmp -s "$WORK/reference.lake.csv" "$WORK/crashed.lake.csv" && echo same)" "same" \
  "lake: identical rows ($(wc -l <"$WORK/reference.lake.csv") lines)"
expect_eq "$(($(wc -l <"$WORK/reference.lake.csv") - 1))" "$records" "one Kafka record per lake row"

# The marker: the Millrace-owned group holds the id of the newest checkpoint its transaction
# decided (later checkpoints without records are decided by their metadata alone), and no user
# topic holds a record for it.
txid=$(cat "$WORK/crashed/data/pipelines/live/kafka_transactional_id")
decided=$(grep -l "^decided_by kafka $txid$" "$WORK"/crashed/data/checkpoints/live/*/_metadata |
  sed -E 's|.*/([0-9]+)/_metadata$|\1|' | sort -n | tail -1)
marker=$(/usr/bin/python3 - "$broker" "millrace-commits.$txid" <<'PY'
import sys
from confluent_kafka import Consumer, TopicPartition
c = Consumer({"bootstrap.servers": sys.argv[1], "group.id": sys.argv[2]})
print(c.committed([TopicPartition("per_minute_crashed", 0)], timeout=30)[0].offset)
c.close()
PY
)
if [ -n "$decided" ]; then
  expect_eq "$marker" "$decided" "the commit marker is the newest decided checkpoint's id"
else
  oldest=$(ls "$WORK/crashed/data/checkpoints/live" | grep -E '^[0-9]+$' | sort -n | head -1)
  [ "$marker" -lt "$oldest" ] && pass "the commit marker ($marker) predates the kept checkpoints" ||
    fail "the commit marker $marker is not older than the kept checkpoints ($oldest...)"
fi
expect_eq "$(grep -c '"per_minute_crashed"' <<<"$(cat "$WORK/crashed.records")")" "0" \
  "no marker record in the topic"

# Sinks to two clusters cannot commit in one transaction: refused with a clear error.
sed -i "s/^  - { from: per_minute, lake: { table: per_minute } }$/  - { from: per_minute, kafka: { brokers: 127.0.0.1:1, topic: other } }/" \
  "$WORK/crashed/pipelines/live.yaml"
err=$(timeout 60 "$MILLRACE" run "$WORK/crashed" live "${run_args[@]}" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "kafka sinks to two clusters in one streaming pipeline are refused"
expect_contains "$err" "must name the same brokers and properties" "the error says why"
err=$("$MILLRACE" validate "$WORK/crashed" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "validate reports kafka sinks to two clusters"
expect_contains "$err" "live.yaml:17:" "at the second sink, file:line"
stop_server
finish
