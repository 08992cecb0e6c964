#!/usr/bin/env bash
# Python Kafka clients no one here wrote against `millrace serve`'s Kafka listener:
# kafka-python 2.0 (a JSON order-event producer, a consumer group reading them back),
# confluent_kafka / librdkafka 2.0 (idempotent lz4 producer, consumer group with commits that
# `millrace topic consume --consumer` then resumes from, AdminClient create/delete topics), and
# a raw socket: a corrupt batch is refused with CORRUPT_MESSAGE and nothing stored, unsupported
# versions and an oversized frame are answered on a connection that stays usable, acks=0 gets
# no response, pipelined answers keep request order behind an fsync and a waiting fetch.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/server.sh"

PY=/usr/bin/python3
if ! $PY -c 'import kafka, confluent_kafka' 2>/dev/null; then
  echo "SKIP: python3-kafka and python3-confluent-kafka are not installed (scripts/install-deps.sh)"
  exit 0
fi

project=$WORK/shop
mkdir -p "$project"
port=$(free_port)
kport=$(free_port)
cat > "$project/millrace.yaml" <<YAML
name: shop
listen: { kafka: 127.0.0.1:$kport }
kafka: { initial_rebalance_delay: 0s, max_request_bytes: 65536 }
topics:
  order_events: { partitions: 3 }
  payments: { partitions: 2 }
  raw: { partitions: 1 }
  ledger: { partitions: 1, fsync: always }
YAML
start_server "$project" "$port" "$WORK/serve.log"
export BROKER=127.0.0.1:$kport

# kafka-python: a seed-style order-event producer with a JSON value_serializer, then a group.
out=$(timeout 120 $PY - <<'PY' 2>&1
import json, os
from kafka import KafkaConsumer, KafkaProducer
broker = os.environ["BROKER"]
producer = KafkaProducer(bootstrap_servers=broker, key_serializer=str.encode,
                         value_serializer=lambda v: json.dumps(v).encode())
for i in range(120):
    producer.send("order_events", key=f"customer-{i % 9}",
                  value={"order_id": i, "customer": f"customer-{i % 9}", "amount": i * 2.5})
producer.flush()
consumer = KafkaConsumer("order_events", bootstrap_servers=broker, group_id="kp-group",
                         auto_offset_reset="earliest", consumer_timeout_ms=8000,
                         value_deserializer=json.loads)
seen = {}
for message in consumer:
    seen[message.value["order_id"]] = message
    if len(seen) == 120:
        break
consumer.commit()
consumer.close()
# A key stays in one partition, its records in the order they were sent.
per_key = {}
in_order = True
for order_id in sorted(seen):
    m = seen[order_id]
    last = per_key.get(m.key)
    if last is not None and (last.partition != m.partition or last.offset >= m.offset):
        in_order = False
    per_key[m.key] = m
print("consumed", len(seen), "in_order", in_order)
PY
)
expect_contains "$out" "consumed 120 in_order True" "kafka-python JSON producer and consumer group"

# confluent_kafka: idempotent lz4 producer, a group that commits, admin create/delete.
out=$(timeout 120 $PY - <<'PY' 2>&1
import os
from confluent_kafka import Consumer, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic
broker = os.environ["BROKER"]
producer = Producer({"bootstrap.servers": broker, "enable.idempotence": True,
                     "compression.type": "lz4", "linger.ms": 5})
for i in range(200):
    producer.produce("payments", key=f"k{i % 13}", value=f"payment-{i}")
producer.flush(30)
consumer = Consumer({"bootstrap.servers": broker, "group.id": "ledger",
                     "auto.offset.reset": "earliest", "enable.auto.commit": False})
consumer.subscribe(["payments"])
values, idle = [], 0
while len(values) < 200 and idle < 30:
    message = consumer.poll(1.0)
    if message is None:
        idle += 1
        continue
    if message.error():
        raise KafkaException(message.error())
    values.append(message.value().decode())
consumer.commit(asynchronous=False)
consumer.close()
print("confluent consumed", len(values), len(set(values)))
admin = AdminClient({"bootstrap.servers": broker})
for topic, future in admin.create_topics([NewTopic("audit", 4, 1)]).items():
    future.result(30)
print("created", len(admin.list_topics(timeout=10).topics["audit"].partitions))
for topic, future in admin.delete_topics(["audit"]).items():
    future.result(30)
print("deleted", "audit" not in admin.list_topics(timeout=10).topics)
late = Producer({"bootstrap.servers": broker})
for i in range(3):
    late.produce("payments", key="late", value=f"late-{i}")
late.flush(30)
PY
)
expect_contains "$out" "confluent consumed 200 200" "confluent_kafka idempotent lz4 producer and group"
expect_contains "$out" "created 4" "AdminClient CreateTopics, then Metadata shows it"
expect_contains "$out" "deleted True" "AdminClient DeleteTopics, then Metadata forgets it"

# A raw socket: framing and refusals.
out=$(timeout 60 $PY - <<'PY' 2>&1
import os, socket, struct, zlib

host, port = os.environ["BROKER"].split(":")
sock = socket.create_connection((host, int(port)))

def send(api_key, version, correlation, body):
    header = struct.pack(">hhih", api_key, version, correlation, 4) + b"test"
    frame = header + body
    sock.sendall(struct.pack(">i", len(frame)) + frame)

def receive():
    size = struct.unpack(">i", recv_exactly(4))[0]
    return recv_exactly(size)

def recv_exactly(n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError("connection closed")
        data += chunk
    return data

# CRC-32C, bitwise (the batch checksum).
def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF

def varint(n):
    n = (n << 1) ^ (n >> 63)
    out = b""
    while n >= 0x80:
        out += bytes([(n & 0x7F) | 0x80]); n >>= 7
    return out + bytes([n])

def batch(values):
    records = b""
    for i, value in enumerate(values):
        body = b"\x00" + varint(0) + varint(i) + varint(-1) + varint(len(value)) + value + varint(0)
        records += varint(len(body)) + body
    after_crc = struct.pack(">hiqqqhii", 0, len(values) - 1, 1000, 1000, -1, -1, -1, len(values)) + records
    crc = crc32c(after_crc)
    tail = struct.pack(">ibI", 0, 2, crc) + after_crc
    return struct.pack(">qi", 0, len(tail)) + tail

def produce_body(records, acks=-1, topic=b"raw"):
    return (struct.pack(">hhi", -1, acks, 5000) + struct.pack(">i", 1) + struct.pack(">h", len(topic))
            + topic + struct.pack(">i", 1) + struct.pack(">i", 0) + struct.pack(">i", len(records))
            + records)

def produce_error(response):
    # correlation, responses[1]: name, partitions[1]: index, error_code ...
    pos = 4 + 4
    name_len = struct.unpack(">h", response[pos:pos + 2])[0]
    pos += 2 + name_len + 4 + 4
    error, base = struct.unpack(">hq", response[pos:pos + 10])
    return error, base

good = batch([b"one", b"two"])
send(0, 7, 1, produce_body(good))
print("good", produce_error(receive()))
bad = bytearray(batch([b"three"]))
bad[-2] ^= 0x20
send(0, 7, 2, produce_body(bytes(bad)))
print("corrupt", produce_error(receive()))
send(0, 7, 3, produce_body(good, acks=0))  # no response to this one
send(18, 9, 4, b"")  # ApiVersions v9: error 35 and a v0 body
response = receive()
correlation, error = struct.unpack(">ih", response[:6])
print("apiversions", correlation, error, struct.unpack(">i", response[6:10])[0] > 5)
send(1, 99, 5, b"")  # Fetch v99: answered, not dropped
print("fetch v99 answered", struct.unpack(">i", receive()[:4])[0])
send(0, 7, 6, produce_body(batch([b"x" * 70000])))  # over max_request_bytes
print("oversized answered", struct.unpack(">i", receive()[:4])[0])
send(18, 0, 7, b"")
response = receive()
print("still open", struct.unpack(">ih", response[:6]))
# Pipelined: an acks=all produce that waits for an fsync, a fetch at the end of the log that
# waits 300 ms for data, then requests answered at once; the answers keep request order.
send(0, 7, 20, produce_body(batch([b"durable"]), topic=b"ledger"))
fetch = (struct.pack(">iiiib", -1, 300, 1, 1 << 20, 0) + struct.pack(">i", 1)
         + struct.pack(">h", 6) + b"ledger" + struct.pack(">iiqi", 1, 0, 1, 1 << 20))
send(1, 4, 21, fetch)
send(18, 0, 22, b"")
send(3, 1, 23, struct.pack(">i", 0))
order = [struct.unpack(">i", receive()[:4])[0] for _ in range(4)]
print("order", order)
PY
)
expect_contains "$out" "good (0, 0)" "raw produce stored at offset 0"
expect_contains "$out" "corrupt (2, -1)" "a batch with a bad CRC gets CORRUPT_MESSAGE"
expect_contains "$out" "apiversions 4 35 True" "ApiVersions v9 gets error 35 with a v0 body (no answer to acks=0 before it)"
expect_contains "$out" "fetch v99 answered 5" "an unsupported Fetch version is answered"
expect_contains "$out" "oversized answered 6" "a frame over max_request_bytes is answered"
expect_contains "$out" "still open (7, 0)" "the connection stays usable"
expect_contains "$out" "order [20, 21, 22, 23]" "pipelined answers come back in request order"
metrics=$(curl -s "http://127.0.0.1:$port/metrics")
expect_contains "$metrics" 'millrace_kafka_produce_batches_total{outcome="refused"} 1' "the refused batch is counted"
expect_contains "$metrics" 'millrace_kafka_requests_total{api="ApiVersions",outcome="unsupported_version"} 1' \
  "unsupported versions are counted"
stop_server

raw=$("$MILLRACE" topic consume raw -p "$project" | tr '\n' ' ')
expect_eq "$raw" "one two one two " "the corrupt batch stored nothing; the acks=0 batch was stored"
rest=$("$MILLRACE" topic consume payments -p "$project" --consumer ledger | sort | tr '\n' ' ')
expect_eq "$rest" "late-0 late-1 late-2 " "topic consume --consumer resumes at the Kafka group's commits"
grep -q '"unsupported API version"' "$WORK/serve.log" && pass "unsupported versions are logged" ||
  fail "unsupported versions are logged"
finish
