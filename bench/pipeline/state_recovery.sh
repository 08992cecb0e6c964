#!/usr/bin/env bash
# Operator state and recovery figures (part of `make bench`; results in part_state.json):
#   - checkpoint duration and size for 1M keys of window state: a one-hour tumble window over
#     1,000,000 distinct keys, all open when the run stops with a savepoint (the stop's
#     checkpoint holds every window);
#   - a one-hour hop window (15-minute slide, so every key is in 4 open windows) over the same
#     1M keys under `state_limit: 6GB`: the state the run reports (peak bytes, keys) and its
#     checkpoint;
#   - time from restart to caught up after a kill -9: a per-key one-minute tumble reads a
#     backlog of 1M records with checkpoints every second, is killed (SIGKILL) after its second
#     checkpoint, and is restarted; caught up = the restarted run has read every record
#     (its wall time minus the 500 ms idle wait that ends it).
# Each is repeated (REPEAT, default 3); summarize.mjs shows the median and the spread.
# Usage: bench/pipeline/state_recovery.sh <millrace> [keys]
set -euo pipefail
millrace=$(realpath "${1:-build/release/src/cli/millrace}")
keys=${2:-1000000}
repeat=${REPEAT:-3}
out=${MILLRACE_BENCH_DIR:-/tmp}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
load_before=$(cut -d' ' -f1 /proc/loadavg)

/usr/bin/python3 - "$work/tx.ndjson" "$keys" <<'PY'
import sys
path, keys = sys.argv[1], int(sys.argv[2])
base = 1764979200  # an hour boundary; events over the next 10 minutes keep every window open
with open(path, "w") as out:
    for i in range(keys):
        ms = i * 600000 // keys
        out.write('{"key":"k-%d","amount":%d.5,"ts":%d}\n' % (i, i % 1000, (base * 1000 + ms)))
PY

# A project template with the records produced once; each repetition runs on a copy.
make_template() {  # <name> <view SQL> [extra pipeline lines]
  local dir=$work/$1
  mkdir -p "$dir/pipelines"
  printf 'name: %s\ndata_dir: ./data\ninclude: [pipelines/*.yaml]\n' "$1" >"$dir/millrace.yaml"
  cat >"$dir/pipelines/live.yaml" <<YAML
name: live
mode: streaming
$3
sources:
  tx:
    topic: tx
    schema: { key: string not null, amount: double not null, ts: timestamp not null }
    event_time: ts
    watermark_delay: 5s
views:
  per_key: $2
sinks:
  - { from: per_key, topic: per_key_out }
YAML
  "$millrace" topic create tx -p "$dir" --partitions 1 >/dev/null
  "$millrace" topic produce tx -p "$dir" -i "$work/tx.ndjson" >/dev/null
}
field() {  # <report> <regex with one group>
  sed -nE "s/$2/\1/p" <<<"$1" | head -1
}

make_template tumble "SELECT key, window_start, window_end, count(*) AS n, sum(amount) AS total FROM tumble(tx, ts, INTERVAL '1 hour') GROUP BY key, window_start, window_end" ""
make_template hop "SELECT key, window_start, window_end, count(*) AS n, sum(amount) AS total FROM hop(tx, ts, INTERVAL '15 minutes', INTERVAL '1 hour') GROUP BY key, window_start, window_end" "state_limit: 6GB"
make_template restart "SELECT key, window_start, window_end, count(*) AS n FROM tumble(tx, ts, INTERVAL '1 minute') GROUP BY key, window_start, window_end" "checkpoint_interval: 1s"

json_list() { local IFS=,; echo "[$*]"; }
tumble_ms=() tumble_bytes=() tumble_state=() tumble_keys=()
hop_ms=() hop_bytes=() hop_state=() hop_keys=() hop_limit=0
restart_s=() restart_rows=() full_s=()
for rep in $(seq 1 "$repeat"); do
  for kind in tumble hop; do
    rm -rf "$work/run"
    cp -r "$work/$kind" "$work/run"
    report=$("$millrace" run "$work/run" live --until-idle --idle 500ms --savepoint "$work/run/sp")
    ms=$(field "$report" '.*last checkpoint: ([0-9.]+) ms.*')
    bytes=$(field "$report" '.*last checkpoint: .* \(([0-9]+) bytes\) of operator state.*')
    state=$(field "$report" '.*state: peak .* \(([0-9]+) bytes\) of the .*')
    nkeys=$(field "$report" '.*, ([0-9]+) keys at most.*')
    echo "$kind rep $rep: checkpoint ${ms} ms, ${bytes} bytes; state peak ${state} bytes, ${nkeys} keys"
    if [ "$kind" = tumble ]; then
      tumble_ms+=("$ms") tumble_bytes+=("$bytes") tumble_state+=("$state") tumble_keys+=("$nkeys")
    else
      hop_ms+=("$ms") hop_bytes+=("$bytes") hop_state+=("$state") hop_keys+=("$nkeys")
      hop_limit=6442450944
    fi
  done
  # Uninterrupted, for reference: the whole backlog in one run.
  rm -rf "$work/run"
  cp -r "$work/restart" "$work/run"
  start=$(date +%s.%N)
  "$millrace" run "$work/run" live --until-idle --idle 500ms >/dev/null
  full_s+=("$(echo "$(date +%s.%N) - $start - 0.5" | bc)")
  # Killed after its second complete checkpoint, then restarted.
  rm -rf "$work/run"
  cp -r "$work/restart" "$work/run"
  "$millrace" run "$work/run" live --until-idle --idle 500ms >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 1 600); do
    [ "$(find "$work/run/data/checkpoints" -name _metadata 2>/dev/null | wc -l)" -ge 2 ] && break
    sleep 0.05
  done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  start=$(date +%s.%N)
  report=$("$millrace" run "$work/run" live --until-idle --idle 500ms)
  seconds=$(echo "$(date +%s.%N) - $start - 0.5" | bc)
  rows=$(field "$report" '.*source tx +([0-9]+) rows read.*')
  echo "restart rep $rep: caught up in ${seconds} s after a kill -9 (${rows} records since the checkpoint; the whole backlog uninterrupted: ${full_s[-1]} s)"
  restart_s+=("$seconds") restart_rows+=("$rows")
done

cat >"$out/part_state.json" <<JSON
{"keys": $keys, "repeat": $repeat,
 "tumble": {"checkpoint_ms": $(json_list "${tumble_ms[@]}"), "checkpoint_bytes": $(json_list "${tumble_bytes[@]}"),
            "state_bytes": $(json_list "${tumble_state[@]}"), "state_keys": $(json_list "${tumble_keys[@]}")},
 "hop": {"checkpoint_ms": $(json_list "${hop_ms[@]}"), "checkpoint_bytes": $(json_list "${hop_bytes[@]}"),
         "state_bytes": $(json_list "${hop_state[@]}"), "state_keys": $(json_list "${hop_keys[@]}"),
         "limit_bytes": $hop_limit},
 "restart": {"caught_up_s": $(json_list "${restart_s[@]}"), "records": $(json_list "${restart_rows[@]}"),
             "uninterrupted_s": $(json_list "${full_s[@]}")},
 "load_before": "$load_before", "load_after": "$(cut -d' ' -f1 /proc/loadavg)"}
JSON
echo "written $out/part_state.json"
