#!/usr/bin/env bash
# Schema evolution by field id, time travel and incremental reads, proven with readers no one
# here wrote: after `lake alter` renames, widens, moves, drops and adds columns and a second
# import writes the new schema, icebird (npm) reads the table and its rows equal `millrace
# query` and DuckDB's answer over the two source files; icebird at an older metadata version
# equals `millrace query` over "t@<id>"; DuckDB reads the current snapshot's data files. A
# pipeline's lake sink with a new column is refused naming it, and evolves the table with
# `schema_evolution: add_columns` (partitioned by id: a batch run overwrites only its partitions).
source "$(dirname "$0")/lib/common.sh"
cd "$WORK"

icebird() { node "$ROOT/tests/integration/lib/icebird_read.mjs" "$@"; }
schema="order_id: string not null, user_id: string, restaurant_id: string, timestamp: timestamp not null, status: string, amount: double not null, items: int32, city: string"
"$MILLRACE" generate orders --rows 6000 --seed 5 -o orders.ndjson 2>/dev/null
head -n 4000 orders.ndjson > first.ndjson
"$MILLRACE" lake import t -d data -i first.ndjson --schema "$schema" --create \
  --partition-by "date(timestamp)" --commit-rows 2000 >/dev/null 2>&1 || fail "first import"
table="$WORK/data/lake/t"

out=$("$MILLRACE" lake alter t -d data --add-column "tip: double" --rename-column items=item_count \
  --widen-column "item_count: int64" --move-column "city after order_id" --drop-column restaurant_id)
expect_eq "$out" "schema 1: { order_id: string not null, city: string, user_id: string, timestamp: timestamp not null, status: string, amount: double not null, item_count: int64, tip: double }" \
  "lake alter makes schema 1"
out=$("$MILLRACE" lake alter t -d data --drop-column timestamp 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "dropping the partition column fails"
expect_contains "$out" "\`timestamp\` partitions the table" "naming the column"
out=$("$MILLRACE" lake alter t -d data --widen-column "status: int64" 2>&1) && rc=0 || rc=$?
expect_contains "$out" "column \`status\` is string, which does not widen to int64" "a bad widening names the column"
ids=$(/usr/bin/python3 -c "
import json,sys
m = json.load(open('$(ls "$table"/metadata/v*.metadata.json | sort -V | tail -1)'))
cur = [s for s in m['schemas'] if s['schema-id'] == m['current-schema-id']][0]
print(m['current-schema-id'], len(m['schemas']), m['last-column-id'], ' '.join(str(f['id']) for f in cur['fields']))")
expect_eq "$ids" "1 2 9 1 8 2 4 5 6 7 9" "schema ids, kept schemas and field ids: moved and renamed keep theirs, the new one is 9"

# Rows of the evolved schema (from the remaining source rows, with a tip).
/usr/bin/python3 - <<'PY'
import json
with open("second.ndjson", "w") as out:
    for i, line in enumerate(open("orders.ndjson")):
        if i < 4000:
            continue
        r = json.loads(line)
        out.write(json.dumps({"order_id": r["order_id"], "city": r["city"], "user_id": r["user_id"],
                              "timestamp": r["timestamp"], "status": r["status"], "amount": r["amount"],
                              "item_count": r["items"], "tip": 1.5}) + "\n")
PY
new_schema="order_id: string not null, city: string, user_id: string, timestamp: timestamp not null, status: string, amount: double not null, item_count: int64, tip: double"
"$MILLRACE" lake import t -d data -i second.ndjson --schema "$new_schema" >/dev/null 2>&1 || fail "second import"
last=$("$MILLRACE" lake history t -d data | tail -1 | cut -f1)
expect_eq "$last" "3" "three snapshots (two commits of the first import, one of the second)"

columns="{'order_id':'VARCHAR','city':'VARCHAR','user_id':'VARCHAR','timestamp':'TIMESTAMPTZ','status':'VARCHAR','amount':'DOUBLE','item_count':'BIGINT','tip':'DOUBLE'}"
norm="order_id, city, user_id, date_trunc('millisecond', timestamp) AS ts, status, amount, item_count, tip"
rel() { echo "(SELECT $norm FROM read_json('$1', format='newline_delimited', columns=$columns))"; }
# DuckDB's own answer over the source data, with the schema changes applied by name.
ocols="{'order_id':'VARCHAR','user_id':'VARCHAR','restaurant_id':'VARCHAR','timestamp':'TIMESTAMPTZ','status':'VARCHAR','amount':'DOUBLE','items':'INTEGER','city':'VARCHAR'}"
expected="(SELECT order_id, city, user_id, date_trunc('millisecond', timestamp) AS ts, status, amount,
             CAST(items AS BIGINT) AS item_count, CAST(NULL AS DOUBLE) AS tip
           FROM read_json('first.ndjson', format='newline_delimited', columns=$ocols)
           UNION ALL SELECT $norm FROM read_json('second.ndjson', format='newline_delimited', columns=$columns))"
same() {  # <what> <relation a> <relation b> <rows>
  local got
  got=$(duckdb "SELECT (SELECT count(*) FROM $2) AS n,
      (SELECT count(*) FROM (SELECT * FROM $2 EXCEPT ALL SELECT * FROM $3)) AS a,
      (SELECT count(*) FROM (SELECT * FROM $3 EXCEPT ALL SELECT * FROM $2)) AS b")
  expect_eq "$got" "{\"n\":\"$4\",\"a\":\"0\",\"b\":\"0\"}" "$1 ($4 rows)"
}
icebird "$table" > icebird.ndjson
"$MILLRACE" query -d data -f json "SELECT * FROM t" > millrace.ndjson
same "icebird reads the evolved table as millrace query does" "$(rel icebird.ndjson)" "$(rel millrace.ndjson)" 6000
same "and as DuckDB over the source data" "$(rel icebird.ndjson)" "$expected" 6000
expect_eq "$(duckdb "SELECT count(*) AS n FROM read_json('millrace.ndjson') WHERE tip IS NULL")" '{"n":"4000"}' \
  "the added column reads null in the older files"
# DuckDB reads the current snapshot's data files (the files icebird's manifest reading lists).
files=$(icebird "$table" --files | sed "s|.*|'&'|" | paste -sd, - | sed 's/^/[/; s/$/]/')
expect_eq "$(duckdb "SELECT count(*) AS n, sum(amount)::DECIMAL(18,2)::VARCHAR AS s FROM read_parquet($files, union_by_name=true)")" \
  "$(duckdb "SELECT count(*) AS n, sum(amount)::DECIMAL(18,2)::VARCHAR AS s FROM read_json('orders.ndjson')")" \
  "DuckDB over the current snapshot's data files: every row once"
# A filter on the renamed column skips by statistics keyed by id, and finds its rows.
pick=$(head -n 1 first.ndjson | /usr/bin/python3 -c "import json,sys; r=json.loads(sys.stdin.read()); print(r['order_id'], r['items'])")
expect_eq "$("$MILLRACE" query -d data -f json "SELECT item_count FROM t WHERE order_id = '${pick% *}' AND item_count = ${pick#* }")" \
  "{\"item_count\":${pick#* }}" "a predicate on a renamed and widened column finds the older row"

# An older snapshot: metadata v2 holds snapshot 2 (the whole first import, old schema).
icebird "$table" v2.metadata.json > icebird_old.ndjson
"$MILLRACE" query -d data -f json 'SELECT * FROM "t@2"' > millrace_old.ndjson
oldnorm="order_id, city, user_id, date_trunc('millisecond', timestamp) AS ts, status, amount"
same "icebird at v2.metadata.json reads what millrace query reads from \"t@2\"" \
  "(SELECT $oldnorm, items::BIGINT AS n FROM read_json('icebird_old.ndjson', format='newline_delimited', columns=$ocols))" \
  "(SELECT $oldnorm, item_count AS n FROM read_json('millrace_old.ndjson', format='newline_delimited', columns=$columns))" 4000

# Incremental: the rows appended after snapshot 2 are the second import's.
"$MILLRACE" query -d data -f json 'SELECT * FROM "t@2..3"' > appended.ndjson
same "\"t@2..3\" reads the rows appended after snapshot 2" "$(rel appended.ndjson)" \
  "(SELECT $norm FROM read_json('second.ndjson', format='newline_delimited', columns=$columns))" 2000
expect_eq "$("$MILLRACE" query -d data -f json 'SELECT count(*) AS n FROM "t@0.."')" '{"n":6000}' "\"t@0..\": every append"
expect_eq "$("$MILLRACE" query -d data -f json 'SELECT count(*) AS n FROM "t@3..3"')" '{"n":0}' "an empty range"
out=$("$MILLRACE" query -d data 'SELECT * FROM "t@3..1"' 2>&1) && rc=0 || rc=$?
expect_contains "$out" "is after its last" "a reversed range fails ($rc)"
out=$("$MILLRACE" query -d data 'SELECT * FROM "t@x..1"' 2>&1) && rc=0 || rc=$?
expect_contains "$out" "table@<from>..<to>" "a malformed range names the forms"

# A pipeline's lake sink with a column the table lacks: refused naming it, unless the sink says
# `schema_evolution: add_columns` (partitioned by id: a batch run overwrites only its partitions).
mkdir -p p/pipelines && cd p
printf 'name: p\ndata_dir: ./data\ninclude: [pipelines/*.yaml]\n' > millrace.yaml
printf '{"id":"a","v":1}\n' > one.ndjson
printf '{"id":"b","v":2,"note":"new"}\n' > two.ndjson
cat > pipelines/one.yaml <<'YAML'
name: one
sources:
  rows: { file: { path: one.ndjson, format: ndjson }, schema: { id: string not null, v: int64 } }
sinks:
  - { from: rows, lake: { table: s, partition_by: [id] } }
YAML
cat > pipelines/two.yaml <<'YAML'
name: two
sources:
  rows: { file: { path: two.ndjson, format: ndjson }, schema: { id: string not null, v: int64, note: string } }
sinks:
  - { from: rows, lake: { table: s, partition_by: [id] } }
YAML
"$MILLRACE" run . one >/dev/null 2>&1 || fail "pipeline one"
out=$("$MILLRACE" run . two 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "a sink with a new column is refused"
expect_contains "$out" "column \`note\` that lake table \`s\` does not have" "naming the column: $out"
sed -i "s/lake: { table: s,/lake: { table: s, schema_evolution: add_columns,/" pipelines/two.yaml
"$MILLRACE" run . two >/dev/null 2>&1 || fail "pipeline two with schema_evolution"
expect_eq "$("$MILLRACE" query -d data -f json 'SELECT id, v, note FROM s ORDER BY id' | paste -sd' ' -)" \
  '{"id":"a","v":1,"note":null} {"id":"b","v":2,"note":"new"}' "with add_columns the table evolves"
sed -i 's/schema_evolution: add_columns/schema_evolution: sometimes/' pipelines/two.yaml
out=$("$MILLRACE" run . two 2>&1) && rc=0 || rc=$?
expect_contains "$out" "two.yaml:" "a bad schema_evolution value is a config error with its place"
finish
