#!/usr/bin/env bash
# millrace jobs: retries with backoff, timeouts that kill the process group, backfill and
# catchup, restart after kill -9 without double runs, file sensors, http tasks and the webhook
# notifications (failure, recovery, SLA miss) received by a local HTTP listener.
source "$(dirname "$0")/lib/common.sh"

project=$WORK/proj
mkdir -p "$project/jobs" "$project/state"
cat >"$project/millrace.yaml" <<YAML
name: sched-test
data_dir: ./data
include: [jobs/*.yaml]
YAML
S=$project/state

node "$ROOT/tests/integration/lib/webhook_listener.mjs" "$WORK/hooks.ndjson" >"$WORK/port" &
listener=$!
trap 'kill $listener 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 50); do [ -s "$WORK/port" ] && break; sleep 0.1; done
port=$(cat "$WORK/port")

# --- retries with backoff; a recovery fires the webhook --------------------------------------
cat >"$project/jobs/flaky.yaml" <<YAML
name: flaky
webhooks: [http://127.0.0.1:$port/hook]
tasks:
  flaky:
    kind: shell
    command: echo "attempt" >> $S/flaky; [ \$(wc -l < $S/flaky) -ge 3 ]
    retries: 3
    retry_delay: 100ms
    max_retry_delay: 300ms
  after: { kind: shell, command: "echo {{ ds }} > $S/after", depends_on: [flaky] }
YAML
out=$("$MILLRACE" jobs run "$project" flaky --date 2026-11-20 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "a task failing twice succeeds on its third attempt"
expect_eq "$(wc -l <"$S/flaky")" "3" "three attempts ran"
expect_contains "$out" "retrying in" "retries are announced with their backoff"
expect_contains "$("$MILLRACE" jobs history "$project" flaky)" "attempt 3  success" "history lists the attempts"
expect_contains "$(cat "$WORK/hooks.ndjson" 2>/dev/null)" '\"event\":\"recovery\"' "success after failures fires a recovery webhook"

# --- a timeout kills the whole process group ----------------------------------------------
cat >"$project/jobs/slow.yaml" <<YAML
name: slow
webhooks: [http://127.0.0.1:$port/hook]
tasks:
  slow:
    kind: shell
    command: (sleep 2; touch $S/survivor) & echo started; sleep 30
    timeout: 300ms
  never: { kind: shell, command: "touch $S/never", depends_on: [slow] }
YAML
start=$(date +%s)
out=$("$MILLRACE" jobs run "$project" slow 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "a timed-out run fails"
expect_contains "$out" "timed out after 300 ms" "the task reports its timeout"
expect_contains "$out" "upstream_failed" "its downstream is upstream_failed"
[ $(( $(date +%s) - start )) -lt 10 ] && pass "the run did not wait for the sleep" || fail "run took too long"
sleep 2.3
[ ! -e "$S/survivor" ] && pass "the background child was killed with its group" || fail "a child survived the timeout"
[ ! -e "$S/never" ] && pass "downstream of a failed task never ran" || fail "downstream ran"
hooks=$(cat "$WORK/hooks.ndjson")
expect_contains "$hooks" '\"event\":\"failure\"' "a failure after retries fires a webhook"
expect_contains "$hooks" 'started' "the webhook carries the log tail"

# --- SLA miss -----------------------------------------------------------------------------
cat >"$project/jobs/late.yaml" <<YAML
name: late
webhooks: [http://127.0.0.1:$port/hook]
tasks:
  late: { kind: shell, command: "sleep 1", sla: 100ms }
YAML
"$MILLRACE" jobs run "$project" late >/dev/null 2>&1 || true
expect_contains "$(cat "$WORK/hooks.ndjson")" '\"event\":\"sla_miss\"' "an SLA miss fires a webhook"

# --- http task, and a file sensor that waits for the day's file -----------------------------
cat >"$project/jobs/sensor.yaml" <<YAML
name: sensor
schedule: "@daily"
tasks:
  wait: { kind: wait_for_file, path: "incoming/sales_{{ ds_nodash }}.csv", poke_interval: 100ms, timeout: 20s }
  ping: { kind: http, url: "http://127.0.0.1:$port/ping?ds={{ ds }}", depends_on: [wait] }
  teapot: { kind: http, url: "http://127.0.0.1:$port/x?status=418", expected_status: 418, depends_on: [wait] }
YAML
"$MILLRACE" jobs run "$project" sensor --date 2026-11-02 >"$WORK/sensor.out" 2>&1 &
runner=$!
sleep 1
mkdir -p "$project/incoming" && touch "$project/incoming/sales_20261102.csv"
wait $runner && rc=0 || rc=$?
expect_eq "$rc" "0" "the sensor run succeeds once the file appears"
expect_contains "$(cat "$WORK/sensor.out")" "found $project/incoming/sales_20261102.csv" "the sensor found the day's file"
expect_contains "$(cat "$WORK/hooks.ndjson")" '"url":"/ping?ds=2026-11-02"' "the http task sent its templated request"

# --- backfill: its own budget, progress, never twice ---------------------------------------
cat >"$project/jobs/daily.yaml" <<YAML
name: daily
schedule: "@daily"
tasks:
  write: { kind: shell, command: "echo {{ ds }} >> $S/daily" }
YAML
out=$("$MILLRACE" jobs backfill "$project" daily --from 2026-11-01 --to 2026-11-04 --concurrency 2 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "backfill exits 0"
expect_contains "$out" "[4/4]" "backfill reports progress"
expect_eq "$(sort "$S/daily" | tr '\n' ' ')" "2026-11-01 2026-11-02 2026-11-03 2026-11-04 " "each interval ran once with its ds"
out=$("$MILLRACE" jobs backfill "$project" daily --from 2026-11-01 --to 2026-11-04 2>&1)
expect_contains "$out" "0 interval(s) to run, 4 already run" "a second backfill runs nothing again"
expect_eq "$(wc -l <"$S/daily")" "4" "no interval ran twice"

# --- kill -9 mid-run, restart: resumed, nothing completed runs twice ----------------------
cat >"$project/jobs/crash.yaml" <<YAML
name: crash
schedule: "@daily"
tasks:
  first: { kind: shell, command: "echo first >> $S/first" }
  long:
    kind: shell
    depends_on: [first]
    command: echo long >> $S/long; if [ ! -e $S/long_started ]; then touch $S/long_started; sleep 61; fi
  last: { kind: shell, command: "echo last >> $S/last", depends_on: [long] }
YAML
"$MILLRACE" jobs run "$project" crash --date 2026-11-10 >/dev/null 2>&1 &
scheduler=$!
for _ in $(seq 100); do [ -e "$S/long_started" ] && break; sleep 0.1; done
kill -9 $scheduler; wait $scheduler 2>/dev/null || true
orphan=$(pgrep -f "sleep 61" | head -1 || true)
[ -n "$orphan" ] && pass "the task process outlived the killed scheduler" || fail "no orphan to recover"
out=$("$MILLRACE" jobs run "$project" crash --date 2026-11-10 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "the restarted scheduler finishes the run"
expect_contains "$out" "orphaned" "the orphaned task is detected"
expect_eq "$(wc -l <"$S/first")" "1" "a task that had finished is not run again"
expect_eq "$(wc -l <"$S/long")" "2" "the orphaned task is retried once"
expect_eq "$(wc -l <"$S/last")" "1" "downstream runs once"
# Killed means gone, or a zombie waiting for init to reap it.
{ [ -z "$orphan" ] || [ ! -e /proc/$orphan ] || grep -q '^[0-9]* ([^)]*) Z' /proc/$orphan/stat; } && pass "the orphaned process group was killed" || fail "orphan still alive"
expect_eq "$("$MILLRACE" jobs history "$project" crash | grep -c '^crash@')" "1" "one run for the interval"
expect_contains "$("$MILLRACE" jobs history "$project" crash)" "attempt 1  orphaned" "history shows the orphaned attempt"

# --- serve: catchup of missed hourly intervals, then SIGTERM ------------------------------
yesterday=$(date -u -d yesterday +%Y-%m-%d)
cat >"$project/jobs/hourly.yaml" <<YAML
name: hourly
schedule: "@hourly"
catchup: true
start_date: $yesterday
max_active_runs: 4
tasks:
  tick: { kind: shell, command: "echo {{ data_interval_start }} >> $S/hourly" }
YAML
expected=$(( 24 + $(date -u +%-H) ))
"$MILLRACE" jobs serve "$project" >"$WORK/serve.out" 2>&1 &
server=$!
for _ in $(seq 150); do [ "$(cat "$S/hourly" 2>/dev/null | wc -l)" -ge "$expected" ] && break; sleep 0.1; done
kill -TERM $server; wait $server && rc=0 || rc=$?
expect_eq "$rc" "0" "serve stops cleanly on SIGTERM"
got=$(sort -u "$S/hourly" | wc -l)
[ "$got" -ge "$expected" ] && pass "catchup ran the $expected missed hourly intervals" || fail "catchup ran $got of $expected"
expect_eq "$(wc -l <"$S/hourly")" "$got" "no hourly interval ran twice"

# --- file trigger: a new file matching the glob starts a run while serving -------------------
rm -f "$project/jobs/hourly.yaml"
mkdir -p "$project/drop" && touch "$project/drop/old.csv"
cat >"$project/jobs/ondrop.yaml" <<YAML
name: ondrop
triggers: [{ file: "drop/*.csv", poke_interval: 100ms }]
tasks:
  load: { kind: shell, command: "ls drop >> $S/ondrop" }
YAML
"$MILLRACE" jobs serve "$project" >"$WORK/serve2.out" 2>&1 &
server=$!
sleep 0.5
touch "$project/drop/new.csv"
for _ in $(seq 50); do [ -s "$S/ondrop" ] && break; sleep 0.1; done
sleep 0.3
kill -TERM $server; wait $server || true
expect_eq "$(grep -c 'new.csv' "$S/ondrop" 2>/dev/null || echo 0)" "1" "a new file starts one run"
expect_contains "$(cat "$WORK/serve2.out")" "file trigger: $project/drop/new.csv" "the trigger names the file"

# --- a failed state-store write stops scheduling and says why --------------------------------
cat >"$project/jobs/store.yaml" <<YAML
name: store
tasks:
  write: { kind: shell, command: "touch $S/store_ran" }
YAML
db=$project/data/scheduler.db
# Every new attempt row fails, as on a full disk (installed through a connection of its own).
sqlite3 "$db" "CREATE TRIGGER fail_attempts BEFORE INSERT ON attempts BEGIN SELECT RAISE(ABORT, 'injected write failure'); END;"
out=$("$MILLRACE" jobs run "$project" store --date 2026-11-05 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "jobs run fails when the state store cannot be written"
expect_contains "$out" "scheduling stopped: a state store write failed" "the failure says scheduling stopped"
expect_contains "$out" "injected write failure" "and why"
expect_eq "$([ -e "$S/store_ran" ] && echo ran || echo 'not run')" "not run" "no task starts after the failed write"
# `jobs serve` exits 1 with the reason once a write failed (here the ondrop file trigger's run).
"$MILLRACE" jobs serve "$project" >"$WORK/serve3.out" 2>&1 &
server=$!
sleep 0.5
touch "$project/drop/newer.csv"
for _ in $(seq 100); do kill -0 $server 2>/dev/null || break; sleep 0.1; done
kill -TERM $server 2>/dev/null || true
wait $server && rc=0 || rc=$?
expect_eq "$rc" "1" "jobs serve exits 1 when a state-store write fails"
expect_contains "$(cat "$WORK/serve3.out")" "scheduling stopped: a state store write failed" "and says why"
sqlite3 "$db" "DROP TRIGGER fail_attempts;"
out=$("$MILLRACE" jobs run "$project" store --date 2026-11-05 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "once the store is writable again the interrupted run is taken over and finishes"
expect_eq "$([ -e "$S/store_ran" ] && echo ran || echo 'not run')" "ran" "its task ran"

# --- bad input ------------------------------------------------------------------------------
bad=$WORK/bad
mkdir -p "$bad/jobs"
printf 'name: bad\ninclude: [jobs/*.yaml]\n' >"$bad/millrace.yaml"
printf 'name: cyc\nschedule: "0 2 * * 8"\ntasks:\n  a: { kind: shell, command: x, depends_on: [b] }\n  b: { kind: shell, command: x, depends_on: [a] }\n' >"$bad/jobs/cyc.yaml"
out=$("$MILLRACE" jobs list "$bad" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "a bad job fails to load"
expect_contains "$out" "cyc.yaml:2:20: error: \`schedule\` of job \`cyc\`: cron day-of-week field: 8 is out of range" "a bad cron names field and position"
out=$("$MILLRACE" validate "$bad" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "validate checks jobs too"
expect_contains "$out" "cron day-of-week field" "validate reports the cron error"
sed -i 's/ 8"/ 1"/' "$bad/jobs/cyc.yaml"
out=$("$MILLRACE" jobs list "$bad" 2>&1) || true
expect_contains "$out" "dependency cycle: a -> b -> a" "a cycle is named"

finish
