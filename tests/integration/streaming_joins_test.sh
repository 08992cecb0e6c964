#!/usr/bin/env bash
# Stream-stream joins end to end: auctions and bids, out of order with a known disorder (and some
# far too late), produced to two topics; a `mode: streaming` pipeline joins them (an interval
# join bounded by another column of the row, as Nexmark q4 does, and a window join) and runs
# with --until-idle. Its results must equal a batch pipeline's join over the same records minus
# the ones it reported late. validate refuses a join of two streams without a time bound (at the
# sink's file:line:column) unless the pipeline sets state_ttl.
source "$(dirname "$0")/lib/common.sh"

project=$WORK/sj
mkdir -p "$project/pipelines" "$project/expected"
printf 'name: sj\ndata_dir: ./data\ninclude: [pipelines/*.yaml]\n' >"$project/millrace.yaml"
views='views:
  won: |
    SELECT a.id, a.seller, b.bidder, b.price, b.ts
    FROM auctions a JOIN bids b
      ON a.id = b.auction AND b.ts BETWEEN a.ts AND a.expires
  paired: |
    SELECT x.seller, x.window_start, x.window_end, x.listed, y.bids
    FROM (SELECT seller, window_start, window_end, count(*) AS listed
          FROM tumble(auctions, ts, INTERVAL '"'"'1 minute'"'"')
          GROUP BY seller, window_start, window_end) x
    JOIN (SELECT bidder AS seller, window_start, window_end, count(*) AS bids
          FROM tumble(bids, ts, INTERVAL '"'"'1 minute'"'"')
          GROUP BY bidder, window_start, window_end) y
      ON x.seller = y.seller AND x.window_start = y.window_start AND x.window_end = y.window_end'
auctions='{ id: int64 not null, seller: int64 not null, ts: timestamp not null, expires: timestamp not null }'
bids='{ bid_id: int64 not null, auction: int64 not null, bidder: int64 not null, price: int64 not null, ts: timestamp not null }'
cat >"$project/pipelines/live.yaml" <<YAML
name: live
mode: streaming
sources:
  auctions:
    topic: auctions
    schema: $auctions
    event_time: ts
    watermark_delay: 30s
    idle_timeout: 1s
  bids:
    topic: bids
    schema: $bids
    event_time: ts
    watermark_delay: 30s
    idle_timeout: 1s
$views
sinks:
  - { from: won, file: { path: out/live_won.csv, format: csv } }
  - { from: paired, file: { path: out/live_paired.csv, format: csv } }
  - { from: dead_letter, file: { path: out/live_dead.ndjson } }
YAML
cat >"$project/pipelines/check.yaml" <<YAML
name: check
mode: batch
sources:
  auctions:
    file: { path: expected/auctions.ndjson, format: ndjson }
    schema: $auctions
  bids:
    file: { path: expected/bids.ndjson, format: ndjson }
    schema: $bids
$views
sinks:
  - { from: won, file: { path: out/batch_won.csv, format: csv } }
  - { from: paired, file: { path: out/batch_paired.csv, format: csv } }
YAML

# 600 auctions and 3000 bids over 20 minutes, in arrival order: each arrives up to 20 s after
# its event time (within the 30 s watermark delay), every 40th 5 minutes after it (late).
/usr/bin/python3 - "$WORK" <<'PY'
import datetime, json, random, sys
rnd = random.Random(11)
base = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc).timestamp()
def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
auctions, bids = [], []
starts = {}
for i in range(600):
    t = base + i * 2 + rnd.random() * 2
    starts[1000 + i] = t
    arrive = t + (300 if i % 40 == 7 else rnd.random() * 20)
    auctions.append((arrive, {"id": 1000 + i, "seller": rnd.randrange(20), "ts": iso(t),
                              "expires": iso(t + rnd.randrange(10, 120))}))
for i in range(3000):
    t = base + i * 0.4 + rnd.random() * 0.4
    auction = 1000 + max(0, min(599, int((t - base) / 2) - rnd.randrange(0, 40)))
    arrive = t + (300 if i % 40 == 13 else rnd.random() * 20)
    bids.append((arrive, {"bid_id": i, "auction": auction, "bidder": rnd.randrange(20),
                          "price": rnd.randrange(1, 10000), "ts": iso(t)}))
for name, rows in (("auctions", auctions), ("bids", bids)):
    rows.sort(key=lambda e: e[0])
    with open(f"{sys.argv[1]}/{name}.ndjson", "w") as out:
        for _, row in rows:
            out.write(json.dumps(row) + "\n")
PY
for topic in auctions bids; do
  "$MILLRACE" topic create $topic -p "$project" --partitions 2 >/dev/null
  "$MILLRACE" topic produce $topic -p "$project" -i "$WORK/$topic.ndjson" >/dev/null
done

out=$("$MILLRACE" run "$project" live --until-idle --idle 1s) && rc=0 || rc=$?
expect_eq "$rc" "0" "the streaming join pipeline runs until idle and exits 0"
late=$(grep -c '"reason":"late"' "$project/out/live_dead.ndjson" || true)
if [ "$late" -ge 1 ] && [ "$late" -le 90 ]; then
  pass "records delayed past the watermark are late ($late of the 90 delayed 5 minutes)"
else
  fail "expected 1..90 late records, got [$late]"
fi
# The batch oracle: the same records minus the late ones, through the same views.
/usr/bin/python3 - "$WORK" "$project/out/live_dead.ndjson" "$project/expected" <<'PY'
import json, sys
late_auctions, late_bids = set(), set()
for line in open(sys.argv[2]):
    record = json.loads(line)
    if record.get("reason") != "late":
        continue
    row = record["row"]
    (late_bids if "bid_id" in row else late_auctions).add(row.get("bid_id", row.get("id")))
for name, key, late in (("auctions", "id", late_auctions), ("bids", "bid_id", late_bids)):
    with open(f"{sys.argv[3]}/{name}.ndjson", "w") as out:
        for line in open(f"{sys.argv[1]}/{name}.ndjson"):
            if json.loads(line)[key] not in late:
                out.write(line)
PY
"$MILLRACE" run "$project" check >/dev/null
for view in won paired; do
  head -1 "$project/out/live_$view.csv" >"$WORK/live_$view.sorted"
  tail -n +2 "$project/out/live_$view.csv" | sort >>"$WORK/live_$view.sorted"
  head -1 "$project/out/batch_$view.csv" >"$WORK/batch_$view.sorted"
  tail -n +2 "$project/out/batch_$view.csv" | sort >>"$WORK/batch_$view.sorted"
  if cmp -s "$WORK/live_$view.sorted" "$WORK/batch_$view.sorted"; then
    pass "the streaming $view join equals the batch join over the on-time records"
  else
    fail "streaming and batch $view differ: $(diff "$WORK/live_$view.sorted" "$WORK/batch_$view.sorted" | head -5)"
  fi
done
rows=$(($(wc -l <"$project/out/live_won.csv") - 1))
if [ "$rows" -ge 300 ]; then pass "bids within their auction's time ($rows)"; else fail "too few: $rows"; fi
rows=$(($(wc -l <"$project/out/live_paired.csv") - 1))
if [ "$rows" -ge 50 ]; then pass "window pairs ($rows)"; else fail "too few window pairs: $rows"; fi

# validate: a join of two streams without a time bound keeps every row forever.
unbounded() {  # <extra top-level line>
  cat >"$project/pipelines/bad.yaml" <<YAML
name: bad
mode: streaming
$1
sources:
  auctions: { topic: auctions, schema: $auctions, event_time: ts }
  bids: { topic: bids, schema: $bids, event_time: ts }
views:
  v: SELECT a.id, b.price FROM auctions a JOIN bids b ON a.id = b.auction
sinks:
  - { from: v, file: { path: out/v.csv } }
YAML
}
unbounded ""
err=$("$MILLRACE" validate "$project" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "validate refuses a stream join without a time bound"
expect_contains "$err" "bad.yaml:10:13: error:" "at the sink's from"
expect_contains "$err" "no time bound" "saying why"
expect_contains "$err" "state_ttl" "and what to do"
unbounded "state_ttl: 10m"
err=$("$MILLRACE" validate "$project" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "with state_ttl it is accepted: $err"
rm "$project/pipelines/bad.yaml"
finish
