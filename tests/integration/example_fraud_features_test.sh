#!/usr/bin/env bash
# examples/fraud-features end to end: transactions on a topic, the streaming pipeline run until
# idle, then the features served by `millrace serve` over the example's YAML route checked
# against the transactions themselves: every account's lifetime totals (count, sum, largest,
# distinct merchants and devices) equal a GROUP BY computed here, and its last-10-minutes
# features equal the transactions of its latest hop window.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/server.sh"

project=$WORK/fraud-features
cp -r "$ROOT/examples/fraud-features" "$project"
rm -rf "$project/data" "$project/out"
port=$(free_port)
sed -i "s/127.0.0.1:8095/127.0.0.1:$port/" "$project/millrace.yaml"
/usr/bin/python3 "$project/make_transactions.py" --rows 8000 --seed 5 >"$WORK/tx.ndjson"
"$MILLRACE" topic create transactions -p "$project" --partitions 2 >/dev/null
"$MILLRACE" topic produce transactions -p "$project" -i "$WORK/tx.ndjson" --key-field account_id >/dev/null
out=$("$MILLRACE" run "$project" account_features --until-idle --idle 1s) && rc=0 || rc=$?
expect_eq "$rc" "0" "the streaming pipeline runs until idle"
expect_contains "$out" "8000 rows read" "every transaction is read"

accounts=$(/usr/bin/python3 -c '
import json, sys
print(" ".join(sorted({json.loads(l)["account_id"] for l in open(sys.argv[1])})[:300]))' "$WORK/tx.ndjson")
start_server "$project" "$port" "$WORK/serve.log"
for account in $accounts a-00007 a-00042; do
  curl -s "http://127.0.0.1:$port/risk/account?id=$account"; echo
done >"$WORK/totals.ndjson"
for account in a-00007 a-00042; do
  curl -s "http://127.0.0.1:$port/v1/features/account_10m?account_id=$account"; echo
done >"$WORK/last10.ndjson"
unknown=$(curl -s "http://127.0.0.1:$port/risk/account?id=nobody")
stop_server
expect_contains "$unknown" '"txns":0' "an unknown account reads as the defaults"

diff=$(/usr/bin/python3 - "$WORK/tx.ndjson" "$WORK/totals.ndjson" "$WORK/last10.ndjson" <<'PY'
import datetime, json, sys
tx = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for t in tx:
    by.setdefault(t["account_id"], []).append(t)
def totals(ts):
    return {"txns": len(ts), "spent": round(sum(t["amount"] for t in ts), 2),
            "largest": max(t["amount"] for t in ts),
            "merchants": len({t["merchant_id"] for t in ts}),
            "devices": len({t["device_id"] for t in ts})}
bad = []
served = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
for s in served:
    want = totals(by[s["key"]["id"]])
    got = s["features"]
    if any(abs(got[k] - want[k]) > 0.005 for k in want):
        bad.append(f"{s['key']['id']}: served {got}, expected {want}")
print(f"checked {len(served)}", file=sys.stderr)
parse = lambda v: datetime.datetime.strptime(v, "%Y-%m-%dT%H:%M:%S.%fZ")
for line in filter(str.strip, open(sys.argv[3])):
    s = json.loads(line)
    ts = by[s["key"]["account_id"]]
    end = datetime.datetime.strptime(s["event_timestamp"], "%Y-%m-%dT%H:%M:%SZ")
    last = max(parse(t["ts"]) for t in ts)
    if end != last.replace(second=0, microsecond=0) + datetime.timedelta(minutes=10):
        bad.append(f"{s['key']}: latest window ends {end}, its last transaction is at {last}")
    inside = [t for t in ts if end - datetime.timedelta(minutes=10) <= parse(t["ts"]) < end]
    want = {"txns_10m": len(inside), "spent_10m": round(sum(t["amount"] for t in inside), 2),
            "merchants_10m": len({t["merchant_id"] for t in inside}),
            "devices_10m": len({t["device_id"] for t in inside})}
    if any(abs(s["features"][k] - want[k]) > 0.005 for k in want):
        bad.append(f"{s['key']}: served {s['features']}, expected {want}")
print("\n".join(bad[:5]))
PY
)
expect_eq "$diff" "" "served totals and last-10-minute features equal the transactions' own GROUP BY"
spree=$(grep -o '"merchants":[0-9]*' "$WORK/totals.ndjson" | tail -1 | cut -d: -f2)
if [ "${spree:-0}" -ge 50 ]; then pass "the spree account stands out ($spree merchants)"; else fail "spree account: [$spree] merchants"; fi
finish
