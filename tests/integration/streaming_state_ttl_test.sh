#!/usr/bin/env bash
# State TTL of an upserting aggregate (`state_ttl:`): per-account totals into a keyed topic.
# Accounts not updated for state_ttl of event time are dropped from the state (the run reports
# fewer keys at its end), their last totals stay in the topic, and a later record starts such
# an account afresh. The state (with each group's last update) goes across runs, the last one
# restored at another parallelism (key groups rescaled).
source "$(dirname "$0")/lib/common.sh"

project=$WORK/ttl
mkdir -p "$project/pipelines"
printf 'name: ttl\ndata_dir: ./data\ninclude: [pipelines/*.yaml]\n' >"$project/millrace.yaml"
cat >"$project/pipelines/recent.yaml" <<'YAML'
name: recent
mode: streaming
state_ttl: 10m
parallelism: 1
sources:
  payments:
    topic: payments
    schema: { account: string not null, amount: double not null, ts: timestamp not null }
    event_time: ts
    watermark_delay: 0s
views:
  totals: |
    SELECT account, count(*) AS payments, sum(amount) AS spent FROM payments GROUP BY account
sinks:
  - { from: totals, topic: account_totals, key: account }
YAML

step() {  # <ndjson lines...>: produced, then one run over them; prints the run's state line
  printf '%s\n' "$@" >"$WORK/step.ndjson"
  "$MILLRACE" topic produce payments -p "$project" -i "$WORK/step.ndjson" >/dev/null
  "$MILLRACE" run "$project" recent --until-idle --idle 1s | grep 'state:'
}
newest() {  # the topic's newest record per account: account|payments|spent
  "$MILLRACE" topic consume account_totals -p "$project" | /usr/bin/python3 -c '
import json, sys
newest = {}
for line in sys.stdin:
    r = json.loads(line)
    r = r.get("value", r)
    if isinstance(r, str):
        r = json.loads(r)
    newest[r["account"]] = "%s|%d|%g" % (r["account"], r["payments"], r["spent"])
print(" ".join(newest[k] for k in sorted(newest)))'
}

"$MILLRACE" topic create payments -p "$project" --partitions 1 >/dev/null
out=$(step '{"account": "a", "amount": 5, "ts": "2026-01-01T00:00:00Z"}' \
           '{"account": "b", "amount": 7, "ts": "2026-01-01T00:01:00Z"}' \
           '{"account": "c", "amount": 1, "ts": "2026-01-01T00:02:00Z"}')
expect_contains "$out" "3 keys at most, 3 at the end" "first run: three accounts kept"
# 15 minutes later only b pays: a and c (last updated at 00:02) are dropped, b goes on.
out=$(step '{"account": "b", "amount": 1, "ts": "2026-01-01T00:15:00Z"}')
expect_contains "$out" "1 at the end" "second run: the accounts idle for the TTL are dropped"
expect_eq "$(newest)" "a|1|5 b|2|8 c|1|1" "their last totals stay in the topic"
# At parallelism 2 (the key groups restored by other subtasks): a comes back afresh, b counts
# on (updated at 00:15, within 10 minutes of 00:20).
sed -i 's/^parallelism: 1$/parallelism: 2/' "$project/pipelines/recent.yaml"
out=$(step '{"account": "a", "amount": 2, "ts": "2026-01-01T00:20:00Z"}' \
           '{"account": "b", "amount": 4, "ts": "2026-01-01T00:20:00Z"}')
expect_contains "$out" "2 at the end" "third run: a is back, b was kept"
expect_eq "$(newest)" "a|1|2 b|3|12 c|1|1" "a dropped account starts afresh; a kept one counts on"

# Without state_ttl nothing is dropped (the same records, another pipeline).
sed -e 's/^name: recent$/name: forever/' -e '/^state_ttl:/d' -e 's/account_totals/forever_totals/' \
  "$project/pipelines/recent.yaml" >"$project/pipelines/forever.yaml"
out=$("$MILLRACE" run "$project" forever --until-idle --idle 1s 2>&1)
expect_contains "$out" "3 keys at most, 3 at the end" "without state_ttl every account stays"
finish
