#!/usr/bin/env bash
# /metrics of a running `millrace serve`: valid for `promtool check metrics`, every family listed
# in docs/metrics.md (and every name listed there exported by the source), the scheduler, ingest,
# quality-check and lineage families present with the right values; then a real Prometheus
# (Debian `prometheus`) scrapes it every second and its HTTP query API answers `up` = 1 and the
# millrace values.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/server.sh"

p=$WORK/metrics
mkdir -p "$p/jobs" "$p/pipelines" "$p/in"
cat >"$p/millrace.yaml" <<'YAML'
name: metrics_demo
data_dir: ./data
topics:
  events: { partitions: 2 }
include: [jobs/*.yaml, pipelines/*.yaml]
YAML
cat >"$p/jobs/hello.yaml" <<'YAML'
name: hello
tasks:
  say: { kind: shell, command: "echo hi" }
  after: { kind: shell, command: "true", depends_on: [say] }
YAML
printf 'id,amount\n1,10\n2,-5\n' >"$p/in/orders.csv"
cat >"$p/pipelines/orders.yaml" <<'YAML'
name: orders
sources:
  orders:
    file: { path: in/orders.csv, format: csv }
    schema: { id: int64 not null, amount: double }
checks:
  orders:
    - row_count: { min: 1 }
    - range: { column: amount, min: 0 }
      mostly: 0.9
      severity: warn
sinks:
  - { from: orders, file: { path: out/orders.csv, format: csv } }
YAML
"$MILLRACE" run "$p" orders >/dev/null

port=$(free_port)
start_server "$p" "$port" "$WORK/serve.log"
base=http://127.0.0.1:$port
curl -sf -XPOST -H 'Content-Type: application/x-ndjson' --data-binary $'{"a":1}\n{"a":2}\n{"a":3}\n' "$base/v1/ingest/events" >/dev/null
curl -sf -XPOST "$base/v1/jobs/hello/trigger" >/dev/null
state=
for _ in $(seq 300); do
  state=$(curl -sf "$base/v1/runs?job=hello&limit=1" |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["runs"][0]["state"])' 2>/dev/null || true)
  [ "$state" = "success" ] && break
  sleep 0.1
done
expect_eq "$state" "success" "the triggered job run succeeded"
scrape() { curl -sf "$base/metrics"; }
for _ in $(seq 100); do scrape | grep -q '^millrace_check_passing' && break; sleep 0.1; done
metrics=$(scrape)

out=$(promtool check metrics <<<"$metrics" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "promtool check metrics accepts /metrics: $out"
undocumented=
for family in $(grep '^# TYPE ' <<<"$metrics" | cut -d' ' -f3); do
  grep -qF "\`$family\`" "$ROOT/docs/metrics.md" || undocumented="$undocumented $family"
done
expect_eq "$undocumented" "" "every exported family is in docs/metrics.md"
stale=
for name in $(grep -oE '^\| `millrace_[a-z_]+`' "$ROOT/docs/metrics.md" | tr -d '|` '); do
  grep -rqF "\"$name\"" "$ROOT/src" || stale="$stale $name"
done
expect_eq "$stale" "" "every family docs/metrics.md lists is exported by the source"
expect_contains "$metrics" 'millrace_ingest_records_total{outcome="accepted"} 3' "ingest counts the records"
expect_contains "$metrics" 'millrace_job_runs_total{job_name="hello",state="success"} 1' "job runs by final state"
expect_contains "$metrics" 'millrace_job_tasks_total{job_name="hello",state="success"} 2' "tasks by final state"
expect_contains "$metrics" 'millrace_job_run_seconds_count{job_name="hello"} 1' "job run durations"
expect_contains "$metrics" 'millrace_check_results_total{pipeline="orders",dataset="orders",result="passed"} 1' "passed check results"
expect_contains "$metrics" 'millrace_check_results_total{pipeline="orders",dataset="orders",result="warning"} 1' "failed warn-level rules"
expect_contains "$metrics" 'millrace_check_passing{pipeline="orders",dataset="orders",rule="range(amount)"} 0' "the latest result of each rule"
expect_contains "$metrics" 'millrace_lineage_outbox_events ' "the lineage outbox depth"

# --- a real Prometheus scrapes it ------------------------------------------------------------
if command -v prometheus >/dev/null; then
  prom_port=$(free_port)
  cat >"$WORK/prometheus.yml" <<YAML
global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: millrace
    static_configs: [{ targets: ['127.0.0.1:$port'] }]
YAML
  prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prom" \
    --web.listen-address="127.0.0.1:$prom_port" >"$WORK/prometheus.log" 2>&1 &
  prom=$!
  trap 'kill $prom 2>/dev/null || true; kill9_server; rm -rf "$WORK"' EXIT
  query() {  # <promql>: the first result's value, or empty
    curl -sf --get --data-urlencode "query=$1" "http://127.0.0.1:$prom_port/api/v1/query" |
      /usr/bin/python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")' 2>/dev/null || true
  }
  up=
  for _ in $(seq 600); do
    up=$(query 'up{job="millrace"}')
    [ "$up" = "1" ] && break
    sleep 0.1
  done
  expect_eq "$up" "1" "Prometheus scrapes millrace: up = 1"
  expect_eq "$(query 'millrace_ingest_records_total{outcome="accepted"}')" "3" "Prometheus answers the ingest count"
  expect_eq "$(query 'sum(millrace_job_runs_total{job_name="hello"})')" "1" "Prometheus answers the job runs"
  expect_eq "$(query 'min(millrace_check_passing{pipeline="orders"})')" "0" "Prometheus answers the check results"
  kill "$prom" 2>/dev/null || true
  wait "$prom" 2>/dev/null || true
else
  echo "# skipped: prometheus is not installed (scripts/install-deps.sh installs it)"
fi
stop_server
finish
