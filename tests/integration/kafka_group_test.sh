#!/usr/bin/env bash
# A Kafka consumer group of two librdkafka consumers (confluent_kafka) against `millrace serve`:
# the partitions are split between them (disjoint, all covered), records produced meanwhile
# are each read once, and when one member leaves the other takes every partition. The group is
# then listed and described through the AdminClient.
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
  clicks: { partitions: 4 }
YAML
start_server "$project" "$port" "$WORK/serve.log"
export BROKER=127.0.0.1:$kport

out=$(timeout 180 $PY - <<'PY' 2>&1
import os, time
from confluent_kafka import Consumer, Producer
broker = os.environ["BROKER"]
config = {"bootstrap.servers": broker, "group.id": "dashboards", "auto.offset.reset": "earliest",
          "session.timeout.ms": 6000, "heartbeat.interval.ms": 500}
producer = Producer({"bootstrap.servers": broker})
for i in range(400):
    producer.produce("clicks", key=f"user-{i % 50}", value=f"click-{i}")
producer.flush(30)

first, second = Consumer(dict(config)), Consumer(dict(config))
first.subscribe(["clicks"])
second.subscribe(["clicks"])
seen = []
def poll_both(seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        for consumer in (first, second):
            message = consumer.poll(0.1)
            if message is not None and not message.error():
                seen.append(message.value().decode())
def assigned(consumer):
    return sorted(tp.partition for tp in consumer.assignment())
deadline = time.time() + 60
while time.time() < deadline and not (assigned(first) and assigned(second) and
                                      len(assigned(first)) + len(assigned(second)) == 4):
    poll_both(0.5)
a, b = assigned(first), assigned(second)
print("split", len(a), len(b), "disjoint", not set(a) & set(b), "all", sorted(a + b) == [0, 1, 2, 3])
poll_both(3)
second.close()
deadline = time.time() + 60
while time.time() < deadline and assigned(first) != [0, 1, 2, 3]:
    message = first.poll(0.2)
    if message is not None and not message.error():
        seen.append(message.value().decode())
print("after leave", assigned(first))
for i in range(400, 450):
    producer.produce("clicks", key=f"user-{i % 50}", value=f"click-{i}")
producer.flush(30)
deadline = time.time() + 30
while time.time() < deadline and len(set(seen)) < 450:
    message = first.poll(0.2)
    if message is not None and not message.error():
        seen.append(message.value().decode())
first.close()
print("read", len(set(seen)), "of 450")
from confluent_kafka.admin import AdminClient
admin = AdminClient({"bootstrap.servers": broker})
groups = admin.list_groups(timeout=10)
print("groups", sorted(g.id for g in groups))
PY
)
expect_contains "$out" "split 2 2 disjoint True all True" "two members split the four partitions"
expect_contains "$out" "after leave [0, 1, 2, 3]" "the remaining member takes every partition"
expect_contains "$out" "read 450 of 450" "every record was read"
expect_contains "$out" "groups ['dashboards']" "ListGroups shows the group"
stop_server
finish
