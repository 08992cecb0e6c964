#!/usr/bin/env bash
# Operator state is measured and limited. An upserting aggregate over 20,000 distinct keys:
#   - `run` reports the state it held (bytes of its limit, keys);
#   - under `serve`, `pipeline status`, /v1/pipelines and /metrics report the state's bytes,
#     keys and limit while it runs;
#   - with `state_limit:` below what the state needs, `run` fails naming the limit and the
#     pipeline file, and under `serve` (restart attempts: 0) the pipeline is failed with that
#     reason;
#   - a bad `state_limit` is a config error with its file:line:column.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/server.sh"

make_project() {  # <dir> <state_limit>
  mkdir -p "$1/pipelines"
  printf 'name: sl\ndata_dir: ./data\ninclude: [pipelines/*.yaml]\n' >"$1/millrace.yaml"
  cat >"$1/pipelines/keys.yaml" <<YAML
name: keys
mode: streaming
state_limit: $2
restart: { attempts: 0 }
sources:
  tx:
    topic: tx
    schema: { id: string not null, amount: double not null }
views:
  per_id: SELECT id, count(*) AS n, sum(amount) AS total FROM tx GROUP BY id
sinks:
  - { from: per_id, topic: per_id_out, key: id }
YAML
  "$MILLRACE" topic create tx -p "$1" --partitions 1 >/dev/null
  "$MILLRACE" topic produce tx -p "$1" -i "$WORK/tx.ndjson" >/dev/null
}
/usr/bin/python3 -c '
import json
for i in range(20000):
    print(json.dumps({"id": f"k-{i}", "amount": i % 100}))' >"$WORK/tx.ndjson"

make_project "$WORK/ok" 256MB
out=$("$MILLRACE" run "$WORK/ok" keys --until-idle --idle 500ms 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "within the limit the run succeeds"
expect_contains "$out" "of the 256 MiB limit, 20000 keys at most" "it reports the state's keys and limit"

make_project "$WORK/small" 256KB
out=$("$MILLRACE" run "$WORK/small" keys --until-idle --idle 500ms 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "past the state limit the run fails"
expect_contains "$out" "memory limit of 256 KiB reached" "it names the limit"
expect_contains "$out" "state_limit in" "and where to raise it"
out=$("$MILLRACE" run "$WORK/small" keys --until-idle --idle 500ms --memory-limit 256M 2>&1) &&
  rc=0 || rc=$?
expect_eq "$rc" "0" "--memory-limit overrides the pipeline's state_limit"

sed -i 's/^state_limit: .*/state_limit: lots/' "$WORK/small/pipelines/keys.yaml"
out=$("$MILLRACE" validate "$WORK/small" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "a bad state_limit is refused"
expect_contains "$out" "keys.yaml:3:14" "at its file:line:column"

# Under serve: reported while it runs.
make_project "$WORK/served" 256MB
port=$(free_port)
start_server "$WORK/served" "$port" "$WORK/serve.log"
keys=0
for _ in $(seq 1 200); do
  keys=$(curl -sf "http://127.0.0.1:$port/v1/pipelines/keys" |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["operator_state"]["keys"])' || echo 0)
  [ "$keys" = "20000" ] && break
  sleep 0.1
done
expect_eq "$keys" "20000" "/v1/pipelines reports the state's keys"
status=$("$MILLRACE" pipeline status "$WORK/served" keys --url "http://127.0.0.1:$port")
expect_contains "$status" "20000 keys; limit 256 MiB" "pipeline status shows the state and its limit"
metrics=$(curl -sf "http://127.0.0.1:$port/metrics")
expect_contains "$metrics" 'millrace_pipeline_state_keys{pipeline="keys"} 20000' "/metrics has the keys"
expect_contains "$metrics" 'millrace_pipeline_state_limit_bytes{pipeline="keys"} 268435456' "and the limit"
expect_eq "$(grep -c '^millrace_pipeline_state_bytes{pipeline="keys"} [1-9]' <<<"$metrics")" "1" \
  "and the bytes"
stop_server

make_project "$WORK/served_small" 256KB
port=$(free_port)
start_server "$WORK/served_small" "$port" "$WORK/serve_small.log"
state=
for _ in $(seq 1 200); do
  state=$(curl -sf "http://127.0.0.1:$port/v1/pipelines/keys" |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])' || true)
  [ "$state" = "failed" ] && break
  sleep 0.1
done
expect_eq "$state" "failed" "past the limit under serve the pipeline fails"
status=$("$MILLRACE" pipeline status "$WORK/served_small" keys --url "http://127.0.0.1:$port")
expect_contains "$status" "memory limit of 256 KiB reached" "its reason names the limit"
stop_server
finish
