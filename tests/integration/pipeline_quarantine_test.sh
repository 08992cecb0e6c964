#!/usr/bin/env bash
# Partial failure of a batch: 100 files of which 2 are corrupt. The two are set aside whole with
# their reasons (run summary, dead-letter file, GET /v1/dead-letters?stage=file), the other 98
# are processed, and the source's max_bad_files policy (a count or a share of the files) says
# how many bad files fail the run; a failed run commits nothing.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/server.sh"

project=$WORK/q
mkdir -p "$project/pipelines" "$project/in"
printf 'name: q\ndata_dir: ./data\ninclude: [pipelines/*.yaml]\n' >"$project/millrace.yaml"
write_pipeline() {  # <max_bad_files>
  cat >"$project/pipelines/daily.yaml" <<YAML
name: daily
sources:
  sales:
    file: { path: "in/*.csv", format: csv }
    schema: { id: int64 not null, amount: double not null }
    max_bad_files: $1
views:
  total: SELECT count(*) AS n, sum(amount) AS amount FROM sales
sinks:
  - { from: total, file: out/total.csv }
YAML
}
for i in $(seq -w 1 100); do
  printf 'id,amount\n%d,1\n%d,2\n' "$((10#$i * 2))" "$((10#$i * 2 + 1))" >"$project/in/f$i.csv"
done
printf 'id,"amount\n1,1\n' >"$project/in/f037.csv"     # an unterminated quote in the header
printf 'id,price\n1,1\n' >"$project/in/f081.csv"       # lacks the declared column `amount`

write_pipeline 2
out=$("$MILLRACE" run "$project" daily 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "2 corrupt files of 100 within max_bad_files: 2 do not fail the run"
expect_contains "$out" "196 rows read, 0 rejected (100 files, 2 set aside" "the other 98 files are read (2 rows each)"
expect_contains "$out" "set aside $project/in/f037.csv: " "the summary names the first corrupt file"
expect_contains "$out" "set aside $project/in/f081.csv: " "and the second"
expect_eq "$(tail -1 "$project/out/total.csv")" "196,294" "the sink holds the 98 good files' rows"
dlq="$project/data/dead_letter/daily.ndjson"
expect_eq "$(grep -c '"stage":"file"' "$dlq")" "2" "the dead letters list the 2 files set aside"
expect_eq "$(wc -l <"$dlq")" "2" "and nothing else"

# The API lists the quarantined files with their reasons.
port=$(free_port)
start_server "$project" "$port" "$WORK/serve.log"
api=$(curl -sf "http://127.0.0.1:$port/v1/dead-letters?stage=file")
check=$(/usr/bin/python3 - "$api" "$project" <<'PY'
import json, sys
body, project = json.loads(sys.argv[1]), sys.argv[2]
files = sorted(d["file"] for d in body["dead_letters"])
assert body["matched"] == 2, body
assert files == [f"{project}/in/f037.csv", f"{project}/in/f081.csv"], files
assert all(d["reason"] and d["pipeline"] == "daily" and d["source"] == "sales" for d in body["dead_letters"]), body
assert body["stages"] == {"file": 2}, body
print("ok")
PY
)
expect_eq "$check" "ok" "GET /v1/dead-letters?stage=file answers the 2 files with their reasons"
one=$(curl -sf "http://127.0.0.1:$port/v1/dead-letters?pipeline=daily&q=f081")
expect_contains "$one" '"matched":1' "a search finds one of them"
expect_contains "$one" "amount" "whose reason names the missing column"
status=$(curl -s -o "$WORK/bad.json" -w '%{http_code}' "http://127.0.0.1:$port/v1/dead-letters?pipeline=dayly")
expect_eq "$status" "404" "an unknown pipeline is a 404"
expect_contains "$(cat "$WORK/bad.json")" 'did you mean `daily`' "with a JSON body naming the nearest"
stop_server

# The policy: one bad file allowed, two found: the run fails and commits nothing.
rm -rf "$project/out"
write_pipeline 1
out=$("$MILLRACE" run "$project" daily 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "max_bad_files: 1 fails the run on the second corrupt file"
expect_contains "$out" "f081.csv (1 file set aside already, max_bad_files: 1)" "naming the file and the budget"
expect_eq "$([ -e "$project/out/total.csv" ] && echo written || echo none)" "none" "a failed run writes no sink"

# As a share of the files the glob matches: 2% of 100 is 2, 1% is 1.
write_pipeline "2%"
out=$("$MILLRACE" run "$project" daily 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "max_bad_files: 2% allows 2 of 100"
expect_contains "$out" "(100 files, 2 set aside" "and sets them aside"
write_pipeline "1%"
out=$("$MILLRACE" run "$project" daily 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "max_bad_files: 1% allows 1 of 100"
expect_contains "$out" "max_bad_files: 1% of 100 files = 1" "and says how it counted"
write_pipeline "150%"
out=$("$MILLRACE" validate "$project" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "a share above 100% is a config error"
expect_contains "$out" "pipelines/daily.yaml:6:20: error" "at its file:line:column"
finish
