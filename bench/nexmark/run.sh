#!/usr/bin/env bash
# Nexmark (bench/nexmark/*.sql) through `millrace bench nexmark`: every query at P=1 without
# checkpoints mid-run and with a checkpoint every second, alternately (3 repetitions each), and
# at P=2 once. Leaves part_nexmark.json in $MILLRACE_BENCH_DIR for bench/summarize.mjs.
# Usage: bench/nexmark/run.sh <release-build-dir> [events]
set -euo pipefail
build=${1:-build/release}
events=${2:-${NEXMARK_EVENTS:-10000000}}
root=$(cd "$(dirname "$0")/../.." && pwd)
millrace=$(cd "$build/src/cli" && pwd)/millrace
out=${MILLRACE_BENCH_DIR:-$build/bench-results}
mkdir -p "$out"
raw=$out/nexmark_runs.jsonl
rm -f "$raw"
echo "== nexmark, $events events ($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
cd "$root"
# Interleaved (without, with, without, ...): this machine's speed drifts over minutes, and
# the ratio of the two is the figure.
for rep in 1 2 3; do
  "$millrace" bench nexmark --query all --events "$events" --json "$raw"
  "$millrace" bench nexmark --query all --events "$events" --checkpoint-interval 1s --json "$raw"
done
"$millrace" bench nexmark --query all --events "$events" --parallelism 2 --json "$raw"
node -e '
const fs = require("fs");
const [raw, dest, events] = process.argv.slice(1);
const part = { events: Number(events), queries: {} };
for (const line of fs.readFileSync(raw, "utf8").split("\n").filter(Boolean)) {
  const r = JSON.parse(line);
  const mode = r.checkpoint_interval ? `checkpoint_${r.checkpoint_interval}` : `p${r.parallelism}`;
  const q = (part.queries[r.query] ??= {});
  if (r.error) { q.error = r.error; continue; }
  const m = (q[mode] ??= { k_events_s_core_cpu: [], k_events_s_core_wall: [], k_events_s: [], p99_ms: [],
                           checkpoints: [], longest_checkpoint_ms: [], largest_checkpoint_state_bytes: [] });
  m.k_events_s_core_cpu.push(r.k_events_s_core_cpu);
  m.k_events_s_core_wall.push(r.k_events_s_core_wall);
  m.k_events_s.push(r.k_events_s);
  m.p99_ms.push(r.p99_ms);
  m.checkpoints.push(r.checkpoints);
  m.longest_checkpoint_ms.push(r.longest_checkpoint_ms);
  m.largest_checkpoint_state_bytes.push(r.largest_checkpoint_state_bytes);
}
fs.writeFileSync(dest, JSON.stringify(part, null, 1));
' "$raw" "$out/part_nexmark.json" "$events"
echo "nexmark figures -> $out/part_nexmark.json"
