#!/usr/bin/env bash
# Incremental checkpoints of a plan whose state lies under a join (no keyed stage): Nexmark's
# q7 (the bids joined back with their window's highest price) and q5 (the hop windows' counts
# per auction joined with their maximum) over generated bids. A checkpoint writes the whole
# state once, then files of changes (`sink-<n>.<id>.changes`, listed as `state … changes` in
# `_metadata`) with the older files hard-linked; a restore lays the changes over the whole
# state. The crashed copy dies at named checkpoint points and by kill -9 after random delays;
# its lake tables must equal a crash-free run's.
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
  printf 'name: inc\ndata_dir: ./data\ninclude: [pipelines/*.yaml]\n' >"$1/millrace.yaml"
  cat >"$1/pipelines/joins.yaml" <<'YAML'
name: joins
mode: streaming
sources:
  bid:
    generator: { kind: nexmark, events: bid, rate: 2000/s, paced: false, seed: 5, limit: 200000 }
    event_time: date_time
    watermark_delay: 100ms
views:
  highest: |
    SELECT B.auction, B.price, B.bidder, B.date_time
    FROM bid AS B
    JOIN (
      SELECT max(price) AS maxprice, window_end
      FROM tumble(bid, date_time, INTERVAL '10 seconds') GROUP BY window_start, window_end
    ) AS B1 ON B.price = B1.maxprice
      AND B.date_time BETWEEN B1.window_end - INTERVAL '10 seconds' AND B1.window_end
  hot: |
    SELECT AuctionBids.auction, AuctionBids.num, AuctionBids.window_end
    FROM (
      SELECT auction, count(*) AS num, window_start, window_end
      FROM hop(bid, date_time, INTERVAL '2 seconds', INTERVAL '10 seconds')
      GROUP BY auction, window_start, window_end
    ) AS AuctionBids
    JOIN (
      SELECT max(CountBids.num) AS maxn, CountBids.window_start, CountBids.window_end
      FROM (
        SELECT count(*) AS num, window_start, window_end
        FROM hop(bid, date_time, INTERVAL '2 seconds', INTERVAL '10 seconds')
        GROUP BY auction, window_start, window_end
      ) AS CountBids
      GROUP BY CountBids.window_start, CountBids.window_end
    ) AS MaxBids
    ON AuctionBids.window_start = MaxBids.window_start
      AND AuctionBids.window_end = MaxBids.window_end
      AND AuctionBids.num >= MaxBids.maxn
sinks:
  - { from: highest, lake: { table: highest } }
  - { from: hot, lake: { table: hot } }
YAML
}

make_project "$WORK/reference"
make_project "$WORK/crashed"
run_args=(--commit-interval 20ms)
out=$("$MILLRACE" run "$WORK/reference" joins "${run_args[@]}" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "the crash-free run ends by itself at the generator's limit"

checkpoints="$WORK/crashed/data/checkpoints/joins"
points=(checkpoint-state-written sinks-pre-committed checkpoint-complete sink-committed)
killed=0
attempts=0
saw_changes=0
while [ "$killed" -lt "$KILLS" ] && [ "$attempts" -lt $((KILLS * 8)) ]; do
  attempts=$((attempts + 1))
  # The first dies once a few checkpoints of changes follow the whole state.
  case $attempts in
    1) point=checkpoint-complete:6 ;;
    *) point=${points[$((RANDOM % ${#points[@]}))]}:$((RANDOM % 6 + 2)) ;;
  esac
  crash_or_kill "$attempts" "$point" 200 700 "$WORK/attempt.log" \
    "$MILLRACE" run "$WORK/crashed" joins "${run_args[@]}"
  # What the newest complete checkpoint holds: the whole state and the changes laid over it.
  newest=$(ls "$checkpoints" 2>/dev/null | grep -E '^[0-9]+$' | sort -n | tail -1)
  if [ -n "$newest" ] && grep -q '^state .* changes$' "$checkpoints/$newest/_metadata" 2>/dev/null; then
    saw_changes=1
    for file in $(grep '^state ' "$checkpoints/$newest/_metadata" | cut -d' ' -f3); do
      [ -f "$checkpoints/$newest/$file" ] ||
        fail "checkpoint $newest lists $file but does not hold it"
    done
  fi
  if [ "$rc" -eq 137 ]; then
    killed=$((killed + 1))
    echo "# killed $how"
  elif [ "$rc" -ne 0 ]; then
    fail "a restarted run failed ($how, exit $rc): $(cat "$WORK/attempt.log")"
    break
  else
    break  # the run got to the end before it was killed
  fi
done
[ "$killed" -ge 1 ] || fail "the crashed copy was never killed"
expect_eq "$saw_changes" "1" "a checkpoint held the plans' state as a whole file and changes"
out=$("$MILLRACE" run "$WORK/crashed" joins "${run_args[@]}" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "the last restart runs to the end"
expect_contains "$out" "restored checkpoint" "the last restart goes on from a checkpoint"

for table in highest hot; do
  for copy in reference crashed; do
    "$MILLRACE" query -p "$WORK/$copy" -f csv \
      "SELECT * FROM $table ORDER BY 1, 2, 3" >"$WORK/$copy.$table.csv"
  done
  lines=$(wc -l <"$WORK/reference.$table.csv" | tr -d ' ')
  [ "$lines" -gt 10 ] || fail "$table: the reference has only $lines lines"
  expect_eq "$(cmp -s "$WORK/reference.$table.csv" "$WORK/crashed.$table.csv" && echo same)" \
    "same" "$table: identical rows after $killed crashes ($lines lines)"
done
finish
