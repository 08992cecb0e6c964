#!/usr/bin/env bash
# A generator-fed windowed pipeline resumes after kill -9 as a topic-fed one does: the restarted
# run restores the window state of the checkpoint and the generator goes on from the position
# saved with it (the same records, the same event times), so the lake table ends identical to
# a crash-free run's. Orders (bad ones rejected to the dead letters) and Nexmark bids feed two
# windowed aggregates; the orders' `start:` fixes their event-time origin (else the time the
# generator first opened, saved with its position), so both copies make the same event times,
# and `paced: false` makes the records as fast as the pipeline takes them. The crashed copy
# dies at named points of the checkpoint protocol (MILLRACE_TEST_CRASH_AT, which exits as
# kill -9 would) and by real kill -9 after random delays, restarting each time.
# Usage: $0 <millrace> [kills] [seed]
source "$(dirname "$0")/lib/common.sh"
# KEEP_WORK=1 keeps the two copies for a look after a failure.
trap '[ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"' EXIT

KILLS=${2:-4}
SEED=${3:-$RANDOM}
echo "# kills=$KILLS seed=$SEED"
RANDOM=$SEED

make_project() {  # <dir>
  mkdir -p "$1/pipelines"
  printf 'name: gr\ndata_dir: ./data\ninclude: [pipelines/*.yaml]\n' >"$1/millrace.yaml"
  cat >"$1/pipelines/gen_live.yaml" <<'YAML'
name: gen_live
mode: streaming
sources:
  orders:
    generator: { kind: orders, rate: 1000/s, paced: false, seed: 11, bad_fraction: 0.01, limit: 300000,
                 start: 2026-11-23T10:30:00Z }
    event_time: timestamp
    watermark_delay: 1s
  bid:
    generator: { kind: nexmark, events: bid, rate: 2000/s, paced: false, seed: 5, limit: 300000 }
    event_time: date_time
    watermark_delay: 100ms
views:
  per_city: |
    SELECT city, window_start, window_end, count(*) AS orders, round(sum(amount), 2) AS revenue
    FROM tumble(orders, timestamp, INTERVAL '10 seconds') GROUP BY city, window_start, window_end
  per_auction: |
    SELECT auction, window_start, window_end, count(*) AS bids, max(price) AS top
    FROM tumble(bid, date_time, INTERVAL '10 seconds') GROUP BY auction, window_start, window_end
sinks:
  - { from: per_city, lake: { table: per_city } }
  - { from: per_auction, lake: { table: per_auction } }
YAML
}

make_project "$WORK/reference"
make_project "$WORK/crashed"
run_args=(--commit-interval 50ms)
out=$("$MILLRACE" run "$WORK/reference" gen_live "${run_args[@]}" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "the crash-free run ends by itself at the generators' limits"
reference_rows=$(grep -oE '[0-9]+ rows read' <<<"$out" | cut -d' ' -f1 | paste -sd+ | bc)

# Before a checkpoint holds anything, `pipeline plan` says the window state starts empty; after
# the first crash it says the state is kept (a generator's plan is checkpointed like a topic's).
plan=$("$MILLRACE" pipeline plan "$WORK/crashed" gen_live 2>&1)
expect_contains "$plan" "no checkpoint yet" "no checkpoint before the first run"

points=(after-poll checkpoint-state-written sinks-pre-committed checkpoint-complete sink-committed
        checkpoint-end)
killed=0
attempts=0
while [ "$killed" -lt "$KILLS" ] && [ "$attempts" -lt $((KILLS * 8)) ]; do
  attempts=$((attempts + 1))
  # The first always dies right after a checkpoint with window state completed.
  case $attempts in
    1) point=checkpoint-complete:3 ;;
    *) point=${points[$((RANDOM % ${#points[@]}))]}:$((RANDOM % 4 + 1)) ;;
  esac
  crash_or_kill "$attempts" "$point" 200 800 "$WORK/attempt.log" \
    "$MILLRACE" run "$WORK/crashed" gen_live "${run_args[@]}"
  if [ "$rc" -eq 137 ]; then
    killed=$((killed + 1))
    echo "# killed $how"
    if [ "$killed" -eq 1 ]; then
      plan=$("$MILLRACE" pipeline plan "$WORK/crashed" gen_live 2>&1)
      expect_contains "$plan" "same view, same plan: restored" \
        "after a crash the generator plan's window state is kept"
      [[ "$plan" != *afresh* ]] || fail "nothing starts afresh: $plan"
    fi
  elif [ "$rc" -ne 0 ]; then
    fail "a restarted run failed ($how, exit $rc): $(cat "$WORK/attempt.log")"
    break
  else
    break  # the run got to the end before it was killed
  fi
done
[ "$killed" -ge 1 ] || fail "the crashed copy was never killed"
out=$("$MILLRACE" run "$WORK/crashed" gen_live "${run_args[@]}" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "the last restart runs to the end"
expect_contains "$out" "restored checkpoint" "the last restart goes on from a checkpoint"
# The last restart goes on from the saved positions: it does not make every record again.
last_rows=$(grep -oE '[0-9]+ rows read' <<<"$out" | cut -d' ' -f1 | paste -sd+ | bc)
[ "${last_rows:-0}" -lt "$reference_rows" ] ||
  fail "the last restart read $last_rows rows, the whole run $reference_rows: it started afresh"
grep -q '^source orders offsets [0-9]* watermark .* origin ' \
  "$WORK/crashed/data/checkpoints/gen_live/$(ls "$WORK/crashed/data/checkpoints/gen_live" |
    grep -E '^[0-9]+$' | sort -n | tail -1)/_metadata" ||
  fail "the checkpoint's metadata holds the generator's position and origin"

for table in per_city per_auction; do
  for copy in reference crashed; do
    "$MILLRACE" query -p "$WORK/$copy" -f csv \
      "SELECT * FROM $table ORDER BY 1, window_start" >"$WORK/$copy.$table.csv"
  done
  lines=$(wc -l <"$WORK/reference.$table.csv" | tr -d ' ')
  [ "$lines" -gt 100 ] || fail "$table: the reference has only $lines lines"
  expect_eq "$(cmp -s "$WORK/reference.$table.csv" "$WORK/crashed.$table.csv" && echo same)" \
    "same" "$table: identical rows after $killed crashes ($lines lines)"
done
finish
