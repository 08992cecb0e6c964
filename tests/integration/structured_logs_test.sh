#!/usr/bin/env bash
# --log-format: `millrace run --log-format json` prints its report as JSON log lines carrying the
# pipeline, the run id its lineage events use and the job run that started it; a failed run is
# an error line. `millrace serve --log-format text` writes lines for people instead of JSON.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/server.sh"
PY=/usr/bin/python3

p=$WORK/shop
mkdir -p "$p/pipelines" "$p/in"
printf 'name: shop\ndata_dir: ./data\ninclude: [pipelines/*.yaml]\n' >"$p/millrace.yaml"
printf 'id,amount\n1,10\n2,x\n' >"$p/in/orders.csv"
cat >"$p/pipelines/orders.yaml" <<'YAML'
name: orders
sources:
  orders:
    file: { path: in/orders.csv, format: csv }
    schema: { id: int64 not null, amount: double }
checks:
  orders:
    - row_count: { min: 1 }
sinks:
  - { from: orders, file: { path: out/orders.csv, format: csv } }
YAML

out=$(MILLRACE_RUN_ID='nightly@2026-11-20T00:00:00Z' "$MILLRACE" run "$p" orders --log-format json) && rc=0 || rc=$?
expect_eq "$rc" "0" "the run succeeds"
printf '%s\n' "$out" >"$WORK/run.ndjson"
facts=$($PY - "$p/data/lineage/outbox" "$WORK/run.ndjson" <<'PY'
import json, os, sys
lines = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
print("messages", " | ".join(l["msg"] for l in lines))
print("fields", all(l["pipeline"] == "orders" and l["job_run"] == "nightly@2026-11-20T00:00:00Z" and l["ts"] and l["level"] for l in lines))
run_ids = {l["run_id"] for l in lines}
events = [json.load(open(os.path.join(sys.argv[1], f))) for f in os.listdir(sys.argv[1])]
print("same_run", run_ids == {e["run"]["runId"] for e in events})
source = [l for l in lines if l["msg"] == "source"][0]
print("source", source["rows_read"], source["rows_rejected"])
PY
)
expect_contains "$facts" "messages run started | source | rule | sink | dead letters | dead letter reason | run finished" "one JSON line per part of the report"
expect_contains "$facts" "fields True" "every line has ts, level, pipeline and job_run"
expect_contains "$facts" "same_run True" "run_id is the run's OpenLineage runId"
expect_contains "$facts" "source 1 1" "with the counts"

sed -i 's/min: 1 }/min: 5 }/' "$p/pipelines/orders.yaml"
out=$("$MILLRACE" run "$p" orders --log-format json 2>/dev/null) && rc=0 || rc=$?
expect_eq "$rc" "1" "a failed run exits 1"
expect_contains "$(tail -n 1 <<<"$out")" '"level":"error","component":"run","msg":"run failed","pipeline":"orders"' "and its last line is the error"
out=$("$MILLRACE" run "$p" orders --log-format xml 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "an unknown format is refused"

port=$(free_port)
"$MILLRACE" serve "$p" --listen "127.0.0.1:$port" --log-format text >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
stop_server
expect_contains "$(cat "$WORK/serve.log")" " info  serve: ready project=shop" "serve --log-format text writes text lines"
expect_eq "$(grep -c '^{' "$WORK/serve.log")" "0" "and no JSON"
start_server "$p" "$port" "$WORK/serve.json"
stop_server
expect_contains "$(head -n 1 "$WORK/serve.json")" '{"ts":' "JSON is the default"
finish
