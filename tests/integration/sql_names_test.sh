#!/usr/bin/env bash
# SQL errors name where the SQL came from (never a bare "1:8:"), and a column named `user`
# works the PostgreSQL way: "user" quoted is the column; bare user is the keyword, with an error
# that says to quote it. Through `millrace query`, `validate`, `explain` and `run`.
source "$(dirname "$0")/lib/common.sh"
cd "$WORK"

printf 'id,user\n1,alice\n2,root\n3,carol\n' > logins.csv
"$MILLRACE" convert logins.csv logins.parquet --schema "id: int64 not null, user: string" 2>/dev/null
"$MILLRACE" lake import logins --data-dir data -i logins.parquet --create 2>/dev/null

# 1. millrace query: errors in the SQL text are <query>:line:column.
set +e
err=$("$MILLRACE" query -d data "SELECT idd FROM logins" 2>&1 >/dev/null)
set -e
expect_contains "$err" "<query>:1:8: error: unknown column \`idd\`" "query: a SQL error names <query>:line:column"
set +e
err=$("$MILLRACE" query -d data "SELECT id FROM logins WHERE user = 'root'" 2>&1 >/dev/null)
rc=$?
set -e
expect_eq "$rc" "1" "query: bare user over a user column fails"
expect_contains "$err" "<query>:1:29: error:" "query: the user error points at the keyword"
expect_contains "$err" 'quote its name: "user"' "query: the user error says to quote it"
if grep -q SVFOP <<<"$err"; then fail "query: the error shows an enum name: $err"; else pass "query: no enum name in the error"; fi
expect_eq "$("$MILLRACE" query -d data -f csv "SELECT id, \"user\" FROM logins WHERE \"user\" <> 'root' ORDER BY id")" \
  $'id,user\n1,alice\n3,carol' "query: quoted \"user\" reads the column"

set +e
err=$("$MILLRACE" query -d data "SELECT * FROM user" 2>&1 >/dev/null)
set -e
expect_contains "$err" 'a table named user is written "user"' "query: FROM user says to quote the table name"

# 2. A pipeline: the error maps into the YAML file, for validate, explain and run.
mkdir -p project/pipelines
cat > project/millrace.yaml <<'YAML'
name: names
data_dir: ./data
include: [pipelines/*.yaml]
YAML
cat > project/pipelines/logins.yaml <<YAML
name: logins
mode: batch
sources:
  logins:
    file: { path: $WORK/logins.csv, format: csv }
    schema: { id: int64 not null, user: string }
views:
  people: |
    SELECT id,
           user
    FROM logins
sinks:
  - { from: people, file: { path: $WORK/out/people.csv, format: csv } }
YAML
for command in validate explain run; do
  set +e
  if [ "$command" = validate ]; then
    err=$("$MILLRACE" validate project 2>&1)
  else
    err=$("$MILLRACE" $command project logins 2>&1)
  fi
  rc=$?
  set -e
  expect_eq "$rc" "1" "$command: bare user in a view fails"
  expect_contains "$err" "pipelines/logins.yaml:10:12: error: view \`people\`:" "$command: the error names the YAML file, line and column"
done
sed -i 's/^           user$/           "user"/' project/pipelines/logins.yaml
"$MILLRACE" run project logins >/dev/null
expect_eq "$(cat out/people.csv)" $'id,user\n1,alice\n2,root\n3,carol' "run: with \"user\" quoted the view runs"

finish
