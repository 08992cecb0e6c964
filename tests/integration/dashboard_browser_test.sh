#!/usr/bin/env bash
# The web dashboard in a real browser: headless Debian Chromium driven by playwright-core (npm)
# against `millrace serve` on the order-monitoring example (with a job, auth tokens and check
# results added). Every page loads with no console errors and shows the project's pipelines,
# topics, lake tables, feature views, jobs and check results, the dead letters (with a file set
# aside by a batch), the lineage graph and the catalog; the charts show the numbers the API
# answers; a click leads from a pipeline to its lineage and from a failed task to its log; the
# token is entered in the page; the trigger button starts a job run (checked through the API);
# stop/start work from the pipelines page; a phone-sized viewport has no horizontal overflow.
# Screenshots go to build/<tree>/artifacts/dashboard/.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/server.sh"

if [ ! -x /usr/bin/chromium ] || [ ! -d "$ROOT/node_modules/playwright-core" ]; then
  echo "not ok - needs /usr/bin/chromium and playwright-core (scripts/install-deps.sh installs both)"
  exit 1
fi
project=$WORK/om
cp -r "$ROOT/examples/order-monitoring" "$project"
rm -rf "$project/data" "$project/out"
cat >>"$project/millrace.yaml" <<'YAML'
serving:
  auth:
    tokens:
      - { token: dashboard-admin-token, scopes: [ingest, features, admin] }
YAML
sed -i 's|include: \[pipelines/\*.yaml, features/\*.yaml\]|include: [pipelines/*.yaml, features/*.yaml, jobs/*.yaml]|' "$project/millrace.yaml"
# Commit every second, so the page shows commits while it is open.
sed -i 's|^mode: streaming$|mode: streaming\ncheckpoint_interval: 1s|' "$project/pipelines/order_metrics.yaml"
mkdir -p "$project/jobs"
# Triggered only (no schedule): a cron tick during the test would take the interval the
# trigger asks for.
cat >"$project/jobs/hourly_report.yaml" <<'YAML'
name: hourly_report
tasks:
  summarize: { kind: shell, command: "echo summarizing" }
  publish: { kind: shell, command: "echo publishing", depends_on: [summarize] }
YAML
cat >"$project/jobs/quota_check.yaml" <<'YAML'
name: quota_check
defaults: { retries: 0 }
tasks:
  measure: { kind: shell, command: "echo measuring; echo 'disk quota exceeded on /data' >&2; exit 3" }
  report: { kind: shell, command: "echo reporting", depends_on: [measure] }
YAML
# A batch pipeline over files of which one is corrupt: set aside with its reason (the dead
# letters page lists it under "Files set aside").
mkdir -p "$project/ref/extra"
printf 'restaurant_id,name,cuisine\nr1,Sushi Ko,japanese\n' >"$project/ref/extra/a.csv"
printf 'restaurant_id,name,cuisine\nr2,Pho 24,vietnamese\n' >"$project/ref/extra/b.csv"
printf 'restaurant_id,"name\nr3,x\n' >"$project/ref/extra/broken.csv"
cat >"$project/pipelines/restaurant_files.yaml" <<'YAML'
name: restaurant_files
description: Restaurant reference data from the partners' CSV drops
owner: partner-data
tags: [reference]
sources:
  drops:
    file: { path: "ref/extra/*.csv", format: csv }
    schema: { restaurant_id: string not null, name: string, cuisine: string }
    max_bad_files: 1
sinks:
  - { from: drops, lake: { table: restaurants }, description: Every restaurant partners sent }
YAML
"$MILLRACE" validate "$project" >/dev/null
"$MILLRACE" run "$project" restaurant_files >/dev/null 2>&1
"$MILLRACE" generate orders --rows 3000 --bad-fraction 0.01 --seed 5 -o "$WORK/orders.ndjson" 2>/dev/null
"$MILLRACE" topic create orders -p "$project" --partitions 2 >/dev/null
"$MILLRACE" topic produce orders -p "$project" -i "$WORK/orders.ndjson" --key-field user_id >/dev/null 2>&1
# The lake table and the consumer's offsets, as a run of the pipeline leaves them.
"$MILLRACE" run "$project" order_metrics --until-idle >/dev/null 2>&1
# Check results as dataset-level rules record them (docs/quality.md).
mkdir -p "$project/data/checks"
cat >"$project/data/checks/order_metrics.ndjson" <<'NDJSON'
{"run":1,"at":"2026-11-01T10:00:00.000000Z","pipeline":"order_metrics","dataset":"orders","rule":"row_count","observed":"3000","bound":">= 1000","passed":true,"severity":"error"}
{"run":1,"at":"2026-11-01T10:00:00.000000Z","pipeline":"order_metrics","dataset":"orders","rule":"unique(order_id)","observed":"29 duplicates","bound":"0","passed":false,"severity":"warn"}
NDJSON

port=$(free_port)
start_server "$project" "$port" "$WORK/serve.log"
shots="$(cd "$(dirname "$MILLRACE")/../.." && pwd)/artifacts/dashboard"
mkdir -p "$shots"
profile=$(mktemp -d "$WORK/chromium-profile.XXXXXX")
set +e
node "$ROOT/tests/integration/lib/dashboard_browser.mjs" "http://127.0.0.1:$port" dashboard-admin-token "$shots" "$profile" \
  "$WORK/orders.ndjson"
status=$?
set -e
[ "$status" -eq 0 ] || { echo "serve log:"; tail -n 30 "$WORK/serve.log"; }
stop_server
exit "$status"
