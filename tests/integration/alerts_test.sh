#!/usr/bin/env bash
# Alerts: `millrace serve` evaluates the project's rules (a quality check failing, a job run
# failing, a metric above a threshold) and POSTs firing and resolved notifications to a webhook,
# once per change of state, through a durable outbox: a receiver that is down at first gets them
# later.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/server.sh"
PY=/usr/bin/python3

hook_port=$(free_port)
p=$WORK/shop
mkdir -p "$p/pipelines" "$p/jobs" "$p/in"
cat >"$p/millrace.yaml" <<YAML
name: shop
data_dir: ./data
topics:
  orders: { schema: "id: int64 not null", on_error: dead_letter }
alerts:
  webhook: http://127.0.0.1:$hook_port/hooks/alerts
  evaluation_interval: 200ms
  rules:
    - name: orders_quality
      check_failed: { pipeline: orders }
      severity: critical
      description: A quality rule of the orders pipeline fails
    - name: nightly_failed
      job_failed: { job: nightly }
    - name: dead_letters
      metric: { name: millrace_ingest_records_total, labels: { outcome: dead_letter }, above: 1 }
    - name: never
      metric: { name: millrace_ingest_records_total, labels: { outcome: accepted }, above: 1000 }
      for: 1h
include: [pipelines/*.yaml, jobs/*.yaml]
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
    - range: { column: amount, min: 0 }
      mostly: 1
      severity: warn
sinks:
  - { from: orders, file: { path: out/orders.csv, format: csv } }
YAML
cat >"$p/jobs/nightly.yaml" <<YAML
name: nightly
tasks:
  work: { kind: shell, command: "test -f $WORK/ok" }
YAML
out=$("$MILLRACE" validate "$p" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "validate accepts the alerts block: $out"
bad=$WORK/bad
mkdir -p "$bad"
printf 'name: bad\nalerts:\n  webhook: http://127.0.0.1:1/x\n  rules:\n    - name: x\n      metric: { name: m }\n' >"$bad/millrace.yaml"
out=$("$MILLRACE" validate "$bad" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "a metric rule without a threshold is refused"
expect_contains "$out" "millrace.yaml:6:15: error:" "with file:line:column"

# The same rules for Prometheus and Alertmanager.
"$MILLRACE" alert-rules "$p" >"$WORK/rules.yml"
out=$(promtool check rules "$WORK/rules.yml" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "promtool accepts the generated alerting rules: $out"
expect_contains "$out" "SUCCESS: 4 rules found" "one Prometheus rule per alert rule"
expect_contains "$(cat "$WORK/rules.yml")" 'expr: "sum(millrace_ingest_records_total{outcome=\"dead_letter\"}) > 1"' "a metric rule's expression"
expect_contains "$(cat "$WORK/rules.yml")" 'expr: "count(millrace_check_passing{pipeline=\"orders\"} == 0) > 0"' "a check rule's expression"
expect_contains "$(cat "$WORK/rules.yml")" 'for: 3600s' "for carries over"

port=$(free_port)
start_server "$p" "$port" "$WORK/serve.log"
base=http://127.0.0.1:$port
# The receiver is down: the quality rule fails and the job fails; notifications wait.
"$MILLRACE" run "$p" orders >/dev/null
curl -sf -XPOST "$base/v1/jobs/nightly/trigger" >/dev/null
curl -s -XPOST -H 'Content-Type: application/x-ndjson' --data-binary $'{"id":"x"}\n{"id":"y"}\n{"id":3}\n' "$base/v1/ingest/orders" >/dev/null
outbox=$p/data/alerts/outbox
for _ in $(seq 300); do [ "$(ls "$outbox" 2>/dev/null | wc -l)" -ge 3 ] && break; sleep 0.1; done
expect_eq "$(ls "$outbox" | wc -l)" "3" "three firing notifications wait in the outbox"

hooks=$WORK/hooks.ndjson
: >"$hooks"
$PY "$ROOT/tests/integration/lib/lineage_receiver.py" "$hook_port" "$hooks" &
receiver=$!
trap 'kill $receiver 2>/dev/null || true; kill9_server; rm -rf "$WORK"' EXIT
for _ in $(seq 600); do [ "$(wc -l <"$hooks")" -ge 3 ] && break; sleep 0.1; done
expect_eq "$(wc -l <"$hooks")" "3" "the receiver, once up, gets every waiting notification"
summary() {
  $PY -c 'import json,sys
for l in open(sys.argv[1]):
    if l.strip():
        e = json.loads(l)
        print(e["alert"], e["status"], e["severity"], e["value"], e["labels"].get("pipeline", e["labels"].get("job", e["labels"].get("outcome", ""))))' "$1"
}
s=$(summary "$hooks")
expect_contains "$s" "orders_quality firing critical 1 orders" "a failing quality rule fires"
expect_contains "$s" "nightly_failed firing warning 1 nightly" "a failed job run fires"
expect_contains "$s" "dead_letters firing warning 2 dead_letter" "a metric above its threshold fires"
expect_contains "$(curl -s "$base/metrics")" 'millrace_alerts_firing{alert="orders_quality",severity="critical"} 1' "firing alerts are a metric"

# Fixes resolve them, once each; a rule firing stays quiet while it keeps firing.
printf 'id,amount\n1,10\n2,5\n' >"$p/in/orders.csv"
"$MILLRACE" run "$p" orders >/dev/null
touch "$WORK/ok"
curl -sf -XPOST "$base/v1/jobs/nightly/trigger" >/dev/null
for _ in $(seq 600); do [ "$(wc -l <"$hooks")" -ge 5 ] && break; sleep 0.1; done
sleep 1  # a few more evaluations: nothing new may be sent
s=$(summary "$hooks")
expect_contains "$s" "orders_quality resolved" "the quality rule resolves"
expect_contains "$s" "nightly_failed resolved" "the job alert resolves on the next success"
expect_eq "$(wc -l <"$hooks")" "5" "one notification per change of state (dead_letters keeps firing quietly)"
expect_eq "$(grep -c '"alert": *"never"' "$hooks")" "0" "a rule whose condition never held sends nothing"
stop_server
finish
