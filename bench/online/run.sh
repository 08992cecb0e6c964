#!/usr/bin/env bash
# Online serving figures for BENCHMARKS.md, medians of $RUNS runs (default 3):
#  (a) ceilings: nginx (2 workers, access_log off) serving a small static file under
#      `wrk -t2 -c64 -d10s`, and redis-server GET under `redis-benchmark -t get -c 64 -n 1000000`;
#  (b) the load generator's own floor: bench/online/loadgen open loop at 20k req/s against that
#      nginx (its p99 is what loadgen + this machine add), and closed loop at 64 connections
#      (its saturation rate next to wrk's);
#  (c) millrace: a feature view of 1M keys x 10 features (CSV -> `millrace run` -> lake ->
#      `millrace materialize`, or NDJSON upserts over HTTP when materialize is not there),
#      `millrace serve`; one cold wrk run (caches empty, reported apart), a warm-up reading every
#      key once (bench/online/warm.py), then wrk saturation on GET
#      /v1/features/user_features?key=<random>, loadgen at 20k req/s for p50/p99/p99.9, and
#      loadgen POSTing batches of 100 random keys. Beside each of these runs, the server's own
#      time from its route histogram (/metrics, bench/online/handler_quantiles.py): what of a
#      tail is the handler's and what is the socket, the kernel and the client's.
#      Skipped ("skipped: feature serving not available") when the binary cannot serve views.
# Goals: p99 < 500 us at 20k/s and <= 1.5 x nginx's under the same client; saturation >= 0.8 x
# nginx (and >= 0.5 x redis GET);
# batch of 100 keys p99 < 2 ms.
# Pinning: with 2 or more cores every server (nginx, redis, millrace) runs on core 0 and every
# client (wrk, redis-benchmark, loadgen) on core 1 (`taskset`), so client and server do not
# steal each other's core; PIN=0 turns it off. Every loadgen report (latency and send lag
# percentiles, the spread over the runs) goes to $MILLRACE_BENCH_DIR/part_online.json (default
# <build>/bench-results) for bench/summarize.mjs.
# Usage: bench/online/run.sh <release-build-dir> [seconds per run, default 10]
set -euo pipefail
build=$(cd "${1:-build/release}" && pwd)
results=${MILLRACE_BENCH_DIR:-$build/bench-results}
mkdir -p "$results"
seconds=${2:-10}
runs=${RUNS:-3}
rate=${RATE:-20000}
batch_rate=${BATCH_RATE:-1000}
keys=${KEYS:-1000000}
here=$(cd "$(dirname "$0")" && pwd)
millrace=$build/src/cli/millrace
loadgen=$build/bench/loadgen
work=$(mktemp -d "$build/bench-online.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
free_port() { node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
wait_port() { for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }
stop_last() { kill -TERM "${pids[-1]}" 2>/dev/null || true; wait "${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'; }
# `field <json> <object> <key>`: a number from loadgen's JSON, e.g. field "$out" latency_us p99.
field() { node -e 'const j=JSON.parse(process.argv[1]); const o=process.argv[2]==="."?j:j[process.argv[2]]; console.log(o[process.argv[3]])' "$1" "$2" "$3"; }
to_us() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v)} else if (v ~ /ms$/) {sub(/ms$/,"",v); v*=1000} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000000}; printf "%.0f", v}'; }
join() { local IFS=,; echo "$*"; }
if [ "${PIN:-1}" = 1 ] && [ "$(nproc)" -ge 2 ]; then
  server_cpu=(taskset -c 0); client_cpu=(taskset -c 1); pinning="servers on core 0, clients on core 1"
else
  server_cpu=(); client_cpu=(); pinning="not pinned"
fi
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "n/a"}'; }

# wrk_run <url> [lua script]: prints "rps p50_us p99_us".
wrk_run() {
  local out
  out=$("${client_cpu[@]}" wrk -t2 -c64 -d"${seconds}s" --latency ${2:+-s "$2"} "$1")
  printf '%s %s %s\n' "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
    "$(awk '$1 == "50%" {print $2}' <<<"$out" | to_us)" "$(awk '$1 == "99%" {print $2}' <<<"$out" | to_us)"
}
# loadgen_runs <label> <loadgen args...>: $runs open-loop runs; prints medians, sets LG_P99
# and LG_JSON (every run's loadgen report, a JSON array).
loadgen_runs() {
  local label=$1; shift
  local p50s=() p99s=() p999s=() lags=() rates=() errs=() reports=() out
  for run in $(seq 1 "$runs"); do
    # HANDLER_ROUTE (a route of millrace's /metrics): the server's own time for the run's
    # requests, from its route histogram, goes into the report as `handler_us`.
    [ -n "${HANDLER_ROUTE:-}" ] && curl -s "$url/metrics" >"$work/metrics_before"
    out=$("${client_cpu[@]}" "$loadgen" "$@" 2>/dev/null)
    if [ -n "${HANDLER_ROUTE:-}" ]; then
      curl -s "$url/metrics" >"$work/metrics_after"
      handler=$(python3 "$here/handler_quantiles.py" "$work/metrics_before" "$work/metrics_after" "$HANDLER_ROUTE")
      out=$(node -e 'const j=JSON.parse(process.argv[1]); j.handler_us=JSON.parse(process.argv[2]); console.log(JSON.stringify(j))' "$out" "$handler")
    fi
    reports+=("$out")
    p50s+=("$(field "$out" latency_us p50)"); p99s+=("$(field "$out" latency_us p99)")
    p999s+=("$(field "$out" latency_us p99_9)"); lags+=("$(field "$out" send_lag_us p99)")
    rates+=("$(field "$out" . achieved_rate)")
    errs+=("$(node -e 'const j=JSON.parse(process.argv[1]); const e=j.errors; console.log(e.connect+e.timeout+e.io+e.parse+e.unsent+e.non_2xx)' "$out")")
    echo "  run $run: $(field "$out" . achieved_rate) req/s, p50 ${p50s[-1]} us (send lag $(field "$out" send_lag_us p50)), p99 ${p99s[-1]} us (send lag ${lags[-1]}), p99.9 ${p999s[-1]} us (send lag $(field "$out" send_lag_us p99_9)), max $(field "$out" latency_us max) us, errors ${errs[-1]}${HANDLER_ROUTE:+, handler p99 <= $(field "$out" handler_us p99_le) us}"
  done
  LG_P99=$(printf '%s\n' "${p99s[@]}" | median)
  LG_JSON="[$(join "${reports[@]}")]"
  echo "median $label: $(printf '%s\n' "${rates[@]}" | median) req/s, p50 $(printf '%s\n' "${p50s[@]}" | median) us, p99 $LG_P99 us, p99.9 $(printf '%s\n' "${p999s[@]}" | median) us (send lag p99 $(printf '%s\n' "${lags[@]}" | median) us)"
}

machine="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "machine: $machine, load average $load_before, $pinning"
nginx_rps=(); redis_rps=(); floor_json=null; batch_floor_json=null; millrace_rps=(); get_json=null; batch_json=null; skipped=""
write_results() {
  printf '{"part":"online","machine":"%s","pinning":"%s","load_before":"%s","load_after":"%s","rate":%s,"batch_rate":%s,"keys":%s,"skipped":"%s","nginx_rps":[%s],"redis_rps":[%s],"floor":%s,"batch_floor":%s,"millrace_rps":[%s],"cold_rps":%s,"get":%s,"batch":%s}\n' \
    "$machine" "$pinning" "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)" "$rate" "$batch_rate" "$keys" \
    "${skipped//\"/}" "$(join "${nginx_rps[@]}")" "$(join "${redis_rps[@]}")" "$floor_json" "$batch_floor_json" \
    "$(join "${millrace_rps[@]}")" "${cold_rps:-null}" "$get_json" "$batch_json" > "$results/part_online.json"
}

echo "== (a) ceilings: nginx static file (wrk -t2 -c64 -d${seconds}s), redis GET (redis-benchmark -c 64)"
nginx_port=$(free_port)
mkdir -p "$work/nginx/tmp" "$work/nginx/html"
printf '{"user_id":123,"f0":1.5,"f1":2.5,"f2":3.5,"f3":4.5,"f4":5.5,"f5":6.5,"f6":7.5,"f7":8.5,"f8":9.5,"f9":10.5}\n' > "$work/nginx/html/feature.json"
if [ "$(id -u)" -eq 0 ]; then
  sed -e "s/__PORT__/$nginx_port/" -e "s/__USER__/root/" "$here/nginx.conf" > "$work/nginx/nginx.conf"
else
  sed -e "s/__PORT__/$nginx_port/" -e "/__USER__/d" "$here/nginx.conf" > "$work/nginx/nginx.conf"
fi
"${server_cpu[@]}" nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" 2>"$work/nginx.log" &
pids+=($!)
wait_port "$nginx_port"
nginx_url=http://127.0.0.1:$nginx_port
nginx_p99=()
for run in $(seq 1 "$runs"); do
  read -r rps p50 p99 <<<"$(wrk_run "$nginx_url/feature.json")"
  nginx_rps+=("$rps"); nginx_p99+=("$p99")
  echo "  run $run: nginx $rps req/s (p50 $p50 us, p99 $p99 us, closed loop)"
done
nginx_median=$(printf '%s\n' "${nginx_rps[@]}" | median)
echo "median nginx: $nginx_median req/s"

echo "== (b) loadgen's own floor, against nginx"
echo "open loop at $rate req/s, 32 connections, ${seconds}s:"
loadgen_runs "loadgen -> nginx at $rate/s" --target "$nginx_url" --rate "$rate" --duration "${seconds}s" \
  --connections 32 --path-template '/feature.json?key={rand:0:999999}'
floor_p99=$LG_P99
floor_json=$LG_JSON
# The same floor for an answer as large as a batch of 100 keys: a static file of 100 rows shaped
# like the batch route's (GET: nginx serves no POST from files), at the batch rate.
node -e 'const row = {key: {user_id: 999999}, status: "PRESENT", event_timestamp: "2024-01-01T00:00:00Z", features: Object.fromEntries([...Array(10).keys()].map((i) => [`f${i}`, 99.3]))};
console.log(JSON.stringify({view: "user_features", results: Array(100).fill(row)}))' >"$work/nginx/html/batch.json"
echo "open loop at $batch_rate req/s, 32 connections, ${seconds}s, a $(wc -c <"$work/nginx/html/batch.json")-byte file:"
loadgen_runs "loadgen -> nginx, batch-sized file at $batch_rate/s" --target "$nginx_url" --rate "$batch_rate" \
  --duration "${seconds}s" --connections 32 --path-template '/batch.json?keys={rand:0:999999}'
batch_floor_json=$LG_JSON
lg_sat=()
for run in $(seq 1 "$runs"); do
  out=$("${client_cpu[@]}" "$loadgen" --target "$nginx_url" --rate 0 --duration "${seconds}s" --connections 64 \
        --path-template '/feature.json?key={rand:0:999999}' 2>/dev/null)
  lg_sat+=("$(field "$out" . achieved_rate)")
done
lg_sat_median=$(printf '%s\n' "${lg_sat[@]}" | median)
echo "closed loop, 64 connections, one thread: $lg_sat_median req/s (wrk -t2 -c64: $nginx_median; ratio $(ratio "$lg_sat_median" "$nginx_median"))"
stop_last

redis_port=$(free_port)
"${server_cpu[@]}" redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" >"$work/redis.log" 2>&1 &
pids+=($!)
wait_port "$redis_port"
redis-cli -p "$redis_port" set key:000000000000 "$(cat "$work/nginx/html/feature.json")" >/dev/null
for run in $(seq 1 "$runs"); do
  out=$("${client_cpu[@]}" redis-benchmark -p "$redis_port" -t get -c 64 -n 1000000 -q 2>&1 | tr '\r' '\n' | grep -a 'requests per second' | tail -1)
  rps=$(grep -o '[0-9.]* requests per second' <<<"$out" | cut -d' ' -f1)
  redis_rps+=("$rps")
  echo "  run $run: redis GET $rps req/s ($(grep -o 'p50=[0-9.]* msec' <<<"$out" || true))"
done
redis_median=$(printf '%s\n' "${redis_rps[@]}" | median)
echo "median redis GET: $redis_median req/s"
stop_last

echo "== (c) millrace feature serving: $keys keys x 10 features"
project=$work/project
mkdir -p "$project/pipelines" "$project/features" "$project/incoming"
cat > "$project/millrace.yaml" <<'YAML'
name: online-bench
data_dir: ./data
include: [pipelines/*.yaml, features/*.yaml]
YAML
cat > "$project/pipelines/load_user_features.yaml" <<'YAML'
name: load_user_features
mode: batch
sources:
  users:
    file: { path: incoming/user_features.csv, format: csv }
    schema: { user_id: int64 not null, f0: double, f1: double, f2: double, f3: double, f4: double,
              f5: double, f6: double, f7: double, f8: double, f9: double,
              event_timestamp: timestamp not null }
views:
  rows: SELECT * FROM users
sinks:
  - { from: rows, lake: { table: user_features } }
YAML
cat > "$project/features/user_features.yaml" <<'YAML'
name: user_features
description: 10 synthetic double features per user (bench/online/run.sh)
entities: { user_id: int64 }
features:
  f0: { type: double, default: 0.0 }
  f1: { type: double, default: 0.0 }
  f2: { type: double, default: 0.0 }
  f3: { type: double, default: 0.0 }
  f4: { type: double, default: 0.0 }
  f5: { type: double, default: 0.0 }
  f6: { type: double, default: 0.0 }
  f7: { type: double, default: 0.0 }
  f8: { type: double, default: 0.0 }
  f9: { type: double, default: 0.0 }
source:
  lake: { table: user_features, event_time: event_timestamp }
YAML
awk -v n="$keys" 'BEGIN {
  print "user_id,f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,event_timestamp"
  for (i = 0; i < n; i++) {
    line = i
    for (f = 0; f < 10; f++) line = line "," ((i * 7 + f * 13) % 1000) / 10
    print line ",2024-01-01T00:00:00Z"
  }
}' > "$project/incoming/user_features.csv"

skip() { echo "skipped: feature serving not available ($1)"; skipped=$1; write_results; exit 0; }
if ! "$millrace" validate "$project" >"$work/validate.log" 2>&1; then
  skip "millrace validate: $(head -3 "$work/validate.log" | tr '\n' ' ')"
fi
loaded=no
if "$millrace" help materialize >/dev/null 2>&1; then
  start=$(date +%s%N)
  "$millrace" run "$project" load_user_features >"$work/run.log" 2>&1 || skip "millrace run failed: $(tail -3 "$work/run.log" | tr '\n' ' ')"
  mid=$(date +%s%N)
  "$millrace" materialize "$project" user_features >"$work/materialize.log" 2>&1 || skip "millrace materialize failed: $(tail -3 "$work/materialize.log" | tr '\n' ' ')"
  echo "loaded: millrace run $(( (mid - start) / 1000000 )) ms, millrace materialize $(( ($(date +%s%N) - mid) / 1000000 )) ms"
  loaded=yes
fi
port=$(free_port)
url=http://127.0.0.1:$port
"${server_cpu[@]}" "$millrace" serve "$project" --listen "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
pids+=($!)
wait_port "$port" || skip "millrace serve did not start: $(tail -3 "$work/serve.log" | tr '\n' ' ')"
probe=$(curl -s -w ' %{http_code}' "$url/v1/features/user_features?key=1")
case "$probe" in
  *" 200") ;;
  *) skip "GET /v1/features/user_features answered: ${probe:0:200}" ;;
esac
if [ "$loaded" = no ]; then  # no materialize: NDJSON upserts over HTTP, 100k rows per request
  start=$(date +%s%N)
  tail -n +2 "$project/incoming/user_features.csv" | awk -F, -v dir="$work" '{
    chunk = dir "/upsert." int((NR - 1) / 100000)
    printf "{\"user_id\":%s", $1 > chunk
    for (f = 0; f < 10; f++) printf ",\"f%d\":%s", f, $(f + 2) > chunk
    printf ",\"event_timestamp\":\"%s\"}\n", $12 > chunk
  }'
  for chunk in "$work"/upsert.*; do
    out=$(curl -s -H 'Content-Type: application/x-ndjson' --data-binary @"$chunk" "$url/v1/features/user_features/upsert")
    grep -q '"rejected":0' <<<"$out" || skip "upsert failed: ${out:0:200}"
    rm -f "$chunk"
  done
  echo "loaded: $keys rows upserted over HTTP in $(( ($(date +%s%N) - start) / 1000000 )) ms"
fi
probe=$(curl -s "$url/v1/features/user_features?key=$((keys - 1))")
grep -q '"PRESENT"' <<<"$probe" || skip "key $((keys - 1)) is not served: ${probe:0:200}"
echo "sample: $probe"

export VIEW=user_features KEYS=$keys
# Cold: the first run after start, with the store's caches empty (every key a RocksDB read, every
# block decompressed, every row cached for the first time). Reported apart, without a goal.
read -r cold_rps p50 p99 <<<"$(wrk_run "$url" "$here/features.lua")"
echo "  cold start: millrace GET $cold_rps req/s (p50 $p50 us, p99 $p99 us, closed loop, caches empty)"
# Then every key once, so the measured runs see the steady state a long-running server is in
# (nginx serves its file from the page cache, redis from memory).
echo "  warm-up: $("${client_cpu[@]}" python3 "$here/warm.py" "$port" user_features "$keys")"
for run in $(seq 1 "$runs"); do
  read -r rps p50 p99 <<<"$(wrk_run "$url" "$here/features.lua")"
  millrace_rps+=("$rps")
  echo "  run $run: millrace GET $rps req/s (p50 $p50 us, p99 $p99 us, closed loop)"
done
millrace_median=$(printf '%s\n' "${millrace_rps[@]}" | median)
echo "median millrace GET saturation: $millrace_median req/s"
# PERF=<file>: one more saturation run with the server sampled by `perf record -g` (not
# counted in the medians), for a profile of where a request's time goes.
if [ -n "${PERF:-}" ]; then
  perf record -g -F 999 -o "$PERF" -p "${pids[-1]}" -- sleep "$seconds" >/dev/null 2>&1 &
  perf_pid=$!
  read -r rps p50 p99 <<<"$(wrk_run "$url" "$here/features.lua")"
  wait "$perf_pid" || true
  echo "  profiled run: millrace GET $rps req/s (perf data in $PERF)"
fi
echo "single-key GET, open loop at $rate req/s, 32 connections:"
HANDLER_ROUTE=features_get
loadgen_runs "millrace GET at $rate/s" --target "$url" --rate "$rate" --duration "${seconds}s" \
  --connections 32 --path-template "/v1/features/user_features?key={rand:0:$((keys - 1))}"
get_p99=$LG_P99
get_json=$LG_JSON
echo "batch of 100 keys, open loop at $batch_rate req/s, 32 connections:"
HANDLER_ROUTE=features_batch
loadgen_runs "millrace batch(100) at $batch_rate/s" --target "$url" --rate "$batch_rate" \
  --duration "${seconds}s" --connections 32 --method POST \
  --path-template /v1/features/user_features/batch --body "{\"keys\": {keys:100:0:$((keys - 1))}}"
batch_p99=$LG_P99
batch_json=$LG_JSON
write_results
stop_last

verdict() { awk -v v="$1" -v goal="$2" -v dir="$3" 'BEGIN {ok = dir == "<" ? v < goal : v >= goal; print ok ? "met" : "NOT met"}'; }
echo "goals: GET p99 at $rate/s $get_p99 us (< 500: $(verdict "$get_p99" 500 "<"); loadgen floor vs nginx $floor_p99 us);" \
  "saturation/nginx $(ratio "$millrace_median" "$nginx_median") (>= 0.8: $(verdict "$(ratio "$millrace_median" "$nginx_median")" 0.8 ">="));" \
  "saturation/redis $(ratio "$millrace_median" "$redis_median") (>= 0.5: $(verdict "$(ratio "$millrace_median" "$redis_median")" 0.5 ">="));" \
  "batch(100) p99 $batch_p99 us (< 2000: $(verdict "$batch_p99" 2000 "<"))"
