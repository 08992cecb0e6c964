#!/usr/bin/env bash
# `millrace serve` is an Apache Iceberg REST catalog over the lake: iceberg-js (a REST catalog
# client no one here wrote) lists the namespaces and the tables a lake import wrote (no
# registration step), loads their metadata and commits a schema change (a new column) with
# its requirements; a stale commit is a 409. Afterwards `millrace query`, icebird and DuckDB
# still read the table, Millrace and icebird see the new column, and a later import keeps the
# new schema. curl checks the specification's error shapes and the bearer auth.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/server.sh"

project=$WORK/shop
mkdir -p "$project"
cat > "$project/millrace.yaml" <<'YAML'
name: shop
serving:
  auth:
    tokens:
      - { token: catalog-token, scopes: [catalog] }
      - { token: admin-token, scopes: [admin] }
YAML
schema="order_id: string not null, status: string, amount: double not null"
"$MILLRACE" generate orders --rows 3000 --seed 5 -o "$WORK/orders.ndjson" 2>/dev/null
"$MILLRACE" lake import orders -d "$project/data" -i "$WORK/orders.ndjson" --schema "$schema" \
  --create --partition-by status >/dev/null 2>&1
"$MILLRACE" lake import plain -d "$project/data" -i "$WORK/orders.ndjson" --schema "$schema" \
  --create >/dev/null 2>&1
table=$project/data/lake/orders

port=$(free_port)
base=http://127.0.0.1:$port/iceberg
start_server "$project" "$port" "$WORK/serve.log"
auth=(-H "Authorization: Bearer catalog-token")

# 1. iceberg-js through the prefix that /v1/config hands out (warehouse given) ...
out=$(cd "$ROOT" && node tests/integration/lib/iceberg_catalog_client.mjs "$base" catalog-token orders discount lake 2>&1)
expect_contains "$out" '{"step":"namespaces","namespaces":["default"]}' "iceberg-js lists the namespace"
expect_contains "$out" '{"step":"tables","tables":["orders","plain"]}' "iceberg-js lists the tables the imports wrote"
expect_contains "$out" '{"step":"namespace_exists","exists":true}' "iceberg-js: the namespace exists"
expect_contains "$out" '{"step":"table_exists","exists":true}' "iceberg-js: the table exists"
expect_contains "$out" '{"step":"loaded","format":2,"columns":["order_id","status","amount"],"snapshot":1}' \
  "iceberg-js loads the table metadata"
expect_contains "$out" "{\"step\":\"committed\",\"location\":\"$table/metadata/v2.metadata.json\",\"columns\":[\"order_id\",\"status\",\"amount\",\"discount\"],\"property\":\"iceberg-js\"}" \
  "iceberg-js commits add-schema + set-current-schema + set-properties as metadata v2"
expect_contains "$out" '{"step":"reloaded","columns":["order_id","status","amount","discount"]}' \
  "the reloaded table has the new column"
expect_contains "$out" '{"step":"stale_commit","status":409,"type":"CommitFailedException"}' \
  "the same commit with stale requirements is a 409 CommitFailedException"
# ... and through the short paths (no warehouse, no prefix).
out=$(cd "$ROOT" && node tests/integration/lib/iceberg_catalog_client.mjs "$base" catalog-token plain note 2>&1)
expect_contains "$out" '{"step":"reloaded","columns":["order_id","status","amount","note"]}' \
  "iceberg-js without a warehouse commits through the unprefixed paths"
expect_eq "$(cat "$table/metadata/version-hint.text")" "2" "the commit moved version-hint.text"

# 2. Readers after the schema change: Millrace sees the column (nulls in the older files),
# icebird reads the new metadata, DuckDB the files icebird lists.
got=$("$MILLRACE" query -d "$project/data" -f json "SELECT count(*) AS n, count(discount) AS d, count(DISTINCT order_id) AS k FROM orders")
expect_eq "$got" '{"n":3000,"d":0,"k":3000}' "millrace query reads every row and the new column (null)"
expect_contains "$("$MILLRACE" query -d "$project/data" -f json "SELECT * FROM orders LIMIT 1")" '"discount":null' \
  "SELECT * has the new column"
expect_contains "$("$MILLRACE" lake describe orders -d "$project/data")" "discount: int64" "lake describe shows the new column"
icebird_rows=$(node "$ROOT/tests/integration/lib/icebird_read.mjs" "$table" | wc -l)
expect_eq "$icebird_rows" "3000" "icebird reads the table after the commit"
icebird_schema=$(cd "$ROOT" && node --input-type=module -e "
import { icebergMetadata } from 'icebird';
import { readFileSync } from 'node:fs';
globalThis.fetch = async (url) => new Response(readFileSync(String(url).replace(/^file:\/\//, '')));
const m = await icebergMetadata({ tableUrl: '$table' });
const s = m.schemas.find((x) => x['schema-id'] === m['current-schema-id']);
console.log(s.fields.map((f) => f.name).join(','));")
expect_eq "$icebird_schema" "order_id,status,amount,discount" "icebird sees the new schema"
files=$(node "$ROOT/tests/integration/lib/icebird_read.mjs" "$table" --files | sed "s|.*|'&'|" | paste -sd, -)
expect_eq "$(duckdb "SELECT count(*) AS n, count(DISTINCT order_id) AS k FROM read_parquet([$files])")" \
  '{"n":"3000","k":"3000"}' "DuckDB reads the files of the current snapshot"

# 3. A later write keeps the new schema and its id; the catalog serves it at once.
"$MILLRACE" lake import orders -d "$project/data" -i "$WORK/orders.ndjson" --schema "$schema" >/dev/null 2>&1
loaded=$(curl -s "${auth[@]}" "$base/v1/lake/namespaces/default/tables/orders")
expect_contains "$loaded" "\"metadata-location\": \"$table/metadata/v3.metadata.json\"" "the catalog serves the newest version"
expect_contains "$loaded" '"current-schema-id": 1' "schema 1 stays current after Millrace's own commit"
expect_contains "$loaded" '"current-snapshot-id": 2' "with the new snapshot"
expect_eq "$("$MILLRACE" query -d "$project/data" -f json "SELECT count(*) AS n FROM orders")" '{"n":6000}' \
  "millrace reads both imports"

# 4. Errors in the specification's shape, and auth.
status() { curl -s -o "$WORK/body" -w '%{http_code}' "$@"; }
expect_eq "$(status "$base/v1/namespaces")" "401" "no token: 401"
expect_eq "$(status -H "Authorization: Bearer admin-token" "$base/v1/namespaces")" "403" \
  "a token without the catalog scope: 403"
expect_eq "$(status "${auth[@]}" "$base/v1/lake/namespaces/default/tables/nope")" "404" "unknown table: 404"
expect_contains "$(cat "$WORK/body")" '"type": "NoSuchTableException", "code": 404}}' "... NoSuchTableException"
expect_eq "$(status -X HEAD "${auth[@]}" "$base/v1/lake/namespaces/default/tables/orders")" "204" "HEAD of a table: 204"
# HEAD of a missing table on a kept-alive connection: the 404 carries no body, so the next
# response on the connection is read whole.
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'HEAD /iceberg/v1/lake/namespaces/default/tables/nope HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer catalog-token\r\n\r\nGET /iceberg/v1/config HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer catalog-token\r\nConnection: close\r\n\r\n' >&3
raw=$(timeout 20 cat <&3 | tr -d '\r')
exec 3<&-
expect_eq "$(grep -c '^HTTP/1.1 ' <<<"$raw")" "2" "HEAD then GET on one connection: two responses"
expect_eq "$(grep -c 'NoSuchTableException' <<<"$raw")" "0" "the HEAD 404 has no body"
expect_contains "$raw" '"prefix": "lake"' "the GET after it is answered whole"
expect_eq "$(status "${auth[@]}" "$base/v1/lake/namespaces/nope/tables")" "404" "unknown namespace: 404"
expect_contains "$(cat "$WORK/body")" '"type": "NoSuchNamespaceException"' "... NoSuchNamespaceException"
expect_eq "$(status -X POST "${auth[@]}" -d '{not json' "$base/v1/lake/namespaces/default/tables/orders")" "400" \
  "bad JSON: 400"
expect_contains "$(cat "$WORK/body")" '"type": "BadRequestException", "code": 400}}' "... BadRequestException"
expect_eq "$(status -X POST "${auth[@]}" -d '{"requirements":[{"type":"assert-current-schema-id","current-schema-id":0}],"updates":[]}' \
  "$base/v1/lake/namespaces/default/tables/orders")" "409" "failed requirement: 409"
expect_contains "$(cat "$WORK/body")" '"type": "CommitFailedException", "code": 409}}' "... CommitFailedException"
expect_eq "$(status -X POST "${auth[@]}" -d '{"updates":[{"action":"add-spec","spec":{"fields":[]}}]}' \
  "$base/v1/lake/namespaces/default/tables/orders")" "400" "an unsupported update: 400"
expect_eq "$(status -X POST "${auth[@]}" -d '{"source":{"namespace":["default"],"name":"orders"},"destination":{"namespace":["default"],"name":"plain"}}' \
  "$base/v1/lake/tables/rename")" "409" "rename onto an existing table: 409"
expect_contains "$(cat "$WORK/body")" '"type": "AlreadyExistsException"' "... AlreadyExistsException"
expect_eq "$(status -X POST "${auth[@]}" -d '{"source":{"namespace":["default"],"name":"nope"},"destination":{"namespace":["default"],"name":"o2"}}' \
  "$base/v1/lake/tables/rename")" "404" "rename of a missing table: 404"

# 5. Namespaces and tables created and dropped through the catalog.
expect_eq "$(status -X POST "${auth[@]}" -d '{"namespace":["staging"],"properties":{"owner":"ana"}}' "$base/v1/lake/namespaces")" \
  "200" "create a namespace"
expect_eq "$(status -X POST "${auth[@]}" -d '{"namespace":["staging"]}' "$base/v1/lake/namespaces")" "409" \
  "create it again: 409"
expect_eq "$(status -X DELETE "${auth[@]}" "$base/v1/lake/namespaces/staging")" "204" "drop the empty namespace"
expect_eq "$(status -X POST "${auth[@]}" -d '{"name":"events","schema":{"type":"struct","fields":[{"id":1,"name":"user","required":false,"type":"string"},{"id":2,"name":"at","required":true,"type":"timestamptz"}]},"partition-spec":{"fields":[{"source-id":2,"field-id":1000,"name":"at_day","transform":"day"}]}}' \
  "$base/v1/lake/namespaces/default/tables")" "200" "create a table"
expect_contains "$("$MILLRACE" lake describe events -d "$project/data")" "partition_by: date(at) as at_day" \
  "the created table is a lake table with its partitioning"
expect_eq "$(status -X DELETE "${auth[@]}" "$base/v1/lake/namespaces/default/tables/events?purgeRequested=true")" "204" \
  "drop it"
expect_eq "$(status "${auth[@]}" "$base/v1/lake/namespaces/default/tables/events")" "404" "it is gone"
expect_eq "$("$MILLRACE" lake list -d "$project/data" | cut -f1 | paste -sd, -)" "orders,plain" "the lake lists the two imported tables"
stop_server
finish
