#!/usr/bin/env bash
# Window result freshness (part of `make bench`; results in part_window_freshness.json): how long
# after the watermark passes a tumbling window's end its result is visible in the window's sinks.
# `millrace serve` runs a one-second `tumble` count per sensor (event time `ts`, watermark delay
# 0s) into the online store and into a topic. A probe (one at a time, ~20/s) ingests, in one
# request, a reading of a new sensor in window n (event time base + n s + 0.5 s) and a tick of
# another sensor at base + (n + 1) s + 1 ms, which moves the watermark past window n's end. From
# the ingest response it polls GET /v1/features/sensor_window?key=<sensor> until the window's
# count shows (the online sink writes when the window fires) and the output topic's records
# until the row is there (a topic sink appends when its checkpoint commits, every
# checkpoint_interval: INTERVAL, default 50ms). The ingest response is the latest moment the
# watermark could pass the end that the probe can observe, so the figures are upper bounds.
# Usage: bench/pipeline/window_freshness.sh <release-build-dir> [seconds per run, default 15]
set -euo pipefail
build=$(cd "${1:-build/release}" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${2:-15}
runs=${RUNS:-3}
interval=${INTERVAL:-50ms}
out=${MILLRACE_BENCH_DIR:-$build/bench-results}
mkdir -p "$out"
millrace=$build/src/cli/millrace
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
  mkdir -p "$project/pipelines" "$project/features"
  port=$(free_port)
  cat >"$project/millrace.yaml" <<YAML
name: window_freshness
data_dir: ./data
listen: { http: 127.0.0.1:$port }
include: [pipelines/*.yaml, features/*.yaml]
topics:
  readings: { partitions: 1 }
  per_second_out: { partitions: 1 }
YAML
  cat >"$project/features/sensor_window.yaml" <<YAML
name: sensor_window
entities: { sensor: string }
features: { readings: int64, total: double }
source: { pipeline: per_second }
YAML
  cat >"$project/pipelines/per_second.yaml" <<YAML
name: per_second
mode: streaming
checkpoint_interval: $interval
sources:
  readings:
    topic: readings
    schema: { sensor: string not null, value: double not null, ts: timestamp not null }
    event_time: ts
    watermark_delay: 0s
views:
  per_second: |
    SELECT sensor, window_start, window_end, count(*) AS readings, sum(value) AS total
    FROM tumble(readings, ts, INTERVAL '1 second') GROUP BY sensor, window_start, window_end
sinks:
  - { from: per_second, online: { feature_view: sensor_window } }
  - { from: per_second, topic: per_second_out }
YAML
  "$millrace" serve "$project" --log-format text >"$work/serve$run.log" 2>&1 &
  server=$!
  for _ in $(seq 1 200); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.05
  done
  PYTHONPATH="$root/bench/lib" /usr/bin/python3 - "$port" "$seconds" "$run" >"$work/probe$run.json" <<'PY'
import datetime, json, sys, time
from probe_http import Probe, summary
port, seconds, run = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
probe = Probe(port)
base = datetime.datetime(2026, 12, 6, tzinfo=datetime.timezone.utc)
stamp = lambda s: (base + datetime.timedelta(seconds=s)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
online, topic, timeouts = [], [], 0
topic_offset = 0
end = time.monotonic() + seconds
n = 0
while time.monotonic() < end:
    sensor = f"probe-{run}-{n}"
    lines = [{"sensor": sensor, "value": 1.0, "ts": stamp(n + 0.5)},
             {"sensor": "tick", "value": 0.0, "ts": stamp(n + 1.001)}]
    n += 1
    status, _ = probe.call("ingest", "POST", "/v1/ingest/readings",
                           "\n".join(json.dumps(line) for line in lines) + "\n",
                           content_type="application/x-ndjson")
    acked = time.monotonic()
    if status // 100 != 2:
        continue
    seen_online = seen_topic = None
    while time.monotonic() - acked < 10 and (seen_online is None or seen_topic is None):
        if seen_online is None:
            status, text = probe.call("serve", "GET", f"/v1/features/sensor_window?key={sensor}")
            if status == 200 and (json.loads(text).get("features") or {}).get("readings") == 1:
                seen_online = time.monotonic()
        if seen_topic is None:
            status, text = probe.call("topic", "GET",
                                      f"/v1/topics/per_second_out/records?offset={topic_offset}&max=1000")
            if status == 200:
                body = json.loads(text)
                topic_offset = body["next_offset"] if body["records"] else topic_offset
                if any(r["value"].get("sensor") == sensor for r in body["records"]
                       if isinstance(r["value"], dict)):
                    seen_topic = time.monotonic()
    if seen_online is None or seen_topic is None:
        timeouts += 1
        continue
    online.append((seen_online - acked) * 1000)
    topic.append((seen_topic - acked) * 1000)
    time.sleep(0.05)
print(json.dumps({"probes": len(online), "timeouts": timeouts, "online": summary(online),
                  "topic": summary(topic)}))
PY
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  server=
  probe=$(cat "$work/probe$run.json")
  echo "run $run: window result visible after the watermark passed its end: $probe"
  reports+=("$probe")
done
(IFS=,; echo "{\"interval\": \"$interval\", \"runs\": [${reports[*]}], \"load_before\": \"$load_before\", \"load_after\": \"$(cut -d' ' -f1 /proc/loadavg)\"}") >"$out/part_window_freshness.json"
echo "written $out/part_window_freshness.json"
