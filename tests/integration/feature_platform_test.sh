#!/usr/bin/env bash
# examples/feature-platform as its README runs it: user activity → pipeline → lake →
# `millrace materialize` → `millrace serve` answering GET /feature/user?uid=… with the values
# DuckDB computes from the same files; the nightly job triggered over HTTP materializes through
# the server; captured traffic replays with no mismatch; a corrupt store refuses to start and
# `materialize --rebuild` brings it back from the lake.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/server.sh"

project=$WORK/fp
cp -r "$ROOT/examples/feature-platform" "$project"
rm -rf "$project/incoming" "$project/out" "$project/data"
port=$(free_port)
sed -i "s/127.0.0.1:8090/127.0.0.1:$port/" "$project/millrace.yaml"
url=http://127.0.0.1:$port
gen=$("$MILLRACE" generate activity --days 35 --rows-per-day 2000 --users 500 --bad-fraction 0.01 \
  --output-dir "$project/incoming" 2>&1)
total=$(grep -oE '^generate: [0-9]+' <<<"$gen" | grep -oE '[0-9]+')

out=$("$MILLRACE" validate "$project" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "the example validates"
out=$("$MILLRACE" run "$project" user_features) && rc=0 || rc=$?
expect_eq "$rc" "0" "the feature pipeline runs"
read_rows=$(grep -oE '[0-9]+ rows read' <<<"$out" | cut -d' ' -f1)
rejected=$(grep -oE '[0-9]+ rejected' <<<"$out" | head -1 | cut -d' ' -f1)
expect_eq "$((read_rows + rejected))" "$total" "events = rows read + rejected"
out=$("$MILLRACE" materialize "$project" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "materialize exits 0"
expect_contains "$out" "user_features <- lake table user_features" "materialize reports the user view"
users=$(grep -oE 'user_features <- .*: [0-9]+ rows read' <<<"$out" | grep -oE '[0-9]+ rows read' | cut -d' ' -f1)

# DuckDB computes clicks and purchases of the last 30 days per user from the same files, as of
# the pipeline's now() (the computed_at it stored).
files=$("$MILLRACE" lake files user_features -p "$project" | cut -f1 | sed "s|^|'$project/data/lake/user_features/|; s|$|'|" | paste -sd,)
as_of=$(duckdb "SELECT strftime(min(computed_at), '%Y-%m-%d %H:%M:%S.%f') AS t FROM read_parquet([$files])" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).t))')
q="SELECT user_id, sum(CASE WHEN event_type = 'click' THEN 1 ELSE 0 END) AS clicks_30d,
          sum(CASE WHEN event_type = 'purchase' THEN 1 ELSE 0 END) AS purchases_30d
   FROM read_csv('$project/incoming/activity_*.csv', header=true, ignore_errors=true,
     columns={'event_id':'BIGINT','event_time':'TIMESTAMP','user_id':'BIGINT','session_id':'VARCHAR',
              'event_type':'VARCHAR','product_id':'BIGINT','category':'VARCHAR','price':'DOUBLE'})
   WHERE event_time >= TIMESTAMP '$as_of' - INTERVAL 30 DAY GROUP BY user_id"
ours="SELECT user_id, clicks_30d, purchases_30d FROM read_parquet([$files])"
diff=$(duckdb "SELECT count(*) AS n FROM (($q) EXCEPT ALL ($ours)) UNION ALL SELECT count(*) FROM (($ours) EXCEPT ALL ($q))")
expect_eq "$(tr -d '\n' <<<"$diff")" '{"n":"0"}{"n":"0"}' "DuckDB computes the same user features"
expect_eq "$(duckdb "SELECT count(*) AS n FROM ($q)")" "{\"n\":\"$users\"}" "one row per active user"

# Serve: the route answers what DuckDB computed, with its renames and int → float.
start_server "$project" "$port" "$WORK/serve.log"
sleep 0.2
for uid in 1 7 42; do
  want=$(duckdb "SELECT clicks_30d, purchases_30d FROM ($q) WHERE user_id = $uid")
  clicks=$(node -e 'console.log(JSON.parse(process.argv[1]).clicks_30d)' "$want")
  purchases=$(node -e 'console.log(JSON.parse(process.argv[1]).purchases_30d)' "$want")
  got=$(curl -s "$url/feature/user?uid=$uid")
  expect_contains "$got" "\"status\":\"PRESENT\"" "user $uid is present"
  expect_contains "$got" "\"clicks_30d\":$clicks.0," "user $uid: clicks_30d as DuckDB counts them, served as a float"
  expect_contains "$got" "\"purchases_30d\":$purchases," "user $uid: purchases_30d as DuckDB counts them"
done
got=$(curl -s "$url/feature/user?uid=987654")
expect_contains "$got" '"status":"NOT_FOUND"' "an unknown user is NOT_FOUND"
expect_contains "$got" '"clicks_30d":0.0' "an unknown user gets the typed defaults"
got=$(curl -s -w ' %{http_code}' "$url/feature/user?uid=abc")
expect_contains "$got" 'must be an int64, got `abc`' "a wrong key type is named"
expect_eq "${got##* }" "400" "a wrong key type is a 400"
got=$(curl -s -w ' %{http_code}' "$url/feature/user")
expect_contains "$got" "uid" "a missing key parameter is named"
expect_contains "$got" " 400" "a missing key parameter is a 400"
got=$(curl -s -w ' %{http_code}' "$url/feature/usr?uid=1")
expect_contains "$got" 'did you mean /feature/user?' "an unknown route gets a suggestion"
expect_eq "${got##* }" "404" "an unknown route is a 404"
got=$(curl -s "$url/feature/product?pid=1")
expect_contains "$got" '"heat":' "the product route serves heat"

# Captured traffic (serving.capture) replays against the same instance with no mismatch.
sleep 0.5
out=$("$MILLRACE" replay --from "$url" --topic feature_requests --target "$url" --rate 200 --compare 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "replay exits 0"
expect_contains "$out" "matched 7, mismatches 0" "replayed responses match the captured ones"

# The README's Feast request: features of two views with different entities, each view taking
# its entity from `entities`, rows aligned by index; a view whose entity is missing is a 400.
out=$(curl -s -w ' %{http_code}' -d '{"features":["user_features:clicks_30d","product_features:heat_7d"],
          "entities":{"user_id":[1,2],"product_id":[7,8]}}' "$url/get-online-features" | tr -d '\n')
expect_contains "$out" '{"metadata":{"feature_names":["user_id","product_id","clicks_30d","heat_7d"]},"results":[{"values":[1,2],' "Feast: two views, two entities"
expect_contains "$out" '{"values":[7,8],"statuses":["PRESENT","PRESENT"]' "Feast: the product entity column"
expect_contains "$out" ' 200' "Feast: two views answer 200"
out=$(curl -s -w ' %{http_code}' -d '{"features":["user_features:clicks_30d","product_features:heat_7d"],"entities":{"user_id":[1,2]}}' "$url/get-online-features" | tr -d '\n')
expect_contains "$out" 'missing entity `product_id` (view `product_features` needs it)' "Feast: a missing entity is named"
expect_contains "$out" ' 400' "Feast: a missing entity is a 400"

# The README's push: a row without event_timestamp (now) is served by the route at once.
out=$(curl -s -H 'Content-Type: application/x-ndjson' \
  --data-binary '{"user_id":123456,"clicks_30d":5,"purchases_30d":1}' \
  "$url/v1/features/user_features/upsert")
expect_eq "$out" '{"upserted":1,"unchanged":0,"rejected":0,"unchanged_rows":[],"errors":[]}' "push: the README's upsert"
got=$(curl -s "$url/feature/user?uid=123456")
expect_contains "$got" '"status":"PRESENT"' "push: the route serves the pushed row"
expect_contains "$got" '"clicks_30d":5.0,"purchases_30d":1,' "push: with its values"
expect_contains "$(curl -s -w ' %{http_code}' "$url/readyz")" '{"status":"ready"' "/readyz: ready"

# jobs show: durations as the YAML writes them.
out=$("$MILLRACE" jobs show "$project" refresh_features)
expect_contains "$out" "retries 2 (delay 30s, max 10m) timeout 1h" "jobs show: human durations"

# The nightly job, triggered over HTTP: its materialize tasks go through the server.
before=$(curl -s "$url/feature/user?uid=1" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).event_timestamp))')
curl -s -X POST "$url/v1/jobs/refresh_features/trigger" >/dev/null
state=
for _ in $(seq 1 200); do
  state=$(curl -s "$url/v1/runs?job=refresh_features" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const r=JSON.parse(s).runs;console.log(r.length?r[0].state:"none")})')
  case "$state" in success|failed) break ;; esac
  sleep 0.1
done
expect_eq "$state" "success" "the refresh job succeeds under serve"
after=$(curl -s "$url/feature/user?uid=1" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).event_timestamp))')
if [[ "$after" > "$before" ]]; then pass "the job's materialize reached the served store"; else fail "event time did not move: $before -> $after"; fi
out=$("$MILLRACE" materialize "$project" user_features 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "materialize while serving exits 0"
expect_contains "$out" "materializing through $url" "materialize goes through the server holding the store"
stop_server

# A corrupt store refuses to start with a clear message; --rebuild rebuilds it from the lake.
for manifest in "$project"/data/online/MANIFEST-*; do
  printf 'garbage garbage garbage garbage' | dd of="$manifest" bs=1 seek=10 conv=notrunc status=none
done
out=$(timeout 20 "$MILLRACE" serve "$project" --listen "127.0.0.1:$port" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "serve refuses a corrupt store"
expect_contains "$out" "is corrupt" "the refusal says the store is corrupt"
expect_contains "$out" "millrace materialize" "the refusal names the fix"
out=$("$MILLRACE" materialize "$project" --rebuild 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "materialize --rebuild recovers"
expect_contains "$out" "moved the corrupt online store to" "the damaged store is kept aside"
start_server "$project" "$port" "$WORK/serve2.log"
expect_contains "$(curl -s "$url/feature/user?uid=1")" '"status":"PRESENT"' "the rebuilt store serves"
stop_server
finish
