#!/usr/bin/env bash
# Operating the streaming pipelines `millrace serve` runs: `millrace pipeline list|status|stop|
# start` over /v1/pipelines (bearer auth honoured), a pipeline whose runs keep failing is
# restarted by its `restart:` policy and then marked failed with the reason, and a bad policy is
# a validate error with file:line:column.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/server.sh"

project=$WORK/ops
mkdir -p "$project/pipelines"
cat >"$project/millrace.yaml" <<'YAML'
name: ops
data_dir: ./data
include: [pipelines/*.yaml]
topics:
  events: { partitions: 1 }
  payments: { partitions: 1 }
serving:
  auth:
    tokens:
      - { token: admin-token, scopes: [ingest, admin] }
      - { token: reader-token, scopes: [features] }
YAML
cat >"$project/pipelines/counts.yaml" <<'YAML'
name: counts
mode: streaming
checkpoint_interval: 200ms
sources:
  events: { topic: events, schema: { id: int64 not null, n: int64 } }
sinks:
  - { from: events, file: { path: out/events.ndjson } }
YAML
cat >"$project/pipelines/strict.yaml" <<'YAML'
name: strict
mode: streaming
restart: { attempts: 2, initial: 50ms, max: 100ms }
sources:
  payments: { topic: payments, schema: { id: int64 not null, amount: double not null } }
checks:
  payments:
    - expect: "amount >= 0"
      on_fail: fail
sinks:
  - { from: payments, file: { path: out/payments.ndjson } }
YAML
port=$(free_port)
start_server "$project" "$port" "$WORK/serve.log"
url=http://127.0.0.1:$port
export MILLRACE_TOKEN=admin-token

expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$url/v1/pipelines")" "401" "/v1/pipelines needs a token"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer reader-token' "$url/v1/pipelines")" "403" "a token without the admin scope is refused"
expect_eq "$(MILLRACE_TOKEN= "$MILLRACE" pipeline list "$project" >/dev/null 2>&1; echo $?)" "1" "the CLI without a token fails"

list=$("$MILLRACE" pipeline list "$project")
expect_contains "$list" "PIPELINE" "pipeline list prints a table"
expect_contains "$(grep '^counts ' <<<"$list")" "running" "counts is running"
expect_contains "$(grep '^strict ' <<<"$list")" "running" "strict is running"

curl -sf -H "Authorization: Bearer admin-token" -H 'Content-Type: application/x-ndjson' \
  --data-binary $'{"id":1,"n":5}\n{"id":2,"n":6}' "$url/v1/ingest/events" >/dev/null
for _ in $(seq 1 200); do
  [ "$("$MILLRACE" pipeline status "$project" counts --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).records.in))')" == "2" ] && break
  sleep 0.1
done
status=$("$MILLRACE" pipeline status "$project" counts)
expect_contains "$status" "records:        in 2, out 2" "status counts the records in and out"

# A payment that breaks an on_fail: fail check: every run fails on it, two restarts, then failed.
curl -sf -H "Authorization: Bearer admin-token" -H 'Content-Type: application/x-ndjson' \
  --data-binary '{"id":1,"amount":-5}' "$url/v1/ingest/payments" >/dev/null
for _ in $(seq 1 300); do
  grep -q '"state":"failed"' <<<"$(curl -s -H 'Authorization: Bearer admin-token' "$url/v1/pipelines/strict")" && break
  sleep 0.1
done
strict=$(curl -s -H 'Authorization: Bearer admin-token' "$url/v1/pipelines/strict")
expect_contains "$strict" '"state":"failed"' "strict is failed after its restart budget"
expect_contains "$strict" '"restarts":2,"restart_budget":2' "it was restarted twice"
expect_contains "$strict" 'failed after 2 restarts (restart.attempts: 2); last error:' "the reason names the budget"
expect_contains "$strict" 'amount >= 0' "and the last error"
expect_contains "$("$MILLRACE" pipeline status "$project" strict)" "state:          failed" "pipeline status shows failed"
expect_contains "$(grep -c '"msg":"restarting streaming pipeline","pipeline":"strict"' "$WORK/serve.log")" "2" "serve logged both restarts"
expect_contains "$(curl -s "$url/metrics")" 'millrace_pipeline_restarts_total{pipeline="strict"} 2' "restarts are a metric"

# Stop and start.
stopped=$("$MILLRACE" pipeline stop "$project" counts)
expect_contains "$stopped" "state:          stopped" "stop answers once it has stopped"
expect_contains "$stopped" "reason:         stopped by request" "with the reason"
expect_contains "$(cat "$project/out/events.ndjson")" '"id":2' "the stopped run committed its file sink"
expect_contains "$("$MILLRACE" pipeline list "$project" | grep '^counts ')" "stopped" "list shows it stopped"
expect_contains "$("$MILLRACE" pipeline start "$project" counts)" "state:          running" "start runs it again"
again=$("$MILLRACE" pipeline start "$project" counts 2>&1 || true)
expect_contains "$again" "answered 409: pipeline \`counts\` is already running" "starting a running pipeline is refused"
expect_eq "$("$MILLRACE" pipeline start "$project" counts >/dev/null 2>&1; echo $?)" "1" "with exit 1"
missing=$("$MILLRACE" pipeline stop "$project" cuonts 2>&1 || true)
expect_contains "$missing" "answered 404: no streaming pipeline \`cuonts\` in project \`ops\`; did you mean \`counts\`?" "an unknown pipeline is named with a suggestion"
expect_contains "$("$MILLRACE" pipeline stop "$project" 2>&1 || true)" "pipeline is required" "stop needs a pipeline name"
stop_server
expect_contains "$("$MILLRACE" pipeline list "$project" --url "http://127.0.0.1:$port" 2>&1 || true)" "no millrace serve answered at http://127.0.0.1:$port" "no server: a clear error"

# A bad restart policy is a validate error with its position.
cat >"$project/pipelines/strict.yaml" <<'YAML'
name: strict
mode: streaming
restart: { attempts: 2, initial: 10s, max: 1s }
sources:
  payments: { topic: payments, schema: { id: int64 not null, amount: double not null } }
sinks:
  - { from: payments, file: { path: out/payments.ndjson } }
YAML
out=$("$MILLRACE" validate "$project" 2>&1 || true)
expect_contains "$out" "strict.yaml:3:44: error: \`max\` of \`restart\` of pipeline \`strict\` must be at least \`initial\`, the first wait" "max below initial is an error at max"
finish
