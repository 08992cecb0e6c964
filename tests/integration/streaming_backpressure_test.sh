#!/usr/bin/env bash
# Backpressure: a windowed aggregate at parallelism 2 whose sink is slowed by the test hook
# MILLRACE_TEST_SINK_DELAY_MS (every batch the keyed stage hands the sink waits first) still
# counts every generated order once, and its queues never hold more than their capacity. Sinks
# run on the pipeline's thread, the one that polls the sources, so a slow sink slows the polling
# itself; the subtasks' output waits in a bounded reply queue, and a subtask that falls behind
# fills its bounded input queue, which blocks that thread too (KeyedStageTest covers that
# case). The run prints the peak queue fill.
source "$(dirname "$0")/lib/common.sh"

project=$WORK/bp
mkdir -p "$project/pipelines"
printf 'name: bp\ndata_dir: ./data\ninclude: [pipelines/*.yaml]\n' >"$project/millrace.yaml"
cat >"$project/pipelines/slow.yaml" <<'YAML'
name: slow
mode: streaming
parallelism: 2
sources:
  orders:
    generator: { kind: orders, rate: 10000000/s, seed: 3, limit: 40000 }
    event_time: timestamp
    watermark_delay: 1ms
views:
  per_user: |
    SELECT user_id, window_start, window_end, count(*) AS orders
    FROM tumble(orders, timestamp, INTERVAL '1 millisecond') GROUP BY user_id, window_start, window_end
sinks:
  - { from: per_user, lake: { table: per_user } }
YAML
out=$(MILLRACE_TEST_SINK_DELAY_MS=3 "$MILLRACE" run "$project" slow 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "the run with a slow sink ends by itself"
peak=$(grep -oE 'queue peak [0-9]+ of [0-9]+' <<<"$out" | head -1)
capacity=$(awk '{print $5}' <<<"$peak")
filled=$(awk '{print $3}' <<<"$peak")
expect_eq "$capacity" "8" "each subtask queue holds 8 batches"
if [ -n "$filled" ] && [ "$filled" -le "$capacity" ]; then
  pass "the queues never held more than their capacity ($peak)"
else
  fail "queue fill beyond capacity or not reported: [$peak] in $out"
fi
read_rows=$(grep -oE '[0-9]+ rows read' <<<"$out" | cut -d' ' -f1)
total=$("$MILLRACE" query "SELECT sum(orders) AS n FROM per_user" -p "$project" | sed -n 3p | tr -d ' ')
expect_eq "$total" "$read_rows" "every order is counted once despite the slow sink"
finish
