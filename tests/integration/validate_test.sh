#!/usr/bin/env bash
# `millrace validate` on a valid and a broken project: every error is printed once with its
# file:line:column, the exit code is 1 on any error.
source "$(dirname "$0")/lib/common.sh"

out=$("$MILLRACE" validate "$ROOT/examples/order-monitoring" 2>&1); rc=$?
expect_eq "$rc" "0" "the example project is valid"
expect_contains "$out" "1 pipeline" "the example's pipeline is counted"
if grep -q "warning" <<<"$out"; then fail "no warning for the streaming pipeline: $out"; else pass "the streaming pipeline is checked like any other"; fi
# serve runs the streaming pipeline; without its topic it logs why it cannot and serves on.
source "$(dirname "$0")/lib/server.sh"
cp -r "$ROOT/examples/order-monitoring" "$WORK/orders"
rm -rf "$WORK/orders/data"
port=$(free_port)
start_server "$WORK/orders" "$port" "$WORK/serve.log"
stop_server
expect_contains "$(cat "$WORK/serve.log")" '"msg":"streaming pipeline failed","pipeline":"order_metrics"' "serve logs that the streaming pipeline cannot run"
expect_contains "$(cat "$WORK/serve.log")" 'topic `orders` does not exist' "and why"

mkdir -p "$WORK/broken/pipelines"
cd "$WORK/broken"
printf 'name: broken\ndata_dir: ./data\ninclude: [pipelines/*.yaml]\nlistn: x\n' > millrace.yaml
cat > pipelines/p.yaml <<'YAML'
name: p
mode: streaming
sorces:
  x: 1
sources:
  orders:
    topic: orders
    format: json
    schema: { order_id: string not null, amount: dubble not null }
    watermark_delay: 5 parsecs
views:
  v: "SELECT 1"
sinks:
  - { from: nowhere, topic: out }
YAML
set +e
out=$("$MILLRACE" validate "$WORK/broken" 2>&1); rc=$?
set -e
expect_eq "$rc" "1" "a broken project exits 1"
expect_contains "$out" "broken/millrace.yaml:4:1: error: unknown key \`listn\`" "unknown project key at 4:1"
expect_contains "$out" "did you mean \`listen\`" "suggests listen"
expect_contains "$out" "pipelines/p.yaml:9:50: error: unknown type \`dubble\`" "bad type at the word itself, 9:50"
expect_contains "$out" "pipelines/p.yaml:10:23: error:" "bad duration at 10:23"
expect_contains "$out" "pipelines/p.yaml:14:13: error: sink #1 reads from \`nowhere\`" "unknown sink input at 14:13"
expect_contains "$out" "pipelines/p.yaml:3:1: error: unknown key \`sorces\`" "unknown pipeline key at 3:1"
expect_contains "$out" "6 errors" "all errors reported, not just the first"

# What `run` refuses, `validate` reports, at the same file:line:column.
mkdir -p "$WORK/refused/pipelines" "$WORK/refused/in"
printf 'id,amount\n1,2\n' > "$WORK/refused/in/a.csv"
printf 'name: refused\ndata_dir: ./data\ninclude: [pipelines/*.yaml]\n' > "$WORK/refused/millrace.yaml"
cat > "$WORK/refused/pipelines/p.yaml" <<'YAML'
name: p
sources:
  s: { file: in/a.csv, schema: "id: int64, amount: double" }
views:
  v: SELECT * FROM s
  w: SELECT id FROM v
checks:
  v:
    - not_null: [id]
sinks:
  - { from: w, file: out/w.csv }
YAML
set +e
out=$("$MILLRACE" validate "$WORK/refused" 2>&1); rc=$?
run=$("$MILLRACE" run "$WORK/refused" p 2>&1)
set -e
expect_eq "$rc" "1" "validate refuses a check on a view no sink reads, as run does"
expect_contains "$out" "pipelines/p.yaml:9:7: error: checks on view \`v\`: no sink reads the view" "validate: at the check"
expect_contains "$run" "pipelines/p.yaml:9:7: error: checks on view \`v\`: no sink reads the view" "run: at the same place"
cat > "$WORK/refused/pipelines/p.yaml" <<'YAML'
name: p
sources:
  s: { file: in/a.csv, schema: "id: int64, amount: double" }
  k: { generator: { kind: orders } }
sinks:
  - { from: s, file: out/s.csv }
  - { from: dead_letter, lake: { table: dlq } }
YAML
set +e
out=$("$MILLRACE" validate "$WORK/refused" 2>&1); rc=$?
set -e
expect_eq "$rc" "1" "validate refuses what run refuses"
expect_contains "$out" "pipelines/p.yaml:4:3: error: source \`k\`: generator sources are not available to batch runs" "a generator in a batch pipeline"
expect_contains "$out" "pipelines/p.yaml:7:5: error: dead letters of a batch run go to a file or topic sink" "dead letters to a lake table"
printf 'name: p\nsources:\n  s: { file: "in/{{ day }}.csv" }\nsinks:\n  - { from: s, file: o.csv }\n' > "$WORK/refused/pipelines/p.yaml"
set +e
out=$("$MILLRACE" validate "$WORK/refused" 2>&1); rc=$?
set -e
expect_eq "$rc" "1" "an unknown path variable is a config error"
expect_contains "$out" "pipelines/p.yaml:3:18: error: \`file\` of source \`s\`: unknown variable \`day\`" "at its {{"
cat > "$WORK/refused/pipelines/p.yaml" <<'YAML'
name: p
vars: { day: a }
sources:
  s: { file: "in/{{ day }}.csv", schema: "id: int64, amount: double" }
  t: { file: "in/{{ ds }}.csv" }
sinks:
  - { from: s, file: out/s.csv }
  - { from: t, file: out/t.csv }
YAML
set +e
out=$("$MILLRACE" validate "$WORK/refused" 2>&1); rc=$?
set -e
expect_eq "$rc" "0" "validate accepts path variables without --var"
expect_contains "$out" "assumed \`{{ day }}\` = \`a\` (its default under vars:)" "saying which default it used"
expect_contains "$out" "assumed \`{{ ds }}\` = \`*\` (any file)" "and what it assumed for a variable without a value"
set +e
out=$("$MILLRACE" validate "$WORK/refused" --var ds=a --var day=b 2>&1); rc=$?
run=$("$MILLRACE" run "$WORK/refused" p 2>&1); run_rc=$?
set -e
expect_eq "$rc" "0" "validate accepts --var values"
expect_eq "$run_rc" "1" "run without a value for {{ ds }} fails"
expect_contains "$run" "pipelines/p.yaml:5:14: error: source \`t\` uses \`{{ ds }}\`, which has no value" "at the path, saying how to give it"
out=$("$MILLRACE" run "$WORK/refused" p --var ds=a 2>&1)
expect_contains "$out" "1 rows read" "run --var fills the path"

printf 'name: [unclosed\n' > "$WORK/broken/millrace.yaml"
set +e
out=$("$MILLRACE" validate "$WORK/broken" 2>&1); rc=$?
set -e
expect_eq "$rc" "1" "a YAML syntax error exits 1"
expect_contains "$out" "millrace.yaml:" "the YAML syntax error is located"
finish
