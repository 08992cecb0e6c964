#!/usr/bin/env bash
# MILLRACE_NOW fixes the clock of `run` and `query`: now() and current_date give the same
# result on every run, a filter on now() prunes lake files, a bad value is a clear error.
source "$(dirname "$0")/lib/common.sh"

mkdir -p "$WORK/p/pipelines" "$WORK/p/in"
cd "$WORK/p"
printf 'name: clock\ndata_dir: ./data\ninclude: [pipelines/*.yaml]\n' > millrace.yaml
printf 'id,ts\n1,2026-11-20T08:00:00Z\n2,2026-11-23T09:00:00Z\n' > in/events.csv
cat > pipelines/stamp.yaml <<'YAML'
name: stamp
mode: batch
sources:
  events:
    file: { path: in/events.csv, format: csv }
    schema: { id: int64 not null, ts: timestamp }
checks:
  events:
    - expect: "ts <= now()"
      on_fail: fail
views:
  stamped: SELECT id, ts, now() AS loaded_at, current_date AS load_day FROM events
sinks:
  - { from: stamped, file: { path: out/stamped.csv, format: csv } }
  - { from: stamped, lake: { table: stamped } }
YAML

export MILLRACE_NOW=2026-11-23T10:30:00Z
out=$("$MILLRACE" run . stamp 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "run with a fixed clock succeeds"
expect_contains "$(cat out/stamped.csv)" "1,2026-11-20T08:00:00Z,2026-11-23T10:30:00Z,2026-11-23" \
  "the view's now() and current_date are MILLRACE_NOW"
first=$(cat out/stamped.csv)
"$MILLRACE" run . stamp >/dev/null 2>&1
expect_eq "$(cat out/stamped.csv)" "$first" "a second run writes the same file"

got=$("$MILLRACE" query -d data --format csv "SELECT now() AS t, current_date AS d")
expect_contains "$got" "2026-11-23T10:30:00Z,2026-11-23" "query's now() is MILLRACE_NOW"
got=$("$MILLRACE" query -d data --format csv \
  "SELECT id FROM stamped WHERE ts > now() - INTERVAL '1 day' ORDER BY id")
expect_eq "$(echo "$got" | tail -n +2 | tr '\n' ' ')" "2 " "a filter on now() reads the recent row"

# Three days later the check (ts <= now()) still holds and the filter finds nothing.
got=$(MILLRACE_NOW=2026-11-26T10:30:00Z "$MILLRACE" query -d data --format csv \
  "SELECT count(*) AS n FROM stamped WHERE ts > now() - INTERVAL '1 day'")
expect_eq "$(echo "$got" | tail -n 1)" "0" "the query follows the clock"

# A clock before the data fails the check: the check sees the same instant as the plan.
out=$(MILLRACE_NOW=2026-11-21T00:00:00Z "$MILLRACE" run . stamp 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "the check on now() uses the fixed clock"

for command in "query -d data 'SELECT 1 AS x'" "run . stamp" "validate ."; do
  out=$(eval MILLRACE_NOW=yesterday "\"$MILLRACE\"" "$command" 2>&1) && rc=0 || rc=$?
  expect_eq "$rc" "1" "$command refuses a bad MILLRACE_NOW"
  expect_contains "$out" "MILLRACE_NOW=\`yesterday\`" "and names it"
done
finish
