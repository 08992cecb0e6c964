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
cat > "$project/millrace.yaml" <<YAML
name: shop
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

stop_server
finish
