#!/usr/bin/env bash
# Kafka transactions against `millrace serve` with confluent_kafka (librdkafka), a client no
# one here wrote: a transactional producer commits one transaction and aborts another; a
# producer killed mid-transaction holds back read_committed readers until its successor
# (same transactional.id) fences it and its transaction is aborted; a read_committed consumer
# sees only committed records, read_uncommitted sees them all; consume-transform-produce with
# send_offsets_to_transaction commits the group's offsets with the output; `millrace topic
# consume` sees only committed records; a transaction open when the server is killed is aborted
# by the restart; a transaction past its timeout is aborted.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/server.sh"

PY=/usr/bin/python3
if ! $PY -c 'import confluent_kafka' 2>/dev/null; then
  echo "SKIP: python3-confluent-kafka is not installed (scripts/install-deps.sh)"
  exit 0
fi

project=$WORK/shop
mkdir -p "$project"
port=$(free_port)
kport=$(free_port)
cat > "$project/millrace.yaml" <<YAML
name: shop
listen: { kafka: 127.0.0.1:$kport }
kafka: { initial_rebalance_delay: 0s }
topics:
  payments: { partitions: 2 }
  input: { partitions: 1 }
  output: { partitions: 1 }
  slow: { partitions: 1 }
YAML
start_server "$project" "$port" "$WORK/serve.log"
export BROKER=127.0.0.1:$kport

cat > "$WORK/tx.py" <<'PY'
import os, sys, time
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

broker = os.environ["BROKER"]

def producer(txn_id, **extra):
    config = {"bootstrap.servers": broker, "transactional.id": txn_id}
    config.update(extra)
    p = Producer(config)
    p.init_transactions(30)
    return p

def send(p, topic, values, commit):
    p.begin_transaction()
    for i, value in enumerate(values):
        p.produce(topic, key=f"k{i}", value=value)
    p.flush(30)
    if commit:
        p.commit_transaction(30)
    else:
        p.abort_transaction(30)

def consume(topic, isolation, expected, group=None):
    c = Consumer({"bootstrap.servers": broker, "group.id": group or f"g-{time.time_ns()}",
                  "isolation.level": isolation, "auto.offset.reset": "earliest",
                  "enable.auto.commit": False})
    c.subscribe([topic])
    values, idle = [], 0
    deadline = time.time() + 60
    # Until the expected count and then two quiet polls (anything extra would show up).
    while time.time() < deadline and (len(values) < expected or idle < 2):
        m = c.poll(1.0)
        if m is None:
            idle += 1
            continue
        if m.error():
            raise KafkaException(m.error())
        idle = 0
        values.append(m.value().decode())
    c.close()
    return sorted(values)

command = sys.argv[1]
if command == "commit-abort":
    p = producer("payer")
    send(p, "payments", [f"c{i}" for i in range(10)], True)
    send(p, "payments", [f"a{i}" for i in range(10)], False)
    print("commit-abort done")
elif command == "zombie":
    # Leaves a transaction open and sleeps until killed.
    p = producer("payer")
    p.begin_transaction()
    for i in range(5):
        p.produce("payments", key=f"k{i}", value=f"z{i}")
    p.flush(30)
    print("zombie ready", flush=True)
    time.sleep(600)
elif command == "successor":
    p = producer("payer")
    send(p, "payments", [f"d{i}" for i in range(10)], True)
    print("successor done")
elif command == "fenced":
    old = producer("fence-me")
    new = producer("fence-me")
    try:
        send(old, "payments", ["fenced-0"], True)
        print("zombie committed")
    except KafkaException as e:
        print("zombie fenced", e.args[0].fatal() or e.args[0].name())
    send(new, "payments", ["e0"], True)
    print("new one committed")
elif command == "read":
    topic, isolation, expected = sys.argv[2], sys.argv[3], int(sys.argv[4])
    print(isolation, " ".join(consume(topic, isolation, expected)))
elif command == "fill-input":
    p = Producer({"bootstrap.servers": broker})
    for i in range(6):
        p.produce("input", value=f"item-{i}")
    p.flush(30)
    print("filled")
elif command == "transform":
    c = Consumer({"bootstrap.servers": broker, "group.id": "transformer",
                  "isolation.level": "read_committed", "auto.offset.reset": "earliest",
                  "enable.auto.commit": False})
    c.subscribe(["input"])
    p = producer("transformer-1")
    p.begin_transaction()
    seen, idle = 0, 0
    while seen < 6 and idle < 30:
        m = c.poll(1.0)
        if m is None:
            idle += 1
            continue
        if m.error():
            raise KafkaException(m.error())
        p.produce("output", value=m.value().decode().upper())
        seen += 1
    p.send_offsets_to_transaction(c.position(c.assignment()), c.consumer_group_metadata(), 30)
    p.commit_transaction(30)
    committed = c.committed([TopicPartition("input", 0)], 10)
    c.close()
    print("transformed", seen, "committed offset", committed[0].offset)
elif command == "open":
    # A transaction left open by a live producer (timeout as given), then sleeps.
    timeout = int(sys.argv[2])
    p = producer(sys.argv[3], **{"transaction.timeout.ms": timeout})
    p.begin_transaction()
    p.produce(sys.argv[4], value="open-0")
    p.flush(30)
    print("open ready", flush=True)
    time.sleep(600)
elif command == "plain":
    p = Producer({"bootstrap.servers": broker})
    p.produce(sys.argv[2], value=sys.argv[3])
    p.flush(30)
    print("plain done")
PY

out=$(timeout 120 $PY "$WORK/tx.py" commit-abort 2>&1)
expect_contains "$out" "commit-abort done" "a transaction committed, another aborted"

# A producer killed in the middle of a transaction: its records hold back committed readers.
$PY "$WORK/tx.py" zombie >"$WORK/zombie.out" 2>&1 &
zombie=$!
for _ in $(seq 1 600); do grep -qs "zombie ready" "$WORK/zombie.out" && break; sleep 0.1; done
kill -9 "$zombie"; wait "$zombie" 2>/dev/null || true
expect_contains "$(cat "$WORK/zombie.out")" "zombie ready" "the zombie producer left its transaction open"
consumed=$("$MILLRACE" topic consume payments -p "$project" | sort | tr '\n' ' ')
expect_eq "$consumed" "c0 c1 c2 c3 c4 c5 c6 c7 c8 c9 " \
  "topic consume: committed records only, none of the aborted or open transaction"

# Its successor (same transactional.id) fences it and aborts its transaction.
out=$(timeout 120 $PY "$WORK/tx.py" successor 2>&1)
expect_contains "$out" "successor done" "the successor commits"
committed="c0 c1 c2 c3 c4 c5 c6 c7 c8 c9 d0 d1 d2 d3 d4 d5 d6 d7 d8 d9"
out=$(timeout 120 $PY "$WORK/tx.py" read payments read_committed 20 2>&1)
expect_eq "$out" "read_committed $committed" "read_committed consumer: committed records only"
out=$(timeout 120 $PY "$WORK/tx.py" read payments read_uncommitted 35 2>&1)
expect_eq "$out" "read_uncommitted a0 a1 a2 a3 a4 a5 a6 a7 a8 a9 $committed z0 z1 z2 z3 z4" \
  "read_uncommitted consumer: aborted records too"
consumed=$("$MILLRACE" topic consume payments -p "$project" | sort | tr '\n' ' ')
expect_eq "$consumed" "$committed " "topic consume after the abort: committed records only"

out=$(timeout 120 $PY "$WORK/tx.py" fenced 2>&1)
expect_contains "$out" "zombie fenced" "a producer whose transactional.id was taken over is fenced"
expect_contains "$out" "new one committed" "its successor commits"

# Consume-transform-produce: the group's offsets commit with the output.
out=$(timeout 120 $PY "$WORK/tx.py" fill-input 2>&1)
expect_contains "$out" "filled" "input records produced"
out=$(timeout 120 $PY "$WORK/tx.py" transform 2>&1)
expect_contains "$out" "transformed 6 committed offset 6" \
  "send_offsets_to_transaction: the group's offset is committed with the transaction"
out=$(timeout 120 $PY "$WORK/tx.py" read output read_committed 6 2>&1)
expect_eq "$out" "read_committed ITEM-0 ITEM-1 ITEM-2 ITEM-3 ITEM-4 ITEM-5" "the transformed records"
described=$("$MILLRACE" topic describe input -p "$project")
expect_contains "$described" '"consumer":"transformer","partitions":[{"partition":0,"offset":6,"lag":0}' \
  "the transaction's group offset is in the log's consumer-offset store"

# A transaction past its timeout is aborted: the plain record behind it becomes readable.
$PY "$WORK/tx.py" open 2000 expiring slow >"$WORK/open.out" 2>&1 &
opener=$!
for _ in $(seq 1 600); do grep -qs "open ready" "$WORK/open.out" && break; sleep 0.1; done
out=$(timeout 60 $PY "$WORK/tx.py" plain slow after-timeout 2>&1)
expect_contains "$out" "plain done" "a plain record behind the open transaction"
seen=
for _ in $(seq 1 300); do
  seen=$("$MILLRACE" topic consume slow -p "$project" | tr '\n' ' ')
  [ "$seen" = "after-timeout " ] && break
  sleep 0.1
done
expect_eq "$seen" "after-timeout " "the timed-out transaction was aborted, the record behind it is readable"
kill -9 "$opener"; wait "$opener" 2>/dev/null || true

# A transaction open when the server is killed is aborted by the restart.
$PY "$WORK/tx.py" open 60000 restarted input >"$WORK/open2.out" 2>&1 &
opener=$!
for _ in $(seq 1 600); do grep -qs "open ready" "$WORK/open2.out" && break; sleep 0.1; done
kill -9 "$opener"; wait "$opener" 2>/dev/null || true
kill9_server
start_server "$project" "$port" "$WORK/serve.log"
out=$(timeout 60 $PY "$WORK/tx.py" plain input after-restart 2>&1)
consumed=$("$MILLRACE" topic consume input -p "$project" | tr '\n' ' ')
expect_eq "$consumed" "item-0 item-1 item-2 item-3 item-4 item-5 after-restart " \
  "after a restart the open transaction is aborted: its record is gone, what follows is readable"
out=$(timeout 120 $PY "$WORK/tx.py" read payments read_committed 21 2>&1)
expect_eq "$out" "read_committed $committed e0" "committed records survive the restart"
expect_contains "$(cat "$WORK/serve.log")" "aborting a transaction left open by a restart" \
  "the restart says it aborted the open transaction"

stop_server
finish
