#!/usr/bin/env bash
# Windowed aggregate throughput at parallelism 1 and 2: a streaming pipeline over a
# `generator: { kind: orders }` source (paced far above what one run can take, so the run is
# CPU-bound) aggregates per restaurant and 100 ms tumbling window (count, sum, distinct users,
# p95 amount) into a lake table; events/s = generated records / wall time of `millrace run`
# (start-up and the final commit included). Median of REPS runs per parallelism. Writes
# $MILLRACE_BENCH_DIR/part_window_parallel.json when that is set.
# Usage: bench/pipeline/window_parallel.sh <millrace> [records] [reps]
set -euo pipefail
MILLRACE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
RECORDS=${2:-1000000}
REPS=${3:-3}
work=$(mktemp -d /tmp/millrace-window-parallel.XXXXXX)
trap 'rm -rf "$work"' EXIT

project() {  # <dir> <parallelism>
  mkdir -p "$1/pipelines"
  printf 'name: wp\ndata_dir: ./data\ninclude: [pipelines/*.yaml]\n' >"$1/millrace.yaml"
  cat >"$1/pipelines/per_restaurant.yaml" <<YAML
name: per_restaurant
mode: streaming
parallelism: $2
sources:
  orders:
    generator: { kind: orders, rate: 50000000/s, seed: 7, limit: $RECORDS }
    event_time: timestamp
    watermark_delay: 10ms
views:
  per_window: |
    SELECT restaurant_id, window_start, window_end, count(*) AS orders,
           round(sum(amount), 2) AS revenue, approx_count_distinct(user_id) AS users,
           approx_percentile(amount, 0.95) AS p95
    FROM tumble(orders, timestamp, INTERVAL '100 milliseconds')
    GROUP BY restaurant_id, window_start, window_end
sinks:
  - { from: per_window, lake: { table: per_window } }
YAML
}

declare -A rates
for parallelism in 1 2; do
  values=()
  for rep in $(seq "$REPS"); do
    dir=$work/p$parallelism-$rep
    project "$dir" "$parallelism"
    start=$(date +%s.%N)
    out=$("$MILLRACE" run "$dir" per_restaurant 2>&1)
    end=$(date +%s.%N)
    grep -q "keyed stage per_window: parallelism $parallelism" <<<"$out" ||
      { echo "unexpected output: $out" >&2; exit 1; }
    values+=("$(/usr/bin/python3 -c "print(round($RECORDS / ($end - $start)))")")
    rm -rf "$dir"
  done
  rates[$parallelism]=$(printf '%s\n' "${values[@]}" | sort -n | sed -n "$(((REPS + 1) / 2))p")
  echo "parallelism $parallelism: ${values[*]} events/s (median ${rates[$parallelism]})"
done
speedup=$(/usr/bin/python3 -c "print(round(${rates[2]} / ${rates[1]}, 2))")
echo "window aggregate, $RECORDS generated orders, $(nproc) cores: P=1 ${rates[1]} events/s," \
  "P=2 ${rates[2]} events/s, speed-up $speedup"
if [ -n "${MILLRACE_BENCH_DIR:-}" ]; then
  printf '{"records": %s, "cores": %s, "p1_events_per_second": %s, "p2_events_per_second": %s, "speedup": %s}\n' \
    "$RECORDS" "$(nproc)" "${rates[1]}" "${rates[2]}" "$speedup" \
    >"$MILLRACE_BENCH_DIR/part_window_parallel.json"
fi
