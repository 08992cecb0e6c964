#!/usr/bin/env bash
# Stop with a savepoint, start from it. A windowed streaming pipeline reads the first half of a
# fixed input and stops with `--savepoint DIR`: its open windows are not emitted but saved. The
# second half is appended and the pipeline starts again, once with `--from-savepoint DIR` and
# once (in a copy) from its latest checkpoint, which the savepoint copied: both leave the lake
# table equal to one uninterrupted run over the whole input. A savepoint folder is never
# overwritten, and a folder that holds none is refused.
source "$(dirname "$0")/lib/common.sh"

make_project() {  # <dir>
  mkdir -p "$1/pipelines"
  printf 'name: sp\ndata_dir: ./data\ninclude: [pipelines/*.yaml]\n' >"$1/millrace.yaml"
  cat >"$1/pipelines/live.yaml" <<'YAML'
name: live
mode: streaming
sources:
  orders:
    topic: orders
    schema: { order_id: string not null, city: string, amount: double not null,
              ts: timestamp not null }
    event_time: ts
    watermark_delay: 10s
views:
  per_minute: |
    SELECT city, window_start, window_end, count(*) AS orders, round(sum(amount), 2) AS revenue
    FROM tumble(orders, ts, INTERVAL '1 minute') GROUP BY city, window_start, window_end
sinks:
  - { from: per_minute, lake: { table: per_minute } }
YAML
  # PARALLELISM=2: the same test with two subtasks (savepoint_parallel_test.sh).
  sed -i "s/^mode: streaming$/mode: streaming\nparallelism: ${PARALLELISM:-1}/" "$1/pipelines/live.yaml"
}

/usr/bin/python3 - "$WORK" <<'PY'
import datetime, json, random, sys
rnd = random.Random(3)
out = [open(f"{sys.argv[1]}/first.ndjson", "w"), open(f"{sys.argv[1]}/second.ndjson", "w")]
base = 1764979200.0
for i in range(6000):
    event = base + i * 0.1 - rnd.uniform(0, 5)
    ts = datetime.datetime.utcfromtimestamp(event).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    record = {"order_id": f"o-{i}", "city": rnd.choice(["oslo", "lima", "pune"]),
              "amount": round(rnd.uniform(1, 100), 2), "ts": ts}
    out[0 if i < 3000 else 1].write(json.dumps(record) + "\n")
PY
cat "$WORK/first.ndjson" "$WORK/second.ndjson" >"$WORK/all.ndjson"

lake_rows() {  # <project>
  "$MILLRACE" query -p "$1" -f csv "SELECT * FROM per_minute ORDER BY city, window_start"
}

make_project "$WORK/reference"
"$MILLRACE" topic create orders -p "$WORK/reference" --partitions 1 >/dev/null
"$MILLRACE" topic produce orders -p "$WORK/reference" -i "$WORK/all.ndjson" >/dev/null
"$MILLRACE" run "$WORK/reference" live --until-idle --idle 500ms >/dev/null
expected=$(lake_rows "$WORK/reference")

make_project "$WORK/saved"
"$MILLRACE" topic create orders -p "$WORK/saved" --partitions 1 >/dev/null
"$MILLRACE" topic produce orders -p "$WORK/saved" -i "$WORK/first.ndjson" >/dev/null
out=$("$MILLRACE" run "$WORK/saved" live --until-idle --idle 500ms --savepoint "$WORK/sp1" 2>&1) &&
  rc=0 || rc=$?
expect_eq "$rc" "0" "the run stops with a savepoint"
expect_contains "$out" "savepoint" "it says where the savepoint went"
expect_eq "$(test -f "$WORK/sp1/_metadata" && echo yes)" "yes" "the savepoint has its metadata"
first=$(lake_rows "$WORK/saved" | wc -l)
expect_eq "$([ "$first" -lt "$(wc -l <<<"$expected")" ] && echo fewer)" "fewer" \
  "open windows were not emitted at the stop ($first of $(wc -l <<<"$expected") lines)"

out=$("$MILLRACE" run "$WORK/saved" live --until-idle --savepoint "$WORK/sp1" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "a savepoint is never overwritten"
expect_contains "$out" "already holds a savepoint" "it says so"
out=$("$MILLRACE" run "$WORK/saved" live --until-idle --from-savepoint "$WORK/nothing" 2>&1) &&
  rc=0 || rc=$?
expect_eq "$rc" "1" "a folder without a savepoint is refused"
expect_contains "$out" "is not a savepoint" "it says so"

# The same first half and stop in a second project (lake tables hold absolute paths, so the
# first is not copied).
make_project "$WORK/latest"
"$MILLRACE" topic create orders -p "$WORK/latest" --partitions 1 >/dev/null
"$MILLRACE" topic produce orders -p "$WORK/latest" -i "$WORK/first.ndjson" >/dev/null
"$MILLRACE" run "$WORK/latest" live --until-idle --idle 500ms --savepoint "$WORK/sp2" >/dev/null
for copy in saved latest; do
  "$MILLRACE" topic produce orders -p "$WORK/$copy" -i "$WORK/second.ndjson" >/dev/null
done
out=$("$MILLRACE" run "$WORK/saved" live --until-idle --idle 500ms --from-savepoint "$WORK/sp1" 2>&1) &&
  rc=0 || rc=$?
expect_eq "$rc" "0" "the run from the savepoint exits 0"
expect_contains "$out" "from savepoint" "it says which savepoint it restored"
expect_contains "$out" "3000 rows read" "it reads only the records after the savepoint"
expect_eq "$(lake_rows "$WORK/saved")" "$expected" "from the savepoint: the lake equals one uninterrupted run"
# A new sink first in the list: state belongs to the view and target a sink implements, not
# to its position, so the lake sink's open windows are still found.
sed -i 's|^sinks:$|sinks:\n  - { from: per_minute, topic: per_minute_out }|' "$WORK/latest/pipelines/live.yaml"
out=$("$MILLRACE" run "$WORK/latest" live --until-idle --idle 500ms 2>&1) && rc=0 || rc=$?
expect_contains "$out" "restored checkpoint" "a plain restart goes on from the checkpoint the savepoint copied"
expect_contains "$out" "rows written to topic per_minute_out" "the added sink runs"
expect_eq "$(lake_rows "$WORK/latest")" "$expected" "from the latest checkpoint: the same lake rows"
finish
