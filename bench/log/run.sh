#!/usr/bin/env bash
# Log and HTTP ingest figures for BENCHMARKS.md (medians of 3 runs each):
#  (a) log append, 1 KiB records in batches of 100, fsync every 50 ms, against dd writing the
#      same block size with the same fsync cadence (dd conv=fdatasync per chunk of as many
#      blocks as the log wrote per 50 ms interval), on the same disk (under build/);
#  (b) HTTP ingest: wrk posting 100-event NDJSON bodies (~300-byte events) over loopback to
#      `millrace serve`, and the same events published to NATS JetStream (file storage,
#      nats.js) and XADDed to Redis (AOF everysec, redis-benchmark pipelining 100).
# Writes every run's figures to $MILLRACE_BENCH_DIR/part_log.json (default
# <build>/bench-results) for bench/summarize.mjs. PARTS=append runs (a) only, PARTS=ingest (b).
# Usage: bench/log/run.sh <release-build-dir> [seconds per HTTP run, default 10]
set -euo pipefail
build=$(cd "${1:-build/release}" && pwd)
seconds=${2:-10}
parts=${PARTS:-append,ingest}
results=${MILLRACE_BENCH_DIR:-$build/bench-results}
mkdir -p "$results"
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
millrace=$build/src/cli/millrace
work=$(mktemp -d "$build/bench-log.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
join() { local IFS=,; echo "$*"; }
median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
json_field() { grep -o "\"$1\":[0-9.]*" | cut -d: -f2; }
free_port() { node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
wait_port() { for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }

machine="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), disk: $(df --output=source "$build" | tail -1)"
echo "machine: $machine"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
append_json=null; ingest_json=null
write_results() {
  printf '{"part":"log","machine":"%s","load_before":"%s","load_after":"%s","append":%s,"ingest":%s}\n' \
    "$machine" "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)" "$append_json" "$ingest_json" \
    > "$results/part_log.json"
}

if [[ ,$parts, == *,append,* ]]; then
echo "== (a) log append vs dd (1 KiB records, batches of 100, fsync interval 50 ms)"
log_rates=(); dd_rates=(); syncs=()
for run in 1 2 3; do
  out=$("$build/bench/log_append" "$work/log" --mb 1024 --record-bytes 1024 --batch 100 \
        --fsync interval --interval-ms 50)
  rate=$(json_field mb_per_s <<<"$out")
  block=$(json_field batch_bytes <<<"$out")
  per_sync=$(json_field batches_per_interval <<<"$out")
  per_sync=${per_sync%.*}; [ "${per_sync:-0}" -ge 1 ] || per_sync=1
  log_rates+=("$rate"); syncs+=("$per_sync")
  # dd: the same bytes, block size = one batch, one fdatasync per interval's worth of blocks.
  total_blocks=$(( (1024 << 20) / ${block%.*} ))
  start=$(date +%s%N)
  for (( at = 0; at < total_blocks; at += per_sync )); do
    dd if=/dev/zero of="$work/dd.out" bs="${block%.*}" count="$per_sync" seek="$at" \
       conv=notrunc,fdatasync status=none
  done
  ns=$(( $(date +%s%N) - start ))
  dd_rate=$(awk -v b=$(( total_blocks * ${block%.*} )) -v ns="$ns" 'BEGIN {printf "%.1f", b / (ns / 1e9) / 1e6}')
  dd_rates+=("$dd_rate")
  rm -f "$work/dd.out"
  echo "run $run: log ${rate} MB/s (block ${block%.*} B, ${per_sync} blocks per fsync), dd ${dd_rate} MB/s"
done
log_median=$(printf '%s\n' "${log_rates[@]}" | median)
dd_median=$(printf '%s\n' "${dd_rates[@]}" | median)
echo "median: log $log_median MB/s, dd $dd_median MB/s, ratio $(awk -v a="$log_median" -v b="$dd_median" 'BEGIN {printf "%.2f", a / b}')"
append_json=$(printf '{"log_mb_s":[%s],"dd_mb_s":[%s],"block_bytes":%s,"blocks_per_fsync":[%s]}' \
  "$(join "${log_rates[@]}")" "$(join "${dd_rates[@]}")" "${block%.*}" "$(join "${syncs[@]}")")
write_results
fi

if [[ ,$parts, == *,ingest,* ]]; then

echo "== (b) HTTP ingest, 100-event NDJSON bodies, ${seconds}s runs"
node "$here/events.mjs" "$work/events.ndjson" 100
mkdir -p "$work/project"
printf 'name: bench\ntopics:\n  bench: { partitions: 2, fsync: 50ms }\n' > "$work/project/millrace.yaml"
port=$(free_port)
"$millrace" serve "$work/project" --listen "127.0.0.1:$port" 2>"$work/serve.log" &
pids+=($!)
wait_port "$port"
to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; printf "%.2f", v}'; }
http_rates=(); p50s=(); p99s=()
for run in 1 2 3; do
  out=$(EVENTS="$work/events.ndjson" TOPIC_PATH=/v1/ingest/bench \
        wrk -t1 -c32 -d"${seconds}s" --latency -s "$here/ingest.lua" "http://127.0.0.1:$port")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out" | to_ms)
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out" | to_ms)
  events=$(awk -v r="$rps" 'BEGIN {printf "%.0f", r * 100}')
  http_rates+=("$events"); p50s+=("$p50"); p99s+=("$p99")
  echo "run $run: millrace $events events/s ($rps requests/s), p50 ${p50} ms, p99 ${p99} ms"
done
kill -TERM "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'
stored=$(du -sb "$work/project/data/log/bench" | cut -f1)
echo "stored $stored bytes in the topic"

nats_port=$(free_port)
nats-server -js -sd "$work/nats" -a 127.0.0.1 -p "$nats_port" 2>"$work/nats.log" &
pids+=($!)
wait_port "$nats_port"
nats_rates=(); nats_stored_rates=()
for run in 1 2 3; do
  out=$(node "$here/nats_publish.mjs" "$work/events.ndjson" "$nats_port" "$seconds" 512 acked)
  rate=$(json_field events_per_s <<<"$out")
  nats_rates+=("$rate")
  out=$(node "$here/nats_publish.mjs" "$work/events.ndjson" "$nats_port" "$seconds" 512 stored)
  stored=$(json_field events_per_s <<<"$out")
  nats_stored_rates+=("$stored")
  echo "run $run: NATS JetStream (file) $rate events/s acknowledged (nats.js, 512 in flight), $stored events/s stored (un-acked publishes)"
done
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'

redis_port=$(free_port)
mkdir -p "$work/redis"
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$work/redis" --appendonly yes \
  --appendfsync everysec --save '' >"$work/redis.log" 2>&1 &
pids+=($!)
wait_port "$redis_port"
event=$(head -1 "$work/events.ndjson")
redis_rates=()
for run in 1 2 3; do
  out=$(redis-benchmark -p "$redis_port" -c 32 -P 100 -n 3000000 -q XADD bench '*' event "$event" 2>&1 | tr '\r' '\n' | grep -a 'requests per second' | tail -1)
  rate=$(grep -o '[0-9.]* requests per second' <<<"$out" | cut -d' ' -f1)
  rate=${rate%.*}
  redis_rates+=("$rate")
  echo "run $run: Redis XADD (AOF everysec) $rate events/s"
done
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'

m=$(printf '%s\n' "${http_rates[@]}" | median)
n=$(printf '%s\n' "${nats_rates[@]}" | median)
ns=$(printf '%s\n' "${nats_stored_rates[@]}" | median)
r=$(printf '%s\n' "${redis_rates[@]}" | median)
echo "median: millrace $m events/s (p50 $(printf '%s\n' "${p50s[@]}" | median) ms, p99 $(printf '%s\n' "${p99s[@]}" | median) ms), NATS JetStream $n acked / $ns stored, Redis XADD $r"
echo "ratios: millrace/NATS acked $(awk -v a="$m" -v b="$n" 'BEGIN {printf "%.2f", a / b}'), millrace/NATS stored $(awk -v a="$m" -v b="$ns" 'BEGIN {printf "%.2f", a / b}'), millrace/Redis $(awk -v a="$m" -v b="$r" 'BEGIN {printf "%.2f", a / b}')"
ingest_json=$(printf '{"millrace_events_s":[%s],"p50_ms":[%s],"p99_ms":[%s],"nats_acked_events_s":[%s],"nats_stored_events_s":[%s],"redis_events_s":[%s]}' \
  "$(join "${http_rates[@]}")" "$(join "${p50s[@]}")" "$(join "${p99s[@]}")" "$(join "${nats_rates[@]}")" \
  "$(join "${nats_stored_rates[@]}")" "$(join "${redis_rates[@]}")")
write_results
fi
