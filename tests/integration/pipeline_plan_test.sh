#!/usr/bin/env bash
# `millrace pipeline plan` and the rule every run applies when it restores. A pipeline keeps
# per-city windows (per_minute) and running totals per account (totals, an upserting
# aggregate). After a run that stops with a savepoint:
#   unchanged project         -> every state kept, exit 0 (also as --json)
#   a column added to a sink  -> every state kept (the column is computed above the state)
#   totals' SQL edited        -> only totals' state dropped (sql_changed), per_minute's kept;
#                                plan exits 2, run refuses with the same explanation, and
#                                `run --allow-state-drop` goes on: per_minute's windows equal
#                                one uninterrupted run, totals restart from the records after
#                                the change
#   totals' keys changed      -> layout_changed: refused, then accepted with the flag
source "$(dirname "$0")/lib/common.sh"

project=$WORK/p
mkdir -p "$project/pipelines"
printf 'name: plan\ndata_dir: ./data\ninclude: [pipelines/*.yaml]\n' >"$project/millrace.yaml"
write_pipeline() {  # <per_minute extra select> <totals where> <totals extra key>
  cat >"$project/pipelines/live.yaml" <<YAML
name: live
mode: streaming
sources:
  tx:
    topic: tx
    schema: { id: string not null, account: string not null, city: string not null,
              amount: double not null, ts: timestamp not null }
    event_time: ts
    watermark_delay: 10s
views:
  per_minute: |
    SELECT city, window_start, window_end, count(*) AS n, round(sum(amount), 2) AS revenue$1
    FROM tumble(tx, ts, INTERVAL '1 minute') GROUP BY city, window_start, window_end
  totals: |
    SELECT account$3, count(*) AS n, round(sum(amount), 2) AS total FROM tx$2
    GROUP BY account$3
  large: SELECT id, amount FROM tx WHERE amount > 90
sinks:
  - { from: per_minute, topic: per_minute_out }
  - { from: totals, topic: totals_out, key: account }
  - { from: large, topic: large_out }
YAML
}
write_pipeline "" "" ""

/usr/bin/python3 - "$WORK" <<'PY'
import datetime, json, random, sys
rnd = random.Random(11)
parts = [open(f"{sys.argv[1]}/part{i}.ndjson", "w") for i in (1, 2, 3)]
base = 1764979200.0
for i in range(4500):
    event = base + i * 0.1 - rnd.uniform(0, 5)
    ts = datetime.datetime.utcfromtimestamp(event).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    record = {"id": f"t-{i}", "account": f"a-{rnd.randrange(12)}",
              "city": rnd.choice(["oslo", "lima", "pune"]), "amount": round(rnd.uniform(1, 100), 2),
              "ts": ts}
    parts[i // 1500].write(json.dumps(record) + "\n")
PY

# The reference: one uninterrupted run over parts 1 and 2.
reference=$WORK/reference
mkdir -p "$reference"
cp -r "$project/millrace.yaml" "$project/pipelines" "$reference/"
"$MILLRACE" topic create tx -p "$reference" --partitions 1 >/dev/null
cat "$WORK/part1.ndjson" "$WORK/part2.ndjson" | "$MILLRACE" topic produce tx -p "$reference" >/dev/null
"$MILLRACE" run "$reference" live --until-idle --idle 500ms >/dev/null

windows() {  # <project>: per_minute rows without columns added later, sorted
  "$MILLRACE" topic consume per_minute_out -p "$1" | /usr/bin/python3 -c '
import json, sys
rows = sorted(json.dumps({k: r[k] for k in ("city", "window_start", "window_end", "n", "revenue")},
                         sort_keys=True) for r in map(json.loads, sys.stdin))
print("\n".join(rows))'
}
plan() { "$MILLRACE" pipeline plan "$project" live "$@" 2>&1; }

"$MILLRACE" topic create tx -p "$project" --partitions 1 >/dev/null
"$MILLRACE" topic produce tx -p "$project" -i "$WORK/part1.ndjson" >/dev/null
"$MILLRACE" run "$project" live --until-idle --idle 500ms --savepoint "$WORK/sp1" >/dev/null

# Unchanged: everything kept.
out=$(plan) && rc=0 || rc=$?
expect_eq "$rc" "0" "unchanged: plan exits 0"
expect_contains "$out" "kept             per_minute -> topic per_minute_out" "unchanged: the windows are kept"
expect_contains "$out" "kept             totals -> topic totals_out" "unchanged: the totals are kept"
expect_contains "$out" "stateless        large -> topic large_out" "a filter holds no state"
expect_contains "$out" "2 kept, 0 dropped" "unchanged: nothing dropped"
out=$(plan --from-savepoint "$WORK/sp1") && rc=0 || rc=$?
expect_eq "$rc" "0" "unchanged against the savepoint: exit 0"
json=$(plan --json || true)
expect_eq "$(/usr/bin/python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["compatible"], sorted(s["fate"] for s in d["states"]))' "$json")" \
  "True ['kept', 'kept', 'stateless']" "--json: compatible, two kept, one stateless"

# A column added to a sink (computed from the window's keys): still everything kept.
write_pipeline ", upper(city) AS city_code" "" ""
out=$(plan) && rc=0 || rc=$?
expect_eq "$rc" "0" "a column added to a sink: plan exits 0"
expect_contains "$out" "2 kept, 0 dropped" "a column added to a sink keeps every state"

# totals' SQL edited: only its state is dropped.
write_pipeline ", upper(city) AS city_code" " WHERE amount >= 0" ""
out=$(plan) && rc=0 || rc=$?
expect_eq "$rc" "2" "an edited view: plan exits 2"
expect_contains "$out" "dropped          totals -> topic totals_out [sql_changed]" "the edited view's state is dropped"
expect_contains "$out" "kept             per_minute -> topic per_minute_out" "the other view's state is kept"
expect_contains "$out" "1 kept, 1 dropped" "one kept, one dropped"
out=$(plan --allow-state-drop) && rc=0 || rc=$?
expect_eq "$rc" "0" "plan --allow-state-drop exits 0"
json=$(plan --json || true)
expect_eq "$(/usr/bin/python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["compatible"], [s["reason"] for s in d["states"] if s["fate"] == "dropped"])' "$json")" \
  "False ['sql_changed']" "--json: incompatible, the reason of the drop"

"$MILLRACE" topic produce tx -p "$project" -i "$WORK/part2.ndjson" >/dev/null
before=$("$MILLRACE" topic consume per_minute_out -p "$project" | wc -l)
out=$("$MILLRACE" run "$project" live --until-idle --idle 500ms 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "run refuses to drop state"
expect_contains "$out" "would drop saved state" "run says why"
expect_contains "$out" "sql_changed" "run gives the plan's reason"
expect_eq "$("$MILLRACE" topic consume per_minute_out -p "$project" | wc -l)" "$before" \
  "a refused run writes nothing"

out=$("$MILLRACE" run "$project" live --until-idle --idle 500ms --allow-state-drop 2>&1) &&
  rc=0 || rc=$?
expect_eq "$rc" "0" "run --allow-state-drop goes on"
expect_contains "$out" "dropped state of totals -> topic totals_out" "it says which state it dropped"
expect_contains "$out" "1500 rows read" "it reads only the records after the savepoint"
expect_eq "$(windows "$project")" "$(windows "$reference")" \
  "the kept windows: per_minute equals one uninterrupted run"
expect_eq "$("$MILLRACE" topic consume per_minute_out -p "$project" | tail -1 | grep -c city_code)" "1" \
  "rows after the change carry the added column"
# totals started afresh: the last value per account is the aggregate of part 2 alone.
got=$("$MILLRACE" topic consume totals_out -p "$project" | /usr/bin/python3 -c '
import json, sys
last = {}
for line in sys.stdin:
    r = json.loads(line)
    last[r["account"]] = (r["n"], r["total"])
print(sorted(last.items()))')
want=$(/usr/bin/python3 -c '
import json, sys
agg = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    n, t = agg.get(r["account"], (0, 0.0))
    agg[r["account"]] = (n + 1, t + r["amount"])
print(sorted((k, (n, round(t, 2))) for k, (n, t) in agg.items()))' "$WORK/part2.ndjson")
expect_eq "$got" "$want" "the dropped totals start over from the records after the change"

# The dropped state is gone from the new checkpoint: a plain plan is compatible again.
out=$(plan) && rc=0 || rc=$?
expect_eq "$rc" "0" "after the accepted drop, plan exits 0"
expect_contains "$out" "kept             totals -> topic totals_out" "totals' new state is kept"

# An incompatible layout (another group key): refused, then accepted with the flag.
write_pipeline ", upper(city) AS city_code" " WHERE amount >= 0" ", city"
out=$(plan) && rc=0 || rc=$?
expect_eq "$rc" "2" "a changed key: plan exits 2"
expect_contains "$out" "[layout_changed]" "the reason is the key/aggregate layout"
expect_contains "$out" "upserting aggregate keys (account string, city string)" "it shows the new layout"
"$MILLRACE" topic produce tx -p "$project" -i "$WORK/part3.ndjson" >/dev/null
out=$("$MILLRACE" run "$project" live --until-idle --idle 500ms 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "run refuses the changed key"
expect_contains "$out" "layout_changed" "with the plan's reason"
out=$("$MILLRACE" run "$project" live --until-idle --idle 500ms --allow-state-drop 2>&1) &&
  rc=0 || rc=$?
expect_eq "$rc" "0" "accepted with --allow-state-drop"
expect_contains "$out" "1500 rows read" "and reads the new records"

# A removed view.
sed -i '/from: totals/d' "$project/pipelines/live.yaml"
out=$(plan) && rc=0 || rc=$?
expect_eq "$rc" "2" "a removed sink: plan exits 2"
expect_contains "$out" "[sink_removed]" "it says the sink is gone"
finish
