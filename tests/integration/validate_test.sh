#!/usr/bin/env bash
# `millrace validate` on a valid and a broken project: every error is printed once with its
# file:line:column, the exit code is 1 on any error.
source "$(dirname "$0")/lib/common.sh"

out=$("$MILLRACE" validate "$ROOT/examples/order-monitoring" 2>&1); rc=$?
expect_eq "$rc" "0" "the example project is valid"
expect_contains "$out" "1 pipeline" "the example's pipeline is counted"

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

printf 'name: [unclosed\n' > "$WORK/broken/millrace.yaml"
set +e
out=$("$MILLRACE" validate "$WORK/broken" 2>&1); rc=$?
set -e
expect_eq "$rc" "1" "a YAML syntax error exits 1"
expect_contains "$out" "millrace.yaml:" "the YAML syntax error is located"
finish
