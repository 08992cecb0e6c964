#!/usr/bin/env bash
# A streaming GROUP BY without window_end is a continuously updated table: its changed groups
# are upserted into an online feature view. After a run over a topic, the features served by
# `millrace serve` equal a batch GROUP BY over the same records; after more records are appended
# and the pipeline runs again, they equal the batch result over all records (the groups go on
# from the state the first run saved). A file or lake sink cannot take the updates: validate
# and run refuse it at the sink's `from`, file:line:column.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/server.sh"

project=$WORK/up
mkdir -p "$project/pipelines" "$project/features"
port=$(free_port)
printf 'name: up\ndata_dir: ./data\ninclude: [pipelines/*.yaml, features/*.yaml]\n' >"$project/millrace.yaml"
cat >"$project/features/account_stats.yaml" <<'YAML'
name: account_stats
entities: { account_id: string }
features: { tx: int64, total: double, largest: double, merchants: int64 }
source: { pipeline: account_stats }
YAML
view='  stats: |
    SELECT account_id, count(*) AS tx, sum(amount) AS total, max(amount) AS largest,
           approx_count_distinct(merchant) AS merchants
    FROM tx GROUP BY account_id'
schema='{ tx_id: string not null, account_id: string not null, merchant: string, amount: double not null }'
cat >"$project/pipelines/account_stats.yaml" <<YAML
name: account_stats
mode: streaming
sources:
  tx:
    topic: tx
    schema: $schema
views:
$view
sinks:
  - { from: stats, online: { feature_view: account_stats } }
  - { from: stats, topic: stats_changes, key: account_id }
YAML
cat >"$project/pipelines/check.yaml" <<YAML
name: check
mode: batch
sources:
  tx:
    file: { path: expected.ndjson, format: ndjson }
    schema: $schema
views:
$view
sinks:
  - { from: stats, file: { path: out/batch.csv, format: csv } }
YAML

records() {  # <first id> <count> <seed>
  /usr/bin/python3 - "$@" <<'PY'
import json, random, sys
first, count, seed = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(seed)
for i in range(first, first + count):
    print(json.dumps({"tx_id": f"t-{i}", "account_id": f"a-{rnd.randrange(20)}",
                      "merchant": f"m-{rnd.randrange(40)}", "amount": rnd.randrange(1, 100000) / 4}))
PY
}

# The served features of every account equal the batch GROUP BY of expected.ndjson.
compare() {  # <what>
  "$MILLRACE" run "$project" check >/dev/null
  start_server "$project" "$port" "$WORK/serve.log"
  for account in $(tail -n +2 "$project/out/batch.csv" | cut -d, -f1); do
    curl -s "http://127.0.0.1:$port/v1/features/account_stats?account_id=$account"
  done >"$WORK/served.ndjson"
  stop_server
  diff=$(/usr/bin/python3 - "$project/out/batch.csv" "$WORK/served.ndjson" <<'PY'
import csv, json, sys
expected = {r["account_id"]: (int(r["tx"]), float(r["total"]), float(r["largest"]), int(r["merchants"]))
            for r in csv.DictReader(open(sys.argv[1]))}
served = {}
for line in open(sys.argv[2]):
    body = json.loads(line)
    f = body["features"]
    served[body["key"]["account_id"]] = (f["tx"], f["total"], f["largest"], f["merchants"])
for k in sorted(set(expected) | set(served)):
    if expected.get(k) != served.get(k):
        print(k, "batch", expected.get(k), "served", served.get(k))
PY
)
  expect_eq "$diff" "" "$1: served features equal the batch GROUP BY ($(wc -l <"$WORK/served.ndjson") accounts)"
  # The keyed topic is a changelog: its newest record per key is the batch result too.
  "$MILLRACE" topic consume stats_changes -p "$project" >"$WORK/changes.ndjson"
  diff=$(/usr/bin/python3 - "$project/out/batch.csv" "$WORK/changes.ndjson" <<'PY'
import csv, json, sys
expected = {r["account_id"]: (int(r["tx"]), float(r["total"]), float(r["largest"]), int(r["merchants"]))
            for r in csv.DictReader(open(sys.argv[1]))}
newest = {}
for line in open(sys.argv[2]):
    r = json.loads(line)
    r = r.get("value", r)
    if isinstance(r, str):
        r = json.loads(r)
    newest[r["account_id"]] = (r["tx"], r["total"], r["largest"], r["merchants"])
for k in sorted(set(expected) | set(newest)):
    if expected.get(k) != newest.get(k):
        print(k, "batch", expected.get(k), "topic", newest.get(k))
PY
)
  expect_eq "$diff" "" "$1: the keyed topic's newest record per account equals the batch GROUP BY"
}

records 0 3000 1 >"$WORK/first.ndjson"
"$MILLRACE" topic create tx -p "$project" --partitions 2 >/dev/null
"$MILLRACE" topic produce tx -p "$project" -i "$WORK/first.ndjson" --key-field account_id >/dev/null
out=$("$MILLRACE" run "$project" account_stats --until-idle 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "first run exits 0"
expect_contains "$out" "20 rows written to online feature view account_stats" "first run: one upsert per account"
expect_contains "$out" "20 rows written to topic stats_changes" "first run: one topic record per account"
cp "$WORK/first.ndjson" "$project/expected.ndjson"
compare "first run"

# More records, some for new accounts: the second run reads only them, goes on from the saved
# groups and upserts only the accounts they touched.
records 3000 500 2 | sed 's/"a-1\([0-9]\)"/"b-1\1"/' >"$WORK/more.ndjson"
"$MILLRACE" topic produce tx -p "$project" -i "$WORK/more.ndjson" --key-field account_id >/dev/null
out=$("$MILLRACE" run "$project" account_stats --until-idle 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "second run exits 0"
expect_contains "$out" "500 rows read" "second run: only the new records"
cat "$WORK/first.ndjson" "$WORK/more.ndjson" >"$project/expected.ndjson"
compare "second run"

# A short commit interval emits changed groups while the run goes on, not only at its end.
"$MILLRACE" topic produce tx -p "$project" -i "$WORK/more.ndjson" --key-field account_id >/dev/null
out=$("$MILLRACE" run "$project" account_stats --until-idle --commit-interval 1ms 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "third run exits 0"
cat "$WORK/first.ndjson" "$WORK/more.ndjson" "$WORK/more.ndjson" >"$project/expected.ndjson"
compare "third run, committing every poll"

# File and lake sinks only append: validate and run refuse the unwindowed aggregate at `from`.
cat >"$project/pipelines/to_file.yaml" <<YAML
name: to_file
mode: streaming
sources:
  tx:
    topic: tx
    schema: $schema
views:
$view
sinks:
  - { from: stats, lake: { table: stats } }
YAML
out=$("$MILLRACE" validate "$project" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "validate refuses an upserting aggregate into a lake table"
expect_contains "$out" "to_file.yaml:13:13: error: \`stats\`: a GROUP BY without window_end" "validate: at the sink's from"
expect_contains "$out" "cannot take the updates" "validate: says why"
out=$("$MILLRACE" run "$project" to_file --until-idle 2>&1) && rc=0 || rc=$?
expect_contains "$out" "cannot take the updates" "run refuses it too"
sed -i 's/lake: { table: stats } }/topic: stats_out }/' "$project/pipelines/to_file.yaml"
out=$("$MILLRACE" validate "$project" 2>&1) && rc=0 || rc=$?
expect_contains "$out" "topic stats_out only appends rows" "a topic sink without a key is refused too"
sed -i 's/topic: stats_out }/topic: stats_out, key: acount_id }/' "$project/pipelines/to_file.yaml"
out=$("$MILLRACE" validate "$project" 2>&1) && rc=0 || rc=$?
expect_contains "$out" "to_file.yaml:13:5: error: sink topic stats_out: key column \`acount_id\` is not a column of \`stats\`" "an unknown topic key column is named"
finish
