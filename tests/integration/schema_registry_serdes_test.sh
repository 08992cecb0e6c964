#!/usr/bin/env bash
# Schema-registry serializers no one here wrote, against `millrace serve`: npm
# @confluentinc/schemaregistry registers, evolves and is refused Avro and JSON schemas
# (Confluent's error codes), serializes records that @confluentinc/kafka-javascript produces and
# reads back; confluent-kafka-python's JSONSerializer registers a JSON Schema and produces to a
# topic with `require_schema: true`, which refuses unframed records and unknown schema ids over
# Kafka and HTTP ingest. Pipelines read every framed record (`format: avro`, `format: json_sr`)
# with the right values.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/server.sh"

cd "$ROOT"  # node resolves packages from the repository's node_modules
PY=/usr/bin/python3
js=yes
if ! node -e 'require("@confluentinc/kafka-javascript"); require("@confluentinc/schemaregistry")' 2>/dev/null; then
  echo "SKIP (JavaScript part): @confluentinc/kafka-javascript or schemaregistry not installed"; js=
fi
if ! $PY -c 'import confluent_kafka.schema_registry.json_schema, jsonschema, requests' 2>/dev/null; then
  echo "SKIP: confluent_kafka's JSONSerializer needs python3-confluent-kafka, -jsonschema, -requests"; exit 0
fi
project=$WORK/shop
mkdir -p "$project/pipelines"
port=$(free_port)
kport=$(free_port)
cat > "$project/millrace.yaml" <<YAML
name: shop
listen: { kafka: 127.0.0.1:$kport }
kafka: { initial_rebalance_delay: 0s }
include: [pipelines/*.yaml]
topics:
  js_orders: { partitions: 2 }
  js_events: { partitions: 2 }
  clicks: { partitions: 1, require_schema: true }
YAML
cat > "$project/pipelines/serdes.yaml" <<'YAML'
name: serdes
sources:
  orders:
    topic: js_orders
    format: avro
    schema: { id: int64, amount: double, currency: string }
  events:
    topic: js_events
    format: json_sr
    schema: { id: int64, kind: string, score: double }
  clicks:
    topic: clicks
    format: json_sr
    schema: { visitor: string, page: string, ms: int64 }
views:
  all_orders: SELECT id, amount, currency FROM orders ORDER BY id
  all_events: SELECT id, kind, score FROM events ORDER BY id
  all_clicks: SELECT visitor, page, ms FROM clicks ORDER BY ms
sinks:
  - { from: all_orders, file: { path: out/orders.csv, format: csv } }
  - { from: all_events, file: { path: out/events.csv, format: csv } }
  - { from: all_clicks, file: { path: out/clicks.csv, format: csv } }
  - { from: dead_letter, file: { path: out/dead.ndjson, format: ndjson } }
YAML
start_server "$project" "$port" "$WORK/serve.log"
url=http://127.0.0.1:$port

if [ -n "$js" ]; then
  out=$(URL=$url BROKER=127.0.0.1:$kport timeout 180 node tests/integration/lib/schemaregistry_client.mjs 2>&1) || true
  expect_contains "$out" '{"step":"avro","registered":true,"latest":2,"compatible":false,"refused":true,"status":409,"code":409,"versions":[1,2]}' \
    "schemaregistry (npm): Avro registered, evolved, an incompatible version refused with 409"
  expect_contains "$out" '{"step":"json","registered":true,"latest":2,"refused":true,"status":409,"code":409}' \
    "schemaregistry (npm): JSON Schema registered, evolved (closed model), a changed type refused"
  expect_contains "$out" '{"step":"serialized","magic":true}' "its serializers frame records with the registered ids"
  expect_contains "$out" '{"step":"deserialized","orders":true,"events":true}' \
    "records produced with kafka-javascript deserialize back to what was sent"
fi

out=$(URL=$url BROKER=127.0.0.1:$kport timeout 120 $PY - <<'PY' 2>&1
import os, struct
from confluent_kafka import Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.json_schema import JSONSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

schema = """{"$schema": "http://json-schema.org/draft-07/schema#", "title": "Click",
  "type": "object", "additionalProperties": false, "required": ["visitor", "page", "ms"],
  "properties": {"visitor": {"type": "string"}, "page": {"type": "string"},
                 "ms": {"type": "integer"}}}"""
client = SchemaRegistryClient({"url": os.environ["URL"]})
serializer = JSONSerializer(schema, client)   # registers clicks-value on first use
producer = Producer({"bootstrap.servers": os.environ["BROKER"], "retries": 0})
results = []
def report(err, msg):
    results.append(err.name() if err else "ok")
context = SerializationContext("clicks", MessageField.VALUE)
for i, (visitor, page) in enumerate([("ann", "/"), ("bob", "/cart"), ("ann", "/pay")]):
    producer.produce("clicks", serializer({"visitor": visitor, "page": page, "ms": 1000 + i}, context),
                     on_delivery=report)
    producer.flush(30)
framed_id = client.get_latest_version("clicks-value").schema_id
print("registered", framed_id, client.get_latest_version("clicks-value").schema.schema_type)
producer.produce("clicks", b'{"visitor": "eve", "page": "/", "ms": 5}', on_delivery=report)
producer.flush(30)
producer.produce("clicks", b"\0" + struct.pack(">I", 777) + b'{"visitor": "eve"}', on_delivery=report)
producer.flush(30)
print("results", results)
PY
)
expect_contains "$out" "registered " "JSONSerializer registers its JSON Schema"
expect_contains "$out" " JSON" "as a JSON Schema"
expect_contains "$out" "results ['ok', 'ok', 'ok', 'INVALID_RECORD', 'INVALID_RECORD']" \
  "require_schema: framed records are stored, unframed and unknown-id ones refused (INVALID_RECORD)"
expect_contains "$(grep 'requires registered schemas' "$WORK/serve.log")" "schema id 777 is not in the schema registry" \
  "the refusal's reason is logged"
out=$(curl -s -w ' %{http_code}' -X POST -H 'Content-Type: application/json' "$url/v1/ingest/clicks" \
  --data-binary '{"visitor":"eve","page":"/","ms":5}')
expect_contains "$out" "requires records in the schema registry's wire format" "HTTP ingest to it is refused with the reason"
expect_contains "$out" " 422" "with 422"
stop_server

out=$("$MILLRACE" run "$project" serdes 2>&1) && rc=0 || rc=$?; [ "$rc" = 0 ] || echo "$out"
expect_eq "$rc" "0" "the pipeline over the framed topics runs"
expect_eq "$(cat "$project/out/clicks.csv")" $'visitor,page,ms\nann,/,1000\nbob,/cart,1001\nann,/pay,1002' \
  "JSONSerializer's records land in the pipeline with their values"
if [ -n "$js" ]; then
  expect_eq "$(cat "$project/out/orders.csv")" $'id,amount,currency\n1,12.5,USD\n2,30,EUR\n3,7.25,GBP' \
    "the npm AvroSerializer's records decode through the registry (format: avro)"
  expect_eq "$(cat "$project/out/events.csv")" $'id,kind,score\n10,click,0.5\n11,view,2\n12,buy,9.75' \
    "the npm JsonSerializer's records decode (format: json_sr)"
fi
expect_eq "$(cat "$project/out/dead.ndjson" 2>/dev/null | wc -l)" "0" "no dead letters"
finish
