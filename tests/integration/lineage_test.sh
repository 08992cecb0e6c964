#!/usr/bin/env bash
# OpenLineage: pipeline runs (batch, failed), a materialization and a scheduled job's run emit
# run events into the durable outbox while the collector is down; the runs still succeed. Once
# the collector (a python http.server) is up, `millrace serve` delivers every event from the
# outbox; each is validated against the OpenLineage essentials schema and the START/COMPLETE
# pairs, facets and parent links are checked. `millrace lineage` prints the graph.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/server.sh"
PY=/usr/bin/python3

collector_port=$(free_port)
p=$WORK/shop
mkdir -p "$p/pipelines" "$p/features" "$p/jobs" "$p/in"
cat >"$p/millrace.yaml" <<YAML
name: shop
data_dir: ./data
lineage: { url: "http://127.0.0.1:$collector_port/api/v1/lineage", namespace: shop-prod }
include: [pipelines/*.yaml, features/*.yaml, jobs/*.yaml]
YAML
printf 'id,amount,ts\n1,10,2026-11-20T09:00:00Z\n2,x,2026-11-20T09:30:00Z\n3,20,2026-11-20T10:00:00Z\n' >"$p/in/orders.csv"
cat >"$p/pipelines/orders.yaml" <<'YAML'
name: orders
description: Orders with their doubled amount
sources:
  orders:
    file: { path: in/orders.csv, format: csv }
    schema: { id: int64 not null, amount: double, ts: timestamp }
views:
  valued: SELECT id, amount * 2 AS doubled, ts FROM orders
sinks:
  - { from: valued, lake: { table: valued } }
  - { from: valued, file: { path: out/valued.csv, format: csv } }
  - { from: dead_letter, file: { path: out/rejected.ndjson } }
YAML
cat >"$p/pipelines/strict.yaml" <<'YAML'
name: strict
sources:
  orders:
    file: { path: in/orders.csv, format: csv }
    schema: { id: int64 not null, amount: double, ts: timestamp }
checks:
  orders:
    - row_count: { min: 100 }
sinks:
  - { from: orders, file: { path: out/strict.csv, format: csv } }
YAML
cat >"$p/features/valued.yaml" <<'YAML'
name: valued_features
entities: { id: int64 }
features:
  doubled: double
source:
  lake: { table: valued, event_time: ts }
YAML
cat >"$p/jobs/nightly.yaml" <<'YAML'
name: nightly
tasks:
  load: { kind: pipeline, pipeline: orders }
  serve_features: { kind: materialize, feature_view: valued_features, depends_on: [load] }
YAML

# --- the collector is down: runs succeed, events wait in the outbox ---------------------------
out=$("$MILLRACE" run "$p" orders 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "a run succeeds while the lineage collector is down"
expect_contains "$out" "lineage delivery" "the run says the events wait"
outbox=$p/data/lineage/outbox
expect_eq "$(ls "$outbox" | wc -l)" "2" "START and COMPLETE of the run are in the outbox"
"$MILLRACE" run "$p" strict >/dev/null 2>&1 && rc=0 || rc=$?
expect_eq "$rc" "1" "a failing pipeline still fails"
"$MILLRACE" materialize "$p" valued_features >/dev/null 2>&1 && rc=0 || rc=$?
expect_eq "$rc" "0" "a materialization succeeds while the collector is down"
"$MILLRACE" jobs run "$p" nightly >/dev/null 2>&1 && rc=0 || rc=$?
expect_eq "$rc" "0" "a job run succeeds while the collector is down"
# orders 2 + strict 2 + materialize 2 + job 2 + its pipeline 2 + its materialize 2
expect_eq "$(ls "$outbox" | wc -l)" "12" "every event waits in the outbox"
expect_eq "$(ls "$outbox" | grep -c '\.tmp')" "0" "no half-written event files"

graph=$("$MILLRACE" lineage "$p")
expect_contains "$graph" "file $p/in/orders.csv -> pipeline.orders" "graph: source file -> pipeline"
expect_contains "$graph" "pipeline.orders -> lake valued" "graph: pipeline -> lake table"
expect_contains "$graph" "lake valued -> materialize.valued_features" "graph: lake table -> materialization"
expect_contains "$graph" "materialize.valued_features -> feature_view valued_features" "graph: materialization -> feature view"
expect_contains "$graph" "job.nightly -> pipeline.orders" "graph: job -> the pipeline its task runs"
expect_contains "$graph" "view   valued               <- orders" "graph: view and what it reads"
expect_contains "$graph" "12 waiting" "graph: the outbox depth"
expect_contains "$graph" "pipeline.strict" "graph: the failed run is recorded"
expect_contains "$(grep 'pipeline.strict ' <<<"$graph" | tail -1)" "FAIL" "graph: its last event is FAIL"

# --- the collector comes up: serve delivers every waiting event -------------------------------
events=$WORK/events.ndjson
: >"$events"
$PY "$ROOT/tests/integration/lib/lineage_receiver.py" "$collector_port" "$events" &
collector=$!
trap 'kill9_server; kill $collector 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$collector_port/" && break; sleep 0.1; done
port=$(free_port)
start_server "$p" "$port" "$WORK/serve.log"
for _ in $(seq 300); do [ "$(wc -l <"$events")" -ge 12 ] && break; sleep 0.1; done
expect_eq "$(wc -l <"$events")" "12" "serve delivered every event recorded while the collector was down"
expect_eq "$(ls "$outbox" | wc -l)" "0" "the outbox is empty"
expect_contains "$(curl -s "http://127.0.0.1:$port/metrics")" "millrace_lineage_outbox_events 0" "outbox depth metric"
stop_server

summary=$($PY "$ROOT/tests/integration/lib/check_openlineage.py" "$events" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "every event is a valid OpenLineage RunEvent, each run START then one end: $summary"
expect_contains "$summary" "pipeline.orders START COMPLETE START COMPLETE" "pipeline runs: START, COMPLETE"
expect_contains "$summary" "pipeline.strict START FAIL" "a failed run ends with FAIL"
expect_contains "$summary" "job.nightly START COMPLETE" "the job run has its events"
expect_contains "$summary" "materialize.valued_features START COMPLETE START COMPLETE" "materializations have events"

# Facets: the SQL, schemas and row counts on the first COMPLETE of orders, the error on FAIL,
# the job run as the parent of the run its task started.
facts=$($PY - "$events" <<'PY'
import json, sys
events = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
complete = [e for e in events if e["job"]["name"] == "pipeline.orders" and e["eventType"] == "COMPLETE"][0]
print("namespace", complete["job"]["namespace"])
print("sql", complete["job"]["facets"]["sql"]["query"])
inp = complete["inputs"][0]
print("input", inp["namespace"], inp["name"].rsplit("/", 2)[-2:], [f["name"] + ":" + f["type"] for f in inp["facets"]["schema"]["fields"]])
for o in complete["outputs"]:
    fields = [f["name"] for f in o.get("facets", {}).get("schema", {}).get("fields", [])]
    print("output", o["name"].rsplit("/", 1)[-1], fields, o.get("outputFacets", {}).get("outputStatistics", {}).get("rowCount"))
lineage = complete["outputs"][0]["facets"]["columnLineage"]["fields"]
for column in ("id", "doubled", "ts"):
    print("column", column, [(f["name"].rsplit("/", 1)[-1], f["field"], f["transformations"][0]["type"], f["transformations"][0]["subtype"]) for f in lineage[column]["inputFields"]])
fail = [e for e in events if e["eventType"] == "FAIL"][0]
print("error", fail["run"]["facets"]["errorMessage"]["message"])
job = [e for e in events if e["job"]["name"] == "job.nightly"][0]
children = [e for e in events if e["run"].get("facets", {}).get("parent")]
print("children", sorted({e["job"]["name"] for e in children}))
print("parent_ok", all(e["run"]["facets"]["parent"]["run"]["runId"] == job["run"]["runId"] and e["run"]["facets"]["parent"]["job"]["name"] == "job.nightly" for e in children))
PY
)
expect_contains "$facts" "namespace shop-prod" "the job namespace from lineage.namespace"
expect_contains "$facts" "sql CREATE VIEW valued AS SELECT id, amount * 2 AS doubled, ts FROM orders;" "the SQL facet"
expect_contains "$facts" "input file ['in', 'orders.csv'] ['id:int64', 'amount:double', 'ts:timestamp']" "input dataset with its schema facet"
expect_contains "$facts" "output valued ['id', 'doubled', 'ts'] 2" "lake output with schema and row count"
expect_contains "$facts" "column id [('orders.csv', 'id', 'DIRECT', 'IDENTITY')]" "column lineage: a column passed through"
expect_contains "$facts" "column doubled [('orders.csv', 'amount', 'DIRECT', 'TRANSFORMATION')]" "column lineage: a computed column"
expect_contains "$facts" "column ts [('orders.csv', 'ts', 'DIRECT', 'IDENTITY')]" "column lineage: the event time"
expect_contains "$facts" "output rejected.ndjson [] 1" "dead letters as an output with their count"
expect_contains "$facts" "rule row_count on \`orders\` failed" "the FAIL event carries the error"
expect_contains "$facts" "children ['materialize.valued_features', 'pipeline.orders']" "the job's task runs name a parent"
expect_contains "$facts" "parent_ok True" "the parent is the job run's UUID"
finish
