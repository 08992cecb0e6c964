#!/usr/bin/env bash
# The schema registry on `millrace serve`'s HTTP port (Confluent's REST API): curl registers,
# evolves and is refused schemas under each compatibility level, looks them up by id, subject
# and version, deletes them, and everything survives a restart; then confluent_kafka's own
# SchemaRegistryClient (a client no one here wrote) registers, looks up and is refused.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/server.sh"

project=$WORK/shop
mkdir -p "$project"
port=$(free_port)
kport=$(free_port)
mkdir -p "$project/pipelines"
cat > "$project/millrace.yaml" <<YAML
name: shop
listen: { kafka: 127.0.0.1:$kport }
include: [pipelines/*.yaml]
topics:
  payments: { partitions: 1 }
YAML
cat > "$project/pipelines/pay.yaml" <<'YAML'
name: pay
sources:
  payments:
    topic: payments
    format: avro
    schema: { id: int64, currency: string, amount: double, note: string }
views:
  big: SELECT id, currency, amount, note FROM payments WHERE amount > 10
sinks:
  - { from: big, file: { path: out/big.csv, format: csv } }
  - { from: dead_letter, file: { path: out/dead.ndjson, format: ndjson } }
YAML
start_server "$project" "$port" "$WORK/serve.log"
url=http://127.0.0.1:$port
ct='Content-Type: application/vnd.schemaregistry.v1+json'

# post <path> <json body>: the status and the body.
post() { curl -s -X POST -H "$ct" -w ' %{http_code}' "$url$1" --data-binary "$2"; }
put() { curl -s -X PUT -H "$ct" -w ' %{http_code}' "$url$1" --data-binary "$2"; }
get() { curl -s -w ' %{http_code}' "$url$1"; }
del() { curl -s -X DELETE -w ' %{http_code}' "$url$1"; }
# avro <fields JSON>: a registration body for record Order with those fields.
avro() { printf '{"schema":"{\\"type\\":\\"record\\",\\"name\\":\\"Order\\",\\"fields\\":[%s]}"}' "$1"; }

v1=$(avro '{\"name\":\"id\",\"type\":\"long\"}')
v2=$(avro '{\"name\":\"id\",\"type\":\"long\"},{\"name\":\"note\",\"type\":\"string\",\"default\":\"\"}')
no_default=$(avro '{\"name\":\"id\",\"type\":\"long\"},{\"name\":\"amount\",\"type\":\"double\"}')
narrowed=$(avro '{\"name\":\"id\",\"type\":\"int\"}')

expect_eq "$(post /subjects/orders-value/versions "$v1")" '{"id":1} 200' "register v1"
expect_eq "$(post /subjects/orders-value/versions "$v1")" '{"id":1} 200' "registering it again is the same id"
expect_eq "$(post /subjects/orders-value/versions "$v2")" '{"id":2} 200' "BACKWARD: a new field with a default"
out=$(post /subjects/orders-value/versions "$no_default")
expect_contains "$out" '"error_code":409' "BACKWARD: a new field without a default is refused"
expect_contains "$out" 'field `amount` is missing from the writer and has no default' "the reason is given"
expect_contains "$out" ' 409' "HTTP 409"
expect_contains "$(post /subjects/orders-value/versions "$narrowed")" ' 409' "BACKWARD: long to int is refused"
expect_eq "$(post /subjects/orders-value/versions '{"schema":"{\"type\":\"recrd\"}"}' | sed 's/"message":"[^"]*"/M/')" \
  '{"error_code":42201,M} 422' "an invalid schema is 42201"
expect_eq "$(get /subjects)" '["orders-value"] 200' "list subjects"
expect_eq "$(get /subjects/orders-value/versions)" '[1,2] 200' "list versions"
expect_contains "$(get /subjects/orders-value/versions/latest)" '"version":2,"id":2' "latest version"
expect_contains "$(get /schemas/ids/1)" '{"schema":"{\"type\":\"record\",\"name\":\"Order\",\"fields\":[{\"name\":\"id\",\"type\":\"long\"}]}"} 200' "schema by id"
expect_contains "$(post /subjects/orders-value "$v2")" '"subject":"orders-value","version":2,"id":2' "lookup by schema"
expect_contains "$(get /subjects/nope/versions)" '{"error_code":40401' "unknown subject is 40401"
expect_contains "$(get /subjects/orders-value/versions/9)" '{"error_code":40402' "unknown version is 40402"
expect_contains "$(get /schemas/ids/99)" '{"error_code":40403' "unknown id is 40403"
expect_contains "$(post /compatibility/subjects/orders-value/versions/latest "$no_default")" \
  '"is_compatible":false' "compatibility test says no"
expect_contains "$(post /compatibility/subjects/orders-value/versions/latest "$v2")" \
  '{"is_compatible":true} 200' "compatibility test says yes"

# FORWARD: old readers must read new data (removing a field without default is refused).
expect_eq "$(get /config)" '{"compatibilityLevel":"BACKWARD"} 200' "BACKWARD by default"
expect_eq "$(put /config/orders-value '{"compatibility":"FORWARD"}')" '{"compatibility":"FORWARD"} 200' "subject level FORWARD"
expect_contains "$(put /config '{"compatibility":"SIDEWAYS"}')" '"error_code":42203' "an unknown level is 42203"
dropped=$(avro '{\"name\":\"note\",\"type\":\"string\",\"default\":\"\"}')
expect_contains "$(post /subjects/orders-value/versions "$dropped")" ' 409' "FORWARD: dropping a field without default is refused"
expect_eq "$(post /subjects/orders-value/versions "$no_default")" '{"id":3} 200' "FORWARD: adding a field without default is fine"
expect_eq "$(put /config/orders-value '{"compatibility":"NONE"}')" '{"compatibility":"NONE"} 200' "subject level NONE"
expect_eq "$(post /subjects/orders-value/versions "$narrowed")" '{"id":4} 200' "NONE: anything goes"

# JSON Schema, structurally.
json1='{"schemaType":"JSON","schema":"{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"}}}"}'
json2='{"schemaType":"JSON","schema":"{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"string\"}}}"}'
expect_eq "$(post /subjects/events-value/versions "$json1")" '{"id":5} 200' "register a JSON Schema"
expect_contains "$(post /subjects/events-value/versions "$json2")" ' 409' "JSON Schema: a changed property type is refused"
expect_contains "$(get /subjects/events-value/versions/1)" '"schemaType":"JSON"' "its type is kept"

# Deletes: soft, then permanent; ids of deleted versions still resolve.
expect_eq "$(del /subjects/events-value/versions/1?permanent=true | sed 's/"message":"[^"]*"/M/')" \
  '{"error_code":40407,M} 409' "a permanent delete needs a soft one first"
expect_eq "$(del /subjects/events-value)" '[1] 200' "soft delete of a subject"
expect_eq "$(get /subjects)" '["orders-value"] 200' "it is no longer listed"
expect_contains "$(get /schemas/ids/5)" ' 200' "its id still resolves"

# Everything is persisted.
stop_server
start_server "$project" "$port" "$WORK/serve.log"
expect_eq "$(get /subjects/orders-value/versions)" '[1,2,3,4] 200' "versions survive a restart"
expect_eq "$(get /config/orders-value)" '{"compatibilityLevel":"NONE"} 200' "the level survives a restart"
expect_eq "$(post /subjects/other/versions "$v2")" '{"id":2} 200' "the same schema elsewhere has the same id"

# confluent_kafka's SchemaRegistryClient.
PY=/usr/bin/python3
if $PY -c 'import confluent_kafka.schema_registry, requests' 2>/dev/null; then
  out=$(URL=$url timeout 60 $PY - <<'PY' 2>&1
import os
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError
client = SchemaRegistryClient({"url": os.environ["URL"]})
payment = '{"type":"record","name":"Payment","fields":[{"name":"id","type":"long"}]}'
evolved = ('{"type":"record","name":"Payment","fields":[{"name":"id","type":"long"},'
           '{"name":"currency","type":"string","default":"EUR"}]}')
broken = '{"type":"record","name":"Payment","fields":[{"name":"id","type":"string"}]}'
first = client.register_schema("payments-value", Schema(payment, "AVRO"))
second = client.register_schema("payments-value", Schema(evolved, "AVRO"))
print("registered", first != second)
print("latest", client.get_latest_version("payments-value").version)
print("by id", "currency" in client.get_schema(second).schema_str)
print("lookup", client.lookup_schema("payments-value", Schema(payment, "AVRO")).version)
print("compatible", client.test_compatibility("payments-value", Schema(broken, "AVRO")))
try:
    client.register_schema("payments-value", Schema(broken, "AVRO"))
    print("broken registered")
except SchemaRegistryError as e:
    print("refused", e.http_status_code, e.error_code)
PY
)
  expect_contains "$out" "registered True" "SchemaRegistryClient registers and evolves"
  expect_contains "$out" "latest 2" "SchemaRegistryClient latest version"
  expect_contains "$out" "by id True" "SchemaRegistryClient schema by id"
  expect_contains "$out" "lookup 1" "SchemaRegistryClient lookup"
  expect_contains "$out" "compatible False" "SchemaRegistryClient compatibility test"
  expect_contains "$out" "refused 409 409" "SchemaRegistryClient: an incompatible schema is refused"
else
  echo "SKIP: SchemaRegistryClient checks (python3-requests and python3-confluent-kafka)"
fi

# A Kafka producer writes Confluent-framed Avro (magic 0, schema id, datum, built by hand: no
# Avro module is packaged); a pipeline's topic source with `format: avro` decodes it through
# the registry, and dead-letters what is not framed or names an unknown id.
payment='{"type":"record","name":"Payment","fields":[{"name":"id","type":"long"},{"name":"currency","type":"string"},{"name":"amount","type":"double"},{"name":"note","type":["null","string"],"default":null}]}'
id=$(curl -s -X POST -H "$ct" "$url/subjects/pay-events-value/versions" \
  --data-binary "$($PY -c 'import json,sys; print(json.dumps({"schema": sys.argv[1]}))' "$payment")" |
  grep -oE '[0-9]+')
out=$(BROKER=127.0.0.1:$kport SCHEMA_ID=$id timeout 60 $PY - <<'PY' 2>&1
import os, struct
from confluent_kafka import Producer

def varint(n):
    n = (n << 1) ^ (n >> 63)
    out = b""
    while n >= 0x80:
        out += bytes([(n & 0x7F) | 0x80]); n >>= 7
    return out + bytes([n])

def string(s):
    data = s.encode()
    return varint(len(data)) + data

def payment(schema_id, pid, currency, amount, note):
    datum = varint(pid) + string(currency) + struct.pack("<d", amount)
    datum += varint(0) if note is None else varint(1) + string(note)
    return b"\0" + struct.pack(">I", schema_id) + datum

schema_id = int(os.environ["SCHEMA_ID"])
p = Producer({"bootstrap.servers": os.environ["BROKER"]})
p.produce("payments", payment(schema_id, 1, "EUR", 12.5, "first"))
p.produce("payments", payment(schema_id, 2, "USD", 3.0, None))
p.produce("payments", payment(schema_id, 3, "GBP", 99.25, None))
p.produce("payments", b'{"id": 4, "currency": "EUR", "amount": 50}')
p.produce("payments", payment(9999, 5, "EUR", 70.0, None))
p.flush(30)
print("produced")
PY
)
expect_contains "$out" "produced" "framed Avro records produced over Kafka"
stop_server
out=$("$MILLRACE" run "$project" pay 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "the pipeline over the Avro topic runs"
expect_contains "$out" "3 rows read, 2 rejected" "three records decode, two are dead letters"
expect_eq "$(cat "$project/out/big.csv")" $'id,currency,amount,note\n1,EUR,12.5,first\n3,GBP,99.25,' \
  "the Avro records decoded through the registry's schema"
dead=$(cat "$project/out/dead.ndjson")
expect_contains "$dead" "wire format (magic byte 0" "a record that is not framed is a dead letter with the reason"
expect_contains "$dead" "schema id 9999 is not in the schema registry" "an unknown schema id is a dead letter with the reason"
finish
