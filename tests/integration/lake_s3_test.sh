#!/usr/bin/env bash
# A lake in S3-compatible storage: a pipeline writes a partitioned lake table to s3rver (an S3
# server no one here wrote, npm) through `lake: { storage: s3://…, endpoint: … }`. s3rver is
# killed for a whole run (the run fails cleanly: the table stays at its previous snapshot, a
# re-run completes, orphan-file removal deletes what the failed run left) and killed and
# restarted in the middle of a run (the run retries through it, or fails cleanly and a re-run
# completes). icebird reads the table over s3rver's HTTP URLs, at the metadata version the REST
# catalog serves, and its rows equal `millrace query` and DuckDB over the source data.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/server.sh"
cd "$WORK"

S3RVER_PID=
start_s3rver() {
  node "$ROOT/node_modules/s3rver/bin/s3rver.js" -d "$WORK/s3" -a 127.0.0.1 -p "$s3port" \
    --configure-bucket lake --silent >>"$WORK/s3rver.log" 2>&1 &
  S3RVER_PID=$!
  for _ in $(seq 1 200); do
    if curl -s -o /dev/null "http://127.0.0.1:$s3port/lake"; then return 0; fi
    sleep 0.1
  done
  echo "s3rver did not come up"; cat "$WORK/s3rver.log"; return 1
}
kill9_s3rver() {
  if [ -n "$S3RVER_PID" ]; then kill -9 "$S3RVER_PID" 2>/dev/null || true; wait "$S3RVER_PID" 2>/dev/null || true; S3RVER_PID=; fi
}
trap 'kill9_s3rver; kill9_server; rm -rf "$WORK"' EXIT

mkdir -p s3
s3port=$(free_port)
start_s3rver
endpoint="http://127.0.0.1:$s3port"
# s3rver knows one account (S3RVER) and does not check V4 signatures; the unit tests check
# ours against AWS's published examples.
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
# Parts of 64 KiB, so that the data files go up as multipart uploads.
export MILLRACE_S3_PART_BYTES=65536

"$MILLRACE" generate orders --rows 20000 --seed 7 -o all.ndjson 2>/dev/null
head -n 12000 all.ndjson > run1.ndjson
cp all.ndjson run2.ndjson
mkdir -p project/pipelines
cat > project/millrace.yaml <<YAML
name: s3lake
data_dir: ./data
lake: { storage: "s3://lake/warehouse", endpoint: "$endpoint", region: us-east-1 }
include: [pipelines/*.yaml]
YAML
cat > project/pipelines/orders.yaml <<'YAML'
name: orders
vars: { input: ../run1.ndjson }
sources:
  orders:
    file: { path: "{{ input }}", format: ndjson }
    schema: { order_id: string not null, status: string, amount: double not null, city: string }
sinks:
  - { from: orders, lake: { table: orders, partition_by: [status] } }
YAML
project="$WORK/project"
table_dir="$project/data/lake/orders"
s3table="s3://lake/warehouse/orders"
current_metadata() { tail -n 1 "$table_dir/object-store.catalog" | cut -d' ' -f3; }
rows_of_query() { "$MILLRACE" query -d "$project/data" -f csv "SELECT count(*) AS n FROM orders" | tail -n 1; }
icebird_s3() { node "$ROOT/tests/integration/lib/icebird_s3_read.mjs" "$endpoint" "$s3table" "$@"; }

# 1. A first run writes the table into the bucket: metadata, manifests and data files are objects,
# nothing but the catalog entry and staging is local.
out=$("$MILLRACE" run "$project" orders 2>&1) || fail "run 1: $out"
expect_eq "$(rows_of_query)" "12000" "millrace query reads the table from S3"
expect_contains "$(current_metadata)" "$s3table/metadata/v1-" "the catalog entry points at a metadata object"
expect_eq "$(find "$table_dir" -name '*.parquet' | grep -vc /_staging/ || true)" "0" "no data file is local"
objects=$(curl -s "$endpoint/lake?list-type=2&prefix=warehouse/orders/")
expect_contains "$objects" "<Key>warehouse/orders/status=" "data files are objects in partition folders"
expect_contains "$objects" "-m0.avro</Key>" "manifests are objects"
expect_contains "$objects" ".metadata.json</Key>" "metadata files are objects"
expect_eq "$(curl -s "$endpoint/lake?uploads" | grep -c '<Upload>' || true)" "0" "no multipart upload is left open"
expect_eq "$(find "$WORK/s3" -name '*.parquet*' | head -1 | grep -c . || true)" "1" "s3rver holds the parquet objects on its disk"

# 2. s3rver down for a whole run: the run fails with a clear error and the table keeps its
# snapshot; after the restart, queries read snapshot 1 and a re-run commits.
kill9_s3rver
before=$(current_metadata)
out=$("$MILLRACE" run "$project" orders --var input=../run2.ndjson 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "a run with the store down fails"
expect_contains "$out" "127.0.0.1:$s3port" "naming the endpoint it could not reach"
expect_eq "$(current_metadata)" "$before" "the catalog still points at the previous metadata"
start_s3rver
expect_eq "$(rows_of_query)" "12000" "the table reads as before the failed run"
expect_eq "$("$MILLRACE" lake history orders -d "$project/data" | wc -l)" "2" "no snapshot was added"

# 3. Killed and restarted in the middle of a run: the run starts while s3rver is up, s3rver is
# killed once the writer has opened its staging (the table's metadata was read from S3) and
# comes back a second later; the run either retries through it or fails cleanly.
"$MILLRACE" run "$project" orders --var input=../run2.ndjson >run3.log 2>&1 &
run_pid=$!
for _ in $(seq 1 600); do
  if ls "$table_dir/_staging" 2>/dev/null | grep -q '^_tx-'; then break; fi
  if ! kill -0 "$run_pid" 2>/dev/null; then break; fi
  sleep 0.05
done
kill9_s3rver
sleep 1
start_s3rver
wait "$run_pid" && rc=0 || rc=$?
if [ "$rc" -eq 0 ]; then
  pass "the run retried through the restart"
else
  expect_eq "$(current_metadata)" "$before" "a failed run leaves the table at its previous snapshot"
  expect_eq "$(rows_of_query)" "12000" "and it reads as before"
  "$MILLRACE" run "$project" orders --var input=../run2.ndjson >/dev/null 2>&1 || fail "re-run after the restart"
fi
expect_eq "$(rows_of_query)" "20000" "after the restart the table holds the second run's rows"

# 4. icebird reads the table from S3 at the metadata version the REST catalog serves; its rows
# equal millrace query and DuckDB over the source data.
port=$(free_port)
start_server "$project" "$port" "$WORK/serve.log"
loaded=$(curl -s "http://127.0.0.1:$port/iceberg/v1/lake/namespaces/default/tables/orders")
stop_server
location=$(/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["metadata-location"])' <<<"$loaded")
expect_eq "$location" "$(current_metadata)" "the REST catalog serves the metadata object the catalog entry points at"
icebird_s3 "${location##*/}" > icebird.ndjson
"$MILLRACE" query -d "$project/data" -f json "SELECT * FROM orders" > millrace.ndjson
columns="{'order_id':'VARCHAR','status':'VARCHAR','amount':'DOUBLE','city':'VARCHAR'}"
rel() { echo "(SELECT order_id, status, amount, city FROM read_json('$1', format='newline_delimited', columns=$columns))"; }
differ() { echo "(SELECT count(*) FROM (SELECT * FROM $1 EXCEPT ALL SELECT * FROM $2))"; }
got=$(duckdb "SELECT (SELECT count(*) FROM $(rel icebird.ndjson)) AS n,
  $(differ "$(rel icebird.ndjson)" "$(rel millrace.ndjson)") + $(differ "$(rel millrace.ndjson)" "$(rel icebird.ndjson)") AS a,
  $(differ "$(rel icebird.ndjson)" "$(rel run2.ndjson)") + $(differ "$(rel run2.ndjson)" "$(rel icebird.ndjson)") AS b")
expect_eq "$got" '{"n":"20000","a":"0","b":"0"}' "icebird, millrace query and DuckDB over the source agree on 20000 rows"
expect_eq "$(icebird_s3 "${location##*/}" --files | grep -c '^s3://lake/warehouse/orders/status=')" \
  "$("$MILLRACE" lake files orders -d "$project/data" | wc -l)" "icebird lists the files millrace lists"

# 5. Orphan-file removal deletes the objects of the failed runs and of the replaced snapshot's
# files that expire-snapshots dropped, and nothing the current snapshot needs.
"$MILLRACE" lake expire-snapshots orders -d "$project/data" >/dev/null
# What a committer killed before its pointer moved leaves: objects no metadata version names.
curl -s -X PUT --data-binary 'orphan' "$endpoint/lake/warehouse/orders/status=paid/part-orphan-0.parquet" >/dev/null
curl -s -X PUT --data-binary '{}' "$endpoint/lake/warehouse/orders/metadata/v99-orphan.metadata.json" >/dev/null
out=$("$MILLRACE" lake remove-orphan-files orders -d "$project/data" --older-than-seconds 0)
expect_contains "$out" "removed 2 orphan files" "remove-orphan-files deletes the unreferenced objects"
expect_eq "$(rows_of_query)" "20000" "the table still reads whole"
left=$(curl -s "$endpoint/lake?list-type=2&prefix=warehouse/orders/" | grep -o '<Key>[^<]*\.parquet</Key>' | wc -l)
expect_eq "$left" "$("$MILLRACE" lake files orders -d "$project/data" | wc -l)" "only the current snapshot's data files are left"

# 6. Configuration errors point at the file, line and column.
sed -i 's|endpoint: "http://|endpoint: "https://|' project/millrace.yaml
out=$("$MILLRACE" validate "$project" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "an https endpoint is refused"
expect_contains "$out" "millrace.yaml:3:" "at its line: $out"
sed -i 's|endpoint: "https://|endpoint: "http://|' project/millrace.yaml
out=$(env -u AWS_SECRET_ACCESS_KEY "$MILLRACE" query -d "$project/data" "SELECT count(*) FROM orders" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "reading without credentials fails"
expect_contains "$out" "AWS_SECRET_ACCESS_KEY" "naming the missing variable"
out=$(AWS_ACCESS_KEY_ID=nobody "$MILLRACE" query -d "$project/data" "SELECT count(*) FROM orders" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "an unknown access key fails"
expect_contains "$out" "InvalidAccessKeyId" "with the store's XML error code"

finish
