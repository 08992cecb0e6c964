#!/usr/bin/env bash
# Kafka protocol figures for BENCHMARKS.md (medians of 3 runs each), 1 KiB records:
#  (a) produce throughput: kafka_produce (kafka/kafka_produce.cpp, librdkafka, acks=all,
#      linger.ms 5, batch.size 1 MB, no compression) to `millrace serve`'s Kafka listener, a topic
#      of 2 partitions fsynced every 50 ms; peers: NATS JetStream (file storage, acked publishes,
#      nats.js with 512 in flight, and un-acked publishes timed until stored, which is not bound
#      by the node client: bench/log/nats_publish.mjs) and Redis XADD (AOF everysec,
#      redis-benchmark -c 32 -P 100);
#  (b) end-to-end latency producer -> consumer at RATE records/s (default 10000), p50/p99:
#      kafka_produce latency (linger.ms 0, consumer thread in the same process); peer NATS
#      JetStream (kafka/nats_latency.mjs: acked publishes, ordered consumer). Redis has no
#      latency client here.
# Writes $MILLRACE_BENCH_DIR/part_kafka.json (default <build>/bench-results) for
# bench/summarize.mjs. RECORDS (default 500000), RATE, LAT_SECONDS (default 10) override.
# Usage: bench/kafka/produce.sh <release-build-dir>
set -euo pipefail
build=$(cd "${1:-build/release}" && pwd)
records=${RECORDS:-500000}
rate=${RATE:-10000}
lat_seconds=${LAT_SECONDS:-10}
bytes=1024
results=${MILLRACE_BENCH_DIR:-$build/bench-results}
mkdir -p "$results"
here=$(cd "$(dirname "$0")" && pwd)
millrace=$build/src/cli/millrace
client=$build/bench/kafka_produce
work=$(mktemp -d "$build/bench-kafka.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
join() { local IFS=,; echo "$*"; }
median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
json_field() { grep -o "\"$1\":[0-9.]*" | head -1 | cut -d: -f2; }
free_port() { node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
wait_port() { for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }
stop_last() { kill -TERM "${pids[-1]}" 2>/dev/null || true; wait "${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'; }

machine="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), disk: $(df --output=source "$build" | tail -1)"
echo "machine: $machine"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

echo "== Kafka protocol: millrace serve (listen.kafka), $records records of $bytes B per run"
http_port=$(free_port); kafka_port=$(free_port)
mkdir -p "$work/project"
cat > "$work/project/millrace.yaml" <<YAML
name: kbench
listen:
  http: 127.0.0.1:$http_port
  kafka: 127.0.0.1:$kafka_port
kafka:
  initial_rebalance_delay: 0s
topics:
  lat: { partitions: 1, fsync: 50ms }
  t1: { partitions: 2, fsync: 50ms }
  t2: { partitions: 2, fsync: 50ms }
  t3: { partitions: 2, fsync: 50ms }
YAML
"$millrace" serve "$work/project" 2>"$work/serve.log" &
pids+=($!)
wait_port "$kafka_port"
ours=()
for run in 1 2 3; do
  out=$("$client" throughput "127.0.0.1:$kafka_port" "t$run" "$records" "$bytes")
  ours+=("$(json_field records_per_s <<<"$out")")
  echo "run $run: millrace $out"
done
out=$("$client" latency "127.0.0.1:$kafka_port" lat "$rate" "$lat_seconds" "$bytes")
echo "latency at $rate/s: millrace $out"
ours_latency=$out
stop_last

nats_port=$(free_port)
nats-server -js -sd "$work/nats" -a 127.0.0.1 -p "$nats_port" 2>"$work/nats.log" &
pids+=($!)
wait_port "$nats_port"
head -c $((bytes - 1)) /dev/zero | tr '\0' x > "$work/record.txt"; echo >> "$work/record.txt"
# nats_publish.mjs runs for a time, not a count: about as long as our median run took.
nats_seconds=$(awk -v r="$records" -v m="$(printf '%s\n' "${ours[@]}" | median)" 'BEGIN {s = r / m; printf "%d", s < 5 ? 5 : s + 0.5}')
nats=(); nats_stored=()
for run in 1 2 3; do
  out=$(cd "$here/../log" && node nats_publish.mjs "$work/record.txt" "$nats_port" "$nats_seconds" 512 acked)
  nats+=("$(json_field events_per_s <<<"$out")")
  echo "run $run: NATS JetStream (file, acked, 512 in flight) $out"
  out=$(cd "$here/../log" && node nats_publish.mjs "$work/record.txt" "$nats_port" "$nats_seconds" 512 stored)
  nats_stored+=("$(json_field events_per_s <<<"$out")")
  echo "run $run: NATS JetStream (file, un-acked publishes until stored) $out"
done
out=$(cd "$here" && node nats_latency.mjs "$nats_port" "$rate" "$lat_seconds" "$bytes")
echo "latency at $rate/s: NATS JetStream $out"
nats_latency=$out
stop_last

redis_port=$(free_port)
mkdir -p "$work/redis"
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$work/redis" --appendonly yes \
  --appendfsync everysec --save '' >"$work/redis.log" 2>&1 &
pids+=($!)
wait_port "$redis_port"
value=$(head -c "$bytes" /dev/zero | tr '\0' x)
redis=()
for run in 1 2 3; do
  out=$(redis-benchmark -p "$redis_port" -c 32 -P 100 -n "$records" -q XADD "bench$run" '*' v "$value" 2>&1 | tr '\r' '\n' | grep -a 'requests per second' | tail -1)
  rate_r=$(grep -o '[0-9.]* requests per second' <<<"$out" | cut -d' ' -f1)
  redis+=("${rate_r%.*}")
  echo "run $run: Redis XADD (AOF everysec, -c 32 -P 100) ${rate_r%.*} records/s"
done
stop_last

m=$(printf '%s\n' "${ours[@]}" | median)
n=$(printf '%s\n' "${nats[@]}" | median)
r=$(printf '%s\n' "${redis[@]}" | median)
echo "median records/s: millrace $m, NATS JetStream $n, Redis XADD $r; ratios $(awk -v a="$m" -v b="$n" -v c="$r" 'BEGIN {printf "%.2f (NATS), %.2f (Redis)", a / b, a / c}')"
printf '{"part":"kafka","machine":"%s","load_before":"%s","load_after":"%s","record_bytes":%s,"records":%s,"rate":%s,"millrace_records_s":[%s],"nats_records_s":[%s],"nats_stored_records_s":[%s],"redis_records_s":[%s],"millrace_latency":%s,"nats_latency":%s}\n' \
  "$machine" "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)" "$bytes" "$records" "$rate" \
  "$(join "${ours[@]}")" "$(join "${nats[@]}")" "$(join "${nats_stored[@]}")" "$(join "${redis[@]}")" "$ours_latency" "$nats_latency" \
  > "$results/part_kafka.json"
