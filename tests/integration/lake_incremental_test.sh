#!/usr/bin/env bash
# A lake table as a pipeline source (docs/lake.md, "A lake table as a pipeline source"): a
# pipeline upserts rounds of rows into a lake table; three readers follow it: `current` reads
# the current snapshot with deletes applied, `appends` reads only the rows appended since its
# last committed run (incremental) into a file and another lake table, `changes` reads the
# changelog (inserts and the rows deleted by upserts and `lake delete`, with `_change`). Each
# round's output is checked row for row; a run that fails (a referential rule, after reading)
# commits nothing and the next run reads the same rows; a compaction adds none. Then the tables
# are renamed through the Iceberg REST catalog (curl and iceberg-js) and the CLI; the renamed
# tables read in Millrace and in icebird (which follows the metadata's absolute paths).
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/server.sh"

project=$WORK/shop
data=$project/data
mkdir -p "$project/pipelines" "$project/in" "$project/out"
printf 'name: shop\ninclude: [pipelines/*.yaml]\n' > "$project/millrace.yaml"
cat > "$project/pipelines/load.yaml" <<'YAML'
name: load
sources:
  batch:
    file: { path: in/batch.csv, format: csv }
    schema: { id: int64 not null, name: string, amount: double }
sinks:
  - { from: batch, lake: { table: orders, mode: upsert, key: [id] } }
YAML
cat > "$project/pipelines/current.yaml" <<'YAML'
name: current
sources:
  orders: { lake: { table: orders } }
sinks:
  - { from: orders, file: { path: out/current.csv, format: csv } }
YAML
cat > "$project/pipelines/appends.yaml" <<'YAML'
name: appends
sources:
  orders: { lake: { table: orders, incremental: true } }
sinks:
  - { from: orders, file: { path: out/appends.csv, format: csv } }
  - { from: orders, lake: { table: orders_copy, mode: upsert, key: [id] } }
YAML
cat > "$project/pipelines/changes.yaml" <<'YAML'
name: changes
sources:
  orders: { lake: { table: orders, incremental: true, changelog: true } }
checks:
  orders:
    - referential: { column: id, table: known_ids }
sinks:
  - { from: orders, file: { path: out/changes.csv, format: csv } }
YAML
known_ids() {  # the ids the `changes` pipeline's referential rule accepts
  printf 'id\n' > "$WORK/known.csv"; for id in "$@"; do echo "$id" >> "$WORK/known.csv"; done
  "$MILLRACE" lake import known_ids -d "$data" -i "$WORK/known.csv" --schema "id: int64 not null" \
    --create --overwrite >/dev/null 2>&1
}
run() { "$MILLRACE" run "$project" "$1" >"$WORK/run-$1.log" 2>&1; }
rows() { tail -n +2 "$project/out/$1.csv" | sort | paste -sd' ' -; }  # data rows, sorted
progress() { head -1 "$data/pipelines/$1/lake-orders.snapshot" 2>/dev/null; }

# A source naming no table is an error at `table:` in the user's file.
cat > "$project/pipelines/broken.yaml" <<'YAML'
name: broken
sources:
  orders: { lake: { table: ordrs, incremental: true } }
sinks:
  - { from: orders, file: { path: out/broken.csv } }
YAML
out=$("$MILLRACE" validate "$project" 2>&1 || true)
expect_contains "$out" "pipelines/broken.yaml:3:28: error: source \`orders\`: unknown lake table \`ordrs\`" \
  "validate: an unknown table is an error at its file:line:column"
expect_contains "$out" "lake table \`orders\` of source \`orders\` does not exist yet (pipeline \`load\` writes it)" \
  "... a table the project writes is only noted before its first run"
expect_eq "$(grep -c 'error:' <<<"$out")" "1" "... and is no error"
rm "$project/pipelines/broken.yaml"
known_ids 1 2 3 4

# Round 1: three new rows.
printf 'id,name,amount\n1,a,10.5\n2,b,20.5\n3,c,30.5\n' > "$project/in/batch.csv"
run load || { fail "load failed"; cat "$WORK/run-load.log"; }
for p in current appends changes; do run "$p" || { fail "round 1: $p failed"; cat "$WORK/run-$p.log"; }; done
expect_eq "$(rows current)" "1,a,10.5 2,b,20.5 3,c,30.5" "round 1: the current snapshot"
expect_eq "$(rows appends)" "1,a,10.5 2,b,20.5 3,c,30.5" "round 1: incremental reads every row the first time"
expect_eq "$(rows changes)" "1,a,10.5,insert 2,b,20.5,insert 3,c,30.5,insert" "round 1: the changelog inserts them"
expect_eq "$(head -1 "$project/out/changes.csv")" "id,name,amount,_change" "the changelog has a _change column"
expect_eq "$(progress changes)" "snapshot 1" "the processed snapshot is kept with the pipeline's commit state"

# Round 2: two more rows. id 5 is not a known id: the `changes` run reads, fails its rule and
# commits nothing; its output and progress stay, and the next run reads the same rows.
printf 'id,name,amount\n4,d,40.5\n5,e,50.5\n' > "$project/in/batch.csv"
run load || { fail "load failed"; cat "$WORK/run-load.log"; }
run appends || fail "round 2: appends failed"
expect_eq "$(rows appends)" "4,d,40.5 5,e,50.5" "round 2: incremental reads only the new rows"
if run changes; then fail "round 2: the changes run should fail its referential rule"; else pass "round 2: the changes run fails"; fi
expect_contains "$(cat "$WORK/run-changes.log")" "no sink was committed" "... before any sink committed"
expect_eq "$(progress changes)" "snapshot 1" "a failed run does not move the processed snapshot"
expect_eq "$(rows changes)" "1,a,10.5,insert 2,b,20.5,insert 3,c,30.5,insert" "... nor its output"
known_ids 1 2 3 4 5 6
run changes || { fail "round 2: changes re-run failed"; cat "$WORK/run-changes.log"; }
expect_eq "$(rows changes)" "4,d,40.5,insert 5,e,50.5,insert" "round 2: the re-run reads the same rows"
expect_eq "$(progress changes)" "snapshot 2" "... and then moves on"
run changes || fail "changes with nothing new failed"
expect_eq "$(rows changes)" "" "a run with no new snapshot reads nothing"

# Round 3: an upsert of id 2 and a new id 6, then a row-level delete of id 3.
printf 'id,name,amount\n2,B,21.5\n6,f,60.5\n' > "$project/in/batch.csv"
run load || { fail "load failed"; cat "$WORK/run-load.log"; }
"$MILLRACE" lake delete orders -d "$data" --where "id = 3" >/dev/null
for p in current appends changes; do run "$p" || { fail "round 3: $p failed"; cat "$WORK/run-$p.log"; }; done
expect_eq "$(rows current)" "1,a,10.5 2,B,21.5 4,d,40.5 5,e,50.5 6,f,60.5" \
  "round 3: the current snapshot has the upsert and the delete applied"
expect_eq "$(rows appends)" "2,B,21.5 6,f,60.5" "round 3: incremental reads the rows the upsert appended"
expect_eq "$(rows changes)" "2,B,21.5,insert 2,b,20.5,delete 3,c,30.5,delete 6,f,60.5,insert" \
  "round 3: the changelog has the upsert's old row and the deleted row as deletes"
expect_eq "$("$MILLRACE" query -d "$data" -f csv 'SELECT id, name FROM orders_copy ORDER BY id' | paste -sd' ' -)" \
  "id,name 1,a 2,B 3,c 4,d 5,e 6,f" "the appended rows were upserted into another table"

# A compaction rewrites files but adds no rows.
"$MILLRACE" lake compact orders -d "$data" >/dev/null
run appends || fail "appends after the compaction failed"
run changes || fail "changes after the compaction failed"
expect_eq "$(rows appends)" "" "a compaction adds no rows to an incremental read"
expect_eq "$(rows changes)" "" "... nor to a changelog"
expect_eq "$(progress changes)" "snapshot 5" "the compaction's snapshot is processed"

# Renames through the Iceberg REST catalog (curl, then iceberg-js) and the CLI.
port=$(free_port)
base=http://127.0.0.1:$port/iceberg/v1
start_server "$project" "$port" "$WORK/serve.log"
status() { curl -s -o "$WORK/body" -w '%{http_code}' "$@"; }
body() { printf '{"source":{"namespace":["default"],"name":"%s"},"destination":{"namespace":["default"],"name":"%s"}}' "$1" "$2"; }
expect_eq "$(status -X POST -d "$(body orders_copy mirror)" "$base/lake/tables/rename")" "204" "REST rename: 204"
expect_eq "$(status "$base/lake/namespaces/default/tables/orders_copy")" "404" "the old name is gone"
expect_eq "$(status "$base/lake/namespaces/default/tables/mirror")" "200" "the new name loads"
expect_contains "$(cat "$WORK/body")" "\"metadata-location\": \"$data/lake/mirror/metadata/" "... with metadata in its new folder"
expect_eq "$(status -X POST -d "$(body mirror orders)" "$base/lake/tables/rename")" "409" "rename onto an existing table: 409"
expect_contains "$(cat "$WORK/body")" '"type": "AlreadyExistsException"' "... AlreadyExistsException"
expect_eq "$(status -X POST -d "$(body nope other)" "$base/tables/rename")" "404" "rename of a missing table (unprefixed path): 404"
expect_contains "$(cat "$WORK/body")" '"type": "NoSuchTableException"' "... NoSuchTableException"
expect_eq "$(status -X POST -d '{"source":{"name":"mirror"}}' "$base/lake/tables/rename")" "400" "a malformed request: 400"
out=$(cd "$ROOT" && node --input-type=module -e "
import { IcebergRestCatalog } from 'iceberg-js';
const catalog = new IcebergRestCatalog({ baseUrl: 'http://127.0.0.1:$port/iceberg', auth: { type: 'none' } });
await catalog.renameTable({ source: { namespace: ['default'], name: 'mirror' },
                            destination: { namespace: ['default'], name: 'mirror_js' } });
const { identifiers } = await catalog.listTables({ namespace: ['default'] });
console.log(identifiers.map((t) => t.name).sort().join(','));
try {
  await catalog.renameTable({ source: { namespace: ['default'], name: 'mirror_js' },
                              destination: { namespace: ['default'], name: 'orders' } });
  console.log('renamed onto orders');
} catch (e) { console.log('refused ' + e.status); }" 2>&1)
expect_contains "$out" "known_ids,mirror_js,orders" "iceberg-js renames a table"
expect_contains "$out" "refused 409" "iceberg-js: a taken name is refused"
stop_server

expect_eq "$("$MILLRACE" lake rename mirror_js mirror_cli -d "$data" >/dev/null 2>&1; echo $?)" "0" "CLI rename"
expect_eq "$("$MILLRACE" query -d "$data" -f csv 'SELECT count(*) AS n FROM mirror_cli')" "$(printf 'n\n6')" \
  "the renamed table reads in Millrace"
expect_eq "$(node "$ROOT/tests/integration/lib/icebird_read.mjs" "$data/lake/mirror_cli" | wc -l)" "6" \
  "... and in icebird, through the relocated metadata"
code=0; out=$("$MILLRACE" lake rename mirror_cli orders -d "$data" 2>&1) || code=$?
expect_eq "$code" "1" "CLI rename onto an existing table fails"
expect_contains "$out" "lake table \`orders\` already exists" "... saying so"
code=0; out=$("$MILLRACE" lake rename nope other -d "$data" 2>&1) || code=$?
expect_eq "$code" "1" "CLI rename of a missing table fails"
expect_contains "$out" "no lake table \`nope\`" "... saying so"

# A renamed source table: the incremental pipeline now names a missing table, at its place.
"$MILLRACE" lake rename orders orders_v2 -d "$data" >/dev/null
out=$("$MILLRACE" run "$project" changes 2>&1 || true)
expect_contains "$out" "pipelines/changes.yaml:3:28" "a pipeline reading a renamed-away table fails at \`table:\`"
sed -i 's/table: orders,/table: orders_v2,/' "$project/pipelines/changes.yaml"
run changes || { fail "changes on orders_v2 failed"; cat "$WORK/run-changes.log"; }
expect_eq "$(rows changes)" "" "the renamed table keeps its snapshots: nothing new to read"

finish
