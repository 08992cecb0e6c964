#!/usr/bin/env bash
# millrace check: judges every quality rule on the data the sources hold now (file and topic
# sources, views), prints each result, exits 1 only for a failed error-level rule, appends the
# results to the same data/checks/<pipeline>.ndjson a run writes, and writes nothing a run
# writes (sinks, dead letters, commit counter).
source "$(dirname "$0")/lib/common.sh"

p=$WORK/shop
mkdir -p "$p/pipelines" "$p/in"
printf 'name: shop\ndata_dir: ./data\ninclude: [pipelines/*.yaml]\n' >"$p/millrace.yaml"
printf 'id,status,amount\n1,paid,10\n2,paid,-5\n3,lost,20\n3,paid,30\n' >"$p/in/orders.csv"
cat >"$p/pipelines/orders.yaml" <<'YAML'
name: orders
sources:
  orders:
    file: { path: in/orders.csv, format: csv }
    schema: { id: int64 not null, status: string, amount: double }
views:
  valued: SELECT id, status, amount * 2 AS doubled FROM orders
checks:
  orders:
    - row_count: { min: 1, max: 10 }
    - unique: [id]
      severity: warn
  valued:
    - range: { column: doubled, min: 0 }         # row-level, dead-lettered in a run
    - accepted_values: { column: status, values: [paid] }
      on_fail: fail                              # row-level, fails a run
sinks:
  - { from: valued, file: { path: out/valued.csv, format: csv } }
YAML
cat >"$p/pipelines/events.yaml" <<'YAML'
name: events
sources:
  clicks:
    topic: clicks
    schema: { user: string not null, n: int64 }
checks:
  clicks:
    - not_null: [user]
    - row_count: { min: 3 }
sinks:
  - { from: clicks, file: { path: out/clicks.csv, format: csv } }
YAML
"$MILLRACE" topic create clicks -p "$p" >/dev/null
printf '{"user":"a","n":1}\n{"user":"b","n":2}\n{"user":"c","n":3}\n' | "$MILLRACE" topic produce clicks -p "$p" -i - >/dev/null 2>&1

out=$("$MILLRACE" check "$p" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "an error-level failure (on_fail: fail on a row) exits 1"
expect_contains "$out" "rule   orders           passed row_count" "a passing dataset rule"
expect_contains "$out" "rule   orders           WARNING unique(id): observed 1 duplicate rows" "a failed warn rule"
expect_contains "$out" "rule   valued           WARNING range(doubled): observed 0.75 passing (3 of 4 rows)" "a dead-lettering row check is a warning"
expect_contains "$out" "rule   valued           FAILED accepted_values(status): observed 0.75 passing" "a failing row check with on_fail: fail is an error"
expect_contains "$out" "rule   clicks           passed row_count: observed 3 rows" "topic sources are read from the project's log"
expect_contains "$out" "6 rule(s): 3 passed, 2 warning(s), 1 failed" "the summary"
expect_eq "$(ls "$p/out" 2>/dev/null | wc -l)" "0" "no sink was written"
expect_eq "$(ls "$p/data/dead_letter" 2>/dev/null | wc -l)" "0" "no dead letters were written"
expect_eq "$(ls -A "$p/data" | grep -c '^\.check')" "0" "the scratch folder is gone"
expect_eq "$(grep -c '"run":1' "$p/data/checks/orders.ndjson")" "4" "the results are in the run's results file"
expect_contains "$(grep 'accepted_values' "$p/data/checks/orders.ndjson")" '"passed":false,"severity":"error"' "with their severity"

out=$("$MILLRACE" check "$p" orders 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "only the rules on one dataset: warnings exit 0"
expect_contains "$out" "2 rule(s): 1 passed, 1 warning(s), 0 failed" "just that dataset's rules"
expect_eq "$(grep -c '"run":2' "$p/data/checks/orders.ndjson")" "2" "appended as the file's next run"

out=$("$MILLRACE" check "$p" nowhere 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "an unknown dataset exits 1"
expect_contains "$out" "checked: clicks, orders, valued" "and lists the checked datasets"

# A run agrees: the same accepted_values rule fails it; after fixing the data both pass.
"$MILLRACE" run "$p" orders >/dev/null 2>&1 && rc=0 || rc=$?
expect_eq "$rc" "1" "run fails on the row check with on_fail: fail"
printf 'id,status,amount\n1,paid,10\n2,paid,5\n' >"$p/in/orders.csv"
"$MILLRACE" check "$p" valued >/dev/null 2>&1 && rc=0 || rc=$?
expect_eq "$rc" "0" "check passes on good data"
"$MILLRACE" run "$p" orders >/dev/null 2>&1 && rc=0 || rc=$?
expect_eq "$rc" "0" "and so does the run"

# --- a lake table at rest: the rules of the view written into it, judged on what it holds ------
printf 'id,amount\n1,10\n2,-5\n3,7\n' >"$p/in/ledger.csv"
cat >"$p/pipelines/ledger.yaml" <<'YAML'
name: ledger
sources:
  entries:
    file: { path: in/ledger.csv, format: csv }
    schema: { id: int64 not null, amount: double }
views:
  booked: SELECT id, amount FROM entries
checks:
  booked:
    - range: { column: amount, min: 0 }
      on_fail: drop
    - row_count: { min: 1 }
sinks:
  - { from: booked, lake: { table: ledger } }
YAML
"$MILLRACE" run "$p" ledger >/dev/null
out=$("$MILLRACE" check "$p" booked 2>&1) && rc=0 || rc=$?
expect_contains "$out" "WARNING range(amount): observed 0.6667 passing (2 of 3 rows)" "the view, computed from its source, has the negative row"
out=$("$MILLRACE" check "$p" ledger 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "the lake table passes: the run dropped that row"
expect_contains "$out" "rule   ledger           passed range(amount): observed 1 passing (2 of 2 rows)" "judged on the table's rows"
expect_contains "$(tail -n 2 "$p/data/checks/ledger.ndjson")" '"dataset":"ledger"' "results labelled with the table"

# --- referential: values must exist in a lake table --------------------------------------------
printf 'id,name\n1,Ada\n2,Bo\n' >"$WORK/customers.csv"
"$MILLRACE" lake import customers -d "$p/data" -i "$WORK/customers.csv" --create --schema "id: int64 not null, name: string" >/dev/null 2>&1
printf 'id,customer,amount\n1,1,10\n2,2,20\n3,7,5\n4,,1\n' >"$p/in/sales.csv"
cat >"$p/pipelines/sales.yaml" <<'YAML'
name: sales
sources:
  sales:
    file: { path: in/sales.csv, format: csv }
    schema: { id: int64 not null, customer: int64, amount: double }
checks:
  sales:
    - referential: { column: customer, table: customers, key: id }
sinks:
  - { from: sales, file: { path: out/sales.csv, format: csv } }
YAML
out=$("$MILLRACE" validate "$p" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "validate accepts a referential rule: $out"
out=$("$MILLRACE" check "$p" sales 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "a value missing from the referenced table fails the check"
expect_contains "$out" "FAILED referential(customer in customers.id): observed 1 rows with an unknown value (first 7)" "names the unknown value (nulls refer to nothing)"
out=$("$MILLRACE" run "$p" sales 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "run fails on the same rule"
expect_eq "$(ls "$p/out" 2>/dev/null | grep -c sales)" "0" "and commits no sink"
sed -i 's/table: customers, key: id }/table: customers, key: id }\n      severity: warn/' "$p/pipelines/sales.yaml"
"$MILLRACE" run "$p" sales >/dev/null 2>&1 && rc=0 || rc=$?
expect_eq "$rc" "0" "as a warning the run succeeds"
sed -i 's/table: customers,/table: nowhere,/' "$p/pipelines/sales.yaml"
out=$("$MILLRACE" run "$p" sales 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "a referenced table that does not exist fails the run"
expect_contains "$out" "sales.yaml:8:" "at the rule's line"
expect_contains "$out" "lake table \`nowhere\`" "naming the table"
finish
