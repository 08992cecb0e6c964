#!/usr/bin/env bash
# examples/log-collection end to end, its results checked against the access log itself: PV and
# UV per page and minute exactly (UV is exact below 2,048 distinct visitors), p95/p99 load time
# within the sketch's 1% of percentile_disc, countries from the GeoIP database and browsers from
# the User-Agent as expected, and every broken view in the dead letters with its reason.
source "$(dirname "$0")/lib/common.sh"

project=$WORK/log-collection
cp -r "$ROOT/examples/log-collection" "$project"
rm -rf "$project/data" "$project/out" "$project/geo"
perl "$project/make_geo_db.pl" "$project/geo/city.mmdb"
out=$("$MILLRACE" validate "$project" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "the example validates once its GeoIP database exists"
/usr/bin/python3 "$project/make_access_log.py" --rows 12000 --seed 11 --bad-fraction 0.01 >"$WORK/access.ndjson"
"$MILLRACE" topic create access_log -p "$project" --partitions 2 >/dev/null
"$MILLRACE" topic produce access_log -p "$project" -i "$WORK/access.ndjson" --key-field user_id >/dev/null
out=$("$MILLRACE" run "$project" access_metrics --until-idle --idle 1s) && rc=0 || rc=$?
expect_eq "$rc" "0" "the streaming pipeline runs until idle"
expect_eq "$(grep -cE '(^|[ ,])[1-9][0-9]* late' <<<"$out" || true)" "0" "nothing is late (views arrive at most 3 s out of order, the delay is 5 s)"

# The expected numbers, from the log: per page and minute PV, UV, p95, p99 (percentile_disc).
/usr/bin/python3 - "$WORK/access.ndjson" "$project/out/page_minute.csv" "$project/out/rejected.ndjson" <<'PY'
import csv, datetime, ipaddress, json, math, sys
views, bad_ip, malformed = {}, set(), 0
for line in open(sys.argv[1]):
    try:
        v = json.loads(line)
    except ValueError:
        malformed += 1
        continue
    try:
        ipaddress.ip_address(v["client_ip"])
    except ValueError:
        bad_ip.add(v["ts"])
        continue
    t = datetime.datetime.strptime(v["ts"], "%Y-%m-%dT%H:%M:%S.%fZ")
    minute = t.replace(second=0, microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    page = v["url"].split("://", 1)[1].split("?")[0]
    page = page[page.index("/"):] if "/" in page else "/"
    views.setdefault((page, minute), []).append(v)
failures = 0
def check(ok, what):
    global failures
    print(("ok - " if ok else "not ok - ") + what)
    failures += 0 if ok else 1
rows = list(csv.DictReader(open(sys.argv[2])))
check(len(rows) == len(views), f"one row per page and minute ({len(rows)} of {len(views)})")
pv_ok = uv_ok = pct_ok = 0
worst = 0.0
for r in rows:
    vs = views.get((r["page"], r["window_start"]), [])
    pv_ok += int(r["pv"]) == len(vs)
    uv_ok += int(r["uv"]) == len({v["user_id"] for v in vs})
    loads = sorted(v["load_ms"] for v in vs)
    good = True
    for q, col in ((0.95, "p95_ms"), (0.99, "p99_ms")):
        exact = loads[max(0, math.ceil(q * len(loads)) - 1)]
        err = abs(float(r[col]) - exact) / exact
        worst = max(worst, err)
        good = good and err <= 0.0101
    pct_ok += good
check(pv_ok == len(rows), f"PV equals the log's count in every window ({pv_ok}/{len(rows)})")
check(uv_ok == len(rows), f"UV equals the log's distinct visitors in every window ({uv_ok}/{len(rows)})")
check(pct_ok == len(rows), f"p95 and p99 within 1% of percentile_disc (worst {worst:.4f})")
dead = [json.loads(l) for l in open(sys.argv[3])]
ip_dead = {d["row"]["ts"] for d in dead if "invalid IP address" in d.get("reason", "")}
json_dead = sum(1 for d in dead if d.get("reason", "").startswith("malformed JSON"))
check(len(bad_ip) > 0 and ip_dead == bad_ip,
      f"every view with a bad IP is a dead letter saying so ({len(ip_dead)} of {len(bad_ip)})")
check(json_dead == malformed and malformed > 0, f"every malformed line is a dead letter ({json_dead} of {malformed})")
sys.exit(1 if failures else 0)
PY
[ $? -eq 0 ] || fail "the page_minute results differ from the log"

q() { "$MILLRACE" query "$1" -p "$project" | sed -n 3p | tr -s ' '; }
expect_eq "$(q "SELECT count(DISTINCT country) AS n FROM audience_minute WHERE country <> '??'")" "5" \
  "the five countries of the GeoIP database's networks (GB SE DE JP BR)"
expect_eq "$(q "SELECT sum(pv) AS n FROM audience_minute WHERE browser = 'Firefox' AND os = 'Linux'")" \
  "$(grep -v '999.1.2.3' "$WORK/access.ndjson" | grep '}$' | grep -c 'Firefox/121.0"' || true)" \
  "Firefox on Linux counted from the User-Agent"
expect_eq "$(q "SELECT sum(pv) AS n FROM audience_minute WHERE device = 'iPhone'")" \
  "$(grep -v '999.1.2.3' "$WORK/access.ndjson" | grep '}$' | grep -c 'iPhone; CPU iPhone' || true)" \
  "iPhones recognized as the device"
expect_eq "$(q "SELECT sum(pages) AS n FROM visits")" "$(q "SELECT sum(pv) AS n FROM page_minute")" \
  "every view is in one visit (session window)"

expect_eq "$(q "SELECT ip_country('5.9.1.1') AS c, ip_city('81.2.69.7') AS city")" "DE London" \
  "millrace query uses the project's GeoIP database too"

# Without the database, ip_country() is a config error at validate time, not a crash.
rm "$project/geo/city.mmdb"
err=$("$MILLRACE" validate "$project" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "validate fails when the GeoIP database is missing"
expect_contains "$err" "millrace.yaml:8:" "at the geoip line of millrace.yaml"
expect_contains "$err" "does not exist" "saying why"
sed -i '/^geoip:/d' "$project/millrace.yaml"
err=$("$MILLRACE" validate "$project" 2>&1) && rc=0 || rc=$?
expect_contains "$err" "access_metrics.yaml:" "without geoip: the call is an error in the pipeline file"
expect_contains "$err" "ip_country() needs a MaxMind GeoIP database" "saying what to set"
finish
