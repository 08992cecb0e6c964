#!/usr/bin/env bash
# Rescaling through savepoints. A streaming pipeline with a tumble window per city, session
# windows per user and an upserting total per city (to a keyed topic) reads a fixed input in
# three parts: the first at parallelism 1, stopped with a savepoint; the second restored from
# it at parallelism 2 and stopped with another; the third restored at parallelism 1 again. Its
# lake tables and the newest topic value per city equal one uninterrupted run at parallelism
# 1. Keyed state is saved per key group (the savepoint's metadata lists them); a key group
# that did not change since the run's previous checkpoint is a hard link, not a new file; and
# a savepoint taken with another max_parallelism is refused with a clear message.
source "$(dirname "$0")/lib/common.sh"

make_project() {  # <dir>
  mkdir -p "$1/pipelines"
  printf 'name: rs\ndata_dir: ./data\ninclude: [pipelines/*.yaml]\n' >"$1/millrace.yaml"
  cat >"$1/pipelines/live.yaml" <<'YAML'
name: live
mode: streaming
parallelism: 1
sources:
  orders:
    topic: orders
    schema: { order_id: string not null, user_id: string not null, city: string,
              amount: double not null, ts: timestamp not null }
    event_time: ts
    watermark_delay: 10s
views:
  per_minute: |
    SELECT city, window_start, window_end, count(*) AS orders, round(sum(amount), 2) AS revenue
    FROM tumble(orders, ts, INTERVAL '1 minute') GROUP BY city, window_start, window_end
  per_session: |
    SELECT user_id, window_start, window_end, count(*) AS orders, round(sum(amount), 2) AS spent
    FROM session(orders, ts, INTERVAL '20 seconds') GROUP BY user_id, window_start, window_end
  totals: |
    SELECT city, count(*) AS orders, round(sum(amount), 2) AS revenue FROM orders GROUP BY city
sinks:
  - { from: per_minute, lake: { table: per_minute } }
  - { from: per_session, lake: { table: per_session } }
  - { from: totals, topic: totals_out, key: city }
YAML
}
set_parallelism() {  # <dir> <n>
  sed -i "s/^parallelism: .*/parallelism: $2/" "$1/pipelines/live.yaml"
}

/usr/bin/python3 - "$WORK" <<'PY'
import datetime, json, random, sys
rnd = random.Random(11)
parts = [open(f"{sys.argv[1]}/part{p}.ndjson", "w") for p in range(3)]
base = 1764979200.0
for i in range(9000):
    event = base + i * 0.1 - rnd.uniform(0, 5)
    ts = datetime.datetime.utcfromtimestamp(event).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    record = {"order_id": f"o-{i}", "user_id": f"u-{rnd.randrange(400)}",
              "city": rnd.choice(["oslo", "lima", "pune", "kobe", "graz", "cork", "bari"]),
              "amount": round(rnd.uniform(1, 100), 2), "ts": ts}
    parts[i // 3000].write(json.dumps(record) + "\n")
PY

lake_rows() {  # <project>
  "$MILLRACE" query -p "$1" -f csv "SELECT * FROM per_minute ORDER BY city, window_start"
  "$MILLRACE" query -p "$1" -f csv \
    "SELECT * FROM per_session ORDER BY user_id, window_start, orders, spent"
}
latest_totals() {  # <project>: the newest value per key of the upsert topic
  "$MILLRACE" topic consume totals_out -p "$1" | /usr/bin/python3 -c '
import json, sys
latest = {}
for line in sys.stdin:
    r = json.loads(line)
    v = r.get("value", r)
    v = json.loads(v) if isinstance(v, str) else v
    latest[v["city"]] = json.dumps(v, sort_keys=True)
print("\n".join(latest[k] for k in sorted(latest)))'
}
run_live() {  # <project> <args...>
  local project=$1
  shift
  "$MILLRACE" run "$project" live --until-idle --idle 500ms --commit-interval 100ms "$@" 2>&1
}

make_project "$WORK/reference"
"$MILLRACE" topic create orders -p "$WORK/reference" --partitions 1 >/dev/null
cat "$WORK"/part{0,1,2}.ndjson >"$WORK/all.ndjson"
"$MILLRACE" topic produce orders -p "$WORK/reference" -i "$WORK/all.ndjson" >/dev/null
run_live "$WORK/reference" >/dev/null
expected=$(lake_rows "$WORK/reference")
expected_totals=$(latest_totals "$WORK/reference")
expect_eq "$(wc -l <<<"$expected_totals")" "7" "the reference run has a total per city"

project=$WORK/rescaled
make_project "$project"
"$MILLRACE" topic create orders -p "$project" --partitions 1 >/dev/null
"$MILLRACE" topic produce orders -p "$project" -i "$WORK/part0.ndjson" >/dev/null
out=$(run_live "$project" --savepoint "$WORK/sp1") && rc=0 || rc=$?
expect_eq "$rc" "0" "parallelism 1: the first part, stopped with a savepoint"
expect_contains "$out" "keyed stage per_minute: parallelism 1, 32 key groups" "the windows run as a keyed stage"
# A key group of an upserting aggregate may be listed more than once (its whole state, then
# the changes of later checkpoints): count distinct sink and key group pairs.
expect_eq "$(grep ' key_group [0-9]*/32 at ' "$WORK/sp1/_metadata" |
  awk '{print $2, $5}' | sort -u | wc -l)" "96" \
  "the savepoint holds the keyed state of the three sinks in 32 key groups each"
# Incremental checkpoints: most key groups see no city, so their files are links.
linked=$(find "$project/data/checkpoints/live" -name 'sink-*-kg.*.state' -links +1 | wc -l)
if [ "$linked" -gt 0 ]; then
  pass "unchanged key groups are hard links to the previous checkpoint's files ($linked)"
else
  fail "no key-group state file is linked between checkpoints"
fi

"$MILLRACE" topic produce orders -p "$project" -i "$WORK/part1.ndjson" >/dev/null
set_parallelism "$project" 2
out=$(run_live "$project" --from-savepoint "$WORK/sp1" --savepoint "$WORK/sp2") && rc=0 || rc=$?
expect_eq "$rc" "0" "parallelism 2: restored from the savepoint taken at 1, stopped with another"
expect_contains "$out" "3000 rows read" "it reads only the second part"
expect_contains "$out" "keyed stage per_session: parallelism 2" "the restored run has two subtasks"

"$MILLRACE" topic produce orders -p "$project" -i "$WORK/part2.ndjson" >/dev/null
sed -i 's/^parallelism: .*/parallelism: 1\nmax_parallelism: 16/' "$project/pipelines/live.yaml"
out=$(run_live "$project" --from-savepoint "$WORK/sp2") && rc=0 || rc=$?
expect_eq "$rc" "1" "a savepoint of 32 key groups is refused with max_parallelism: 16"
expect_contains "$out" "set max_parallelism: 32 to restore it" "saying what to set"
sed -i '/^max_parallelism:/d' "$project/pipelines/live.yaml"
out=$(run_live "$project" --from-savepoint "$WORK/sp2") && rc=0 || rc=$?
expect_eq "$rc" "0" "parallelism 1 again: restored from the savepoint taken at 2"
expect_contains "$out" "3000 rows read" "it reads only the third part"
actual=$(lake_rows "$project")
expect_eq "$(wc -l <<<"$actual")" "$(wc -l <<<"$expected")" "as many window rows as one uninterrupted run"
expect_eq "$actual" "$expected" "1 -> 2 -> 1: the lake tables equal one uninterrupted run"
expect_eq "$(latest_totals "$project")" "$expected_totals" \
  "1 -> 2 -> 1: the newest total per city equals one uninterrupted run"
finish
