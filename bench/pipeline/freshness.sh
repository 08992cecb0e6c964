#!/usr/bin/env bash
# Feature freshness under load (part of `make bench`; results in part_freshness.json): the
# fraud-features example's per-account totals (an upserting aggregate into the online store,
# served by the YAML route GET /risk/account?id=...) under `millrace serve`, while
# bench/online's loadgen POSTs transactions to /v1/ingest/transactions at RATE (default
# 20,000/s, 10,000 accounts). A probe (one at a time, ~20/s) ingests one transaction for an
# account never seen before and polls the route until the account's txns is 1: freshness is the
# time from the ingest response to the first answer that shows it. Besides the probes' own
# percentiles, `corrected` adds for each probe slower than the 50 ms between probes the probes a
# steady stream would have sent meanwhile (coordinated omission: a stall delays every
# transaction in it, but one probe). The pipeline publishes changed
# features after each poll round once it has caught up, and checkpoints every
# checkpoint_interval (INTERVAL, default 50ms). The loadgen's own send
# lag is reported beside the percentiles: when it is large, the rate was not reached.
# The load's records carry a fixed event time, so this pipeline reads processing time (no
# event_time): the example's 10-minute hop view is left out (its windows would call them late).
# Usage: bench/pipeline/freshness.sh <release-build-dir> [seconds per run, default 15]
set -euo pipefail
build=$(cd "${1:-build/release}" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${2:-15}
runs=${RUNS:-3}
rate=${RATE:-20000}
interval=${INTERVAL:-50ms}
out=${MILLRACE_BENCH_DIR:-$build/bench-results}
mkdir -p "$out"
millrace=$build/src/cli/millrace
loadgen=$build/bench/loadgen
work=$(mktemp -d)
server=
cleanup() {
  [ -n "$server" ] && { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
load_before=$(cut -d' ' -f1 /proc/loadavg)

reports=()
for run in $(seq 1 "$runs"); do
  project=$work/run$run
  mkdir -p "$project/pipelines"
  cp -r "$(dirname "$0")/../../examples/fraud-features/features" \
    "$(dirname "$0")/../../examples/fraud-features/routes" "$project/"
  port=$(free_port)
  cat >"$project/millrace.yaml" <<YAML
name: freshness
data_dir: ./data
listen: { http: 127.0.0.1:$port }
include: [pipelines/*.yaml, features/*.yaml, routes/*.yaml]
topics:
  transactions: { partitions: 1 }
YAML
  cat >"$project/pipelines/account_features.yaml" <<YAML
name: account_features
mode: streaming
checkpoint_interval: $interval
sources:
  txns:
    topic: transactions
    schema: { txn_id: string not null, account_id: string not null, merchant_id: string,
              device_id: string, amount: double not null, ts: timestamp not null }
views:
  totals: |
    SELECT account_id, count(*) AS txns, round(sum(amount), 2) AS spent, max(amount) AS largest,
           count(DISTINCT merchant_id) AS merchants, count(DISTINCT device_id) AS devices
    FROM txns GROUP BY account_id
sinks:
  - { from: totals, online: { feature_view: account_totals } }
YAML
  "$millrace" serve "$project" --log-format text >"$work/serve$run.log" 2>&1 &
  server=$!
  for _ in $(seq 1 200); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.05
  done
  "$loadgen" --target "http://127.0.0.1:$port" --rate "$rate" --duration "$((seconds + 4))s" \
    --connections 16 --method POST --path-template /v1/ingest/transactions \
    -H 'Content-Type: application/json' \
    --body '{"txn_id":"l-{rand:0:999999999}","account_id":"a-{rand:0:9999}","merchant_id":"m-{rand:0:499}","device_id":"d-{rand:0:1999}","amount":{rand:1:500},"ts":"2026-12-06T00:00:00Z"}' \
    >"$work/load$run.json" 2>/dev/null &
  load=$!
  sleep 2  # the load reaches its rate before the first probe
  PYTHONPATH="$root/bench/lib" /usr/bin/python3 - "$port" "$seconds" "$run" >"$work/probe$run.json" <<'PY'
import json, sys, time
from probe_http import Probe, summary
port, seconds, run = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
probe = Probe(port)
latencies, timeouts = [], 0
end = time.monotonic() + seconds
n = 0
while time.monotonic() < end:
    account = f"probe-{run}-{n}"
    n += 1
    body = json.dumps({"txn_id": f"p-{run}-{n}", "account_id": account, "merchant_id": "m-1",
                       "device_id": "d-1", "amount": 1.0, "ts": "2026-12-06T00:00:00Z"})
    status, _ = probe.call("ingest", "POST", "/v1/ingest/transactions", body)
    acked = time.monotonic()
    if status // 100 != 2:
        continue
    seen = None
    while time.monotonic() - acked < 10:
        status, text = probe.call("serve", "GET", f"/risk/account?id={account}")
        if status == 200 and json.loads(text).get("features", {}).get("txns", 0) >= 1:
            seen = time.monotonic()
            break
    if seen is None:
        timeouts += 1
    else:
        latencies.append((seen - acked) * 1000)
    time.sleep(0.05)
# One probe at a time samples a stall once, however long it lasts (coordinated omission); the
# transactions that arrive meanwhile all wait. Corrected as HdrHistogram does: a probe that took
# L > 50 ms stands also for the probes that would have started every 50 ms during it
# (L - 50, L - 100, ... ms).
corrected = []
for latency in latencies:
    corrected.append(latency)
    missed = latency - 50
    while missed > 0:
        corrected.append(missed)
        missed -= 50
print(json.dumps({"probes": len(latencies), "timeouts": timeouts, **summary(latencies),
                  "corrected": summary(corrected)}))
PY
  # Whether the pipeline kept up: the records it had read by the end of the probes.
  pipeline_in=$(curl -sf "http://127.0.0.1:$port/v1/pipelines/account_features" |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["records"]["in"])' || echo null)
  wait "$load" || true
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  server=
  probe=$(cat "$work/probe$run.json")
  loadgen_report=$(cat "$work/load$run.json")
  echo "run $run: pipeline had read $pipeline_in records when the probes ended (~$((rate * (seconds + 2)))) sent by then)"
  echo "run $run: freshness $probe; load $(/usr/bin/python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print({k: d.get(k) for k in ("sent", "completed", "errors", "achieved_rate", "rate")}, "send lag p99 us:", d.get("send_lag_us", {}).get("p99"))' "$loadgen_report")"
  reports+=("{\"probe\": $probe, \"pipeline_in\": $pipeline_in, \"load\": $loadgen_report}")
done
(IFS=,; echo "{\"rate\": $rate, \"interval\": \"$interval\", \"runs\": [${reports[*]}], \"load_before\": \"$load_before\", \"load_after\": \"$(cut -d' ' -f1 /proc/loadavg)\"}") >"$out/part_freshness.json"
echo "written $out/part_freshness.json"
