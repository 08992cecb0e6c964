#!/usr/bin/env bash
# Data-quality checks in a batch run: a check on a view dead-letters its rows, a warn-level
# dataset rule passes with a warning, an error-level rule fails the run with no sink committed,
# every rule's result lands in data/checks/<pipeline>.ndjson, and `validate` points at bad rules.
source "$(dirname "$0")/lib/common.sh"

mkdir -p "$WORK/q/pipelines" "$WORK/q/in"
cd "$WORK/q"
printf 'name: quality\ndata_dir: ./data\ninclude: [pipelines/*.yaml]\n' > millrace.yaml
cat > in/orders.csv <<'CSV'
id,status,amount,ts
1,paid,10,2026-11-23T09:00:00Z
2,paid,-5,2026-11-23T09:30:00Z
3,refunded,20,2026-11-23T10:00:00Z
3,lost,30,2026-11-23T10:10:00Z
CSV
write_pipeline() {  # <max rows of the error-level row_count rule>
  cat > pipelines/orders.yaml <<YAML
name: orders
sources:
  orders:
    file: { path: in/orders.csv, format: csv }
    schema: { id: int64 not null, status: string, amount: double, ts: timestamp }
views:
  valued: SELECT id, status, amount * 2 AS doubled, ts FROM orders
checks:
  orders:
    - row_count: { min: 1, max: $1 }
    - unique: [id]
      severity: warn
    - freshness: { column: ts, max_age: 1h }
  valued:
    - range: { column: doubled, min: 0 }
    - accepted_values: { column: status, values: [paid, refunded] }
      mostly: 0.5
    - regex: { column: status, pattern: "^p" }
      on_fail: warn
sinks:
  - { from: valued, file: { path: out/valued.csv, format: csv } }
  - { from: valued, lake: { table: valued } }
  - { from: dead_letter, file: { path: out/dead.ndjson, format: ndjson } }
YAML
}
export MILLRACE_NOW=2026-11-23T10:30:00Z

write_pipeline 10
out=$("$MILLRACE" validate . 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "the pipeline is valid: $out"
out=$("$MILLRACE" run . orders 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "a run with only a warn-level failure succeeds: $out"
expect_contains "$out" "WARNING unique(id): observed 1 duplicate rows, bound 0 duplicates" "the warning is in the run output"
expect_contains "$out" "passed row_count: observed 4 rows, bound min 1, max 10" "the passed rules are listed"
expect_contains "$out" "passed freshness(ts): observed age 20m" "freshness uses MILLRACE_NOW"
expect_contains "$out" "passed accepted_values(status): observed 0.75 passing (3 of 4 rows)" "mostly: the fraction passing"
expect_contains "$out" "view   valued                      1 failed checks, 0 dropped by checks, 2 check warnings" "the view's row-level checks are counted once"
expect_eq "$(cat out/valued.csv)" "$(printf 'id,status,doubled,ts\n1,paid,20,2026-11-23T09:00:00Z\n3,refunded,40,2026-11-23T10:00:00Z\n3,lost,60,2026-11-23T10:10:00Z')" "the view's failing row is not in the sink"
expect_contains "$(cat out/dead.ndjson)" '"view":"valued","stage":"check","check":"range(doubled)"' "the view's failing row is dead-lettered with its check"
expect_contains "$(cat out/dead.ndjson)" '"doubled":-10' "with the row"
lines=$(wc -l < data/checks/orders.ndjson)
expect_eq "$lines" "4" "one result line per dataset rule"
expect_contains "$(cat data/checks/orders.ndjson)" '{"run":1,"at":"2026-11-23T10:30:00.000000Z","pipeline":"orders","dataset":"orders","rule":"unique(id)","observed":"1 duplicate rows","bound":"0 duplicates","passed":false,"severity":"warn"}' "the warn result is stored"
expect_contains "$(cat data/checks/orders.ndjson)" '"dataset":"valued","rule":"accepted_values(status)","observed":"0.75 passing (3 of 4 rows)","bound":"mostly >= 0.5","passed":true,"severity":"error"}' "the view's rule is stored"
lake_before=$("$MILLRACE" query -d data --format csv "SELECT count(*) AS n FROM valued")
csv_before=$(cat out/valued.csv)

# An error-level rule fails: exit 1 naming the rule, dataset, observed value and bound; no sink
# commits (the file and the lake table stay as the last run left them).
write_pipeline 2
out=$("$MILLRACE" run . orders 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "a failed error-level rule fails the run"
expect_contains "$out" 'rule row_count on `orders` failed: observed 4 rows, bound min 1, max 2 (severity: error)' "the message names rule, dataset, observed and bound"
expect_contains "$out" "pipelines/orders.yaml:10:7: error: rule row_count" "at the rule"
expect_eq "$(cat out/valued.csv)" "$csv_before" "the file sink is unchanged"
expect_eq "$("$MILLRACE" query -d data --format csv "SELECT count(*) AS n FROM valued")" "$lake_before" "the lake table is unchanged"
expect_eq "$(wc -l < data/checks/orders.ndjson)" "8" "the failed run's results are stored too"
expect_contains "$(tail -n 4 data/checks/orders.ndjson)" '{"run":2,"at":"2026-11-23T10:30:00.000000Z","pipeline":"orders","dataset":"orders","rule":"row_count","observed":"4 rows","bound":"min 1, max 2","passed":false,"severity":"error"}' "as run 2"
rm -rf out data
out=$("$MILLRACE" run . orders 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "the first run of a failing pipeline fails too"
if [ -e out/valued.csv ]; then fail "no file sink output after a failed rule"; else pass "no file sink output after a failed rule"; fi
# The lake sink's table is created by its first commit: a failed first run leaves none.
expect_eq "$("$MILLRACE" lake list -d data)" "" "no lake table after a failed first run"

# validate: bad rules at their file:line:column, the same rules run refuses.
cat > pipelines/orders.yaml <<'YAML'
name: orders
sources:
  orders:
    file: { path: in/orders.csv, format: csv }
    schema: { id: int64 not null, status: string, amount: double, ts: timestamp }
views:
  valued: SELECT id, amount FROM orders
checks:
  orders:
    - row_cnt: { min: 1 }
    - not_null: [amount]
      mostly: 1.5
    - unique: [idd]
    - regex: { column: status, pattern: "(" }
  valued:
    - range: { column: amunt, min: 0 }
sinks:
  - { from: valued, file: { path: out/valued.csv, format: csv } }
YAML
out=$("$MILLRACE" validate . 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "validate refuses bad rules"
expect_contains "$out" "pipelines/orders.yaml:10:7: error: unknown key \`row_cnt\`" "unknown rule at 10:7"
expect_contains "$out" "pipelines/orders.yaml:12:15: error: \`mostly\` of check #2 of \`orders\` must be a number in (0, 1], got \`1.5\`" "bad mostly at 12:15"
expect_contains "$out" "pipelines/orders.yaml:14:41: error: \`pattern\` of \`regex\` of check #4 of \`orders\` is not a regular expression" "bad regex at 14:41"
expect_contains "$out" "pipelines/orders.yaml:13:16: error: column \`idd\` is not in the schema of source \`orders\`; did you mean \`id\`?" "unknown column at 13:16"
cat > pipelines/orders.yaml <<'YAML'
name: orders
sources:
  orders:
    file: { path: in/orders.csv, format: csv }
    schema: { id: int64 not null, status: string, amount: double, ts: timestamp }
views:
  valued: SELECT id, amount FROM orders
checks:
  valued:
    - range: { column: amunt, min: 0 }
sinks:
  - { from: valued, file: { path: out/valued.csv, format: csv } }
YAML
out=$("$MILLRACE" validate . 2>&1) && rc=0 || rc=$?
run=$("$MILLRACE" run . orders 2>&1) && rrc=0 || rrc=$?
expect_eq "$rc$rrc" "11" "validate and run both refuse an unknown column of a view"
expect_contains "$out" "pipelines/orders.yaml:10:24: error: check range on view \`valued\`: unknown column \`amunt\`" "validate: at the column"
expect_contains "$run" "pipelines/orders.yaml:10:24: error: check range on view \`valued\`: unknown column \`amunt\`" "run: at the same place"
finish
