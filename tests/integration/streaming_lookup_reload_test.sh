#!/usr/bin/env bash
# Lookup join reload (`reload: true`): events dropped into a watched folder are joined with a
# reference CSV read whole before the streams start. The reference file is replaced while the
# run runs; events read after that are joined with the new values, the ones joined before are
# written once, with the old values. A source that is not only the right side of a lookup join
# cannot reload: run refuses it at the source.
source "$(dirname "$0")/lib/common.sh"

project=$WORK/lk
mkdir -p "$project/pipelines" "$project/inbox"
printf 'name: lk\ndata_dir: ./data\ninclude: [pipelines/*.yaml]\n' >"$project/millrace.yaml"
printf 'city,region\nLima,south\nPune,west\n' >"$project/regions.csv"
cat >"$project/pipelines/enrich.yaml" <<'YAML'
name: enrich
mode: streaming
checkpoint_interval: 200ms
sources:
  events:
    file: { path: inbox, format: csv }
    watch: true
    poll_interval: 50ms
    schema: { id: int64 not null, city: string not null }
  regions:
    file: { path: regions.csv }
    schema: { city: string not null, region: string not null }
    reload: true
    poll_interval: 50ms
views:
  enriched: |
    SELECT e.id, e.city, upper(r.region) AS region
    FROM events e JOIN (SELECT * FROM regions WHERE region <> 'none') r ON e.city = r.city
sinks:
  - { from: enriched, lake: { table: enriched } }
YAML

drop() {  # <name> <csv body>: written aside, then renamed into the folder
  printf '%b' "$2" >"$project/inbox/.$1.tmp" && mv "$project/inbox/.$1.tmp" "$project/inbox/$1.csv"
}
rows() {
  "$MILLRACE" query "SELECT id, city, region FROM enriched ORDER BY id" -p "$project" --format csv |
    tail -n +2 | tr '\n' ' '
}
wait_for_rows() {  # <count>: the committed rows reach <count> within 20 s
  for _ in $(seq 1 100); do
    [ "$(rows | wc -w)" -ge "$1" ] && return 0
    sleep 0.2
  done
  return 1
}

"$MILLRACE" run "$project" enrich --duration 12s >"$WORK/run.txt" 2>&1 &
run_pid=$!
drop a 'id,city\n1,Lima\n2,Pune\n'
# The lake commits at each checkpoint; `millrace query` reads committed snapshots only.
wait_for_rows 2 || fail "the first events were joined within 20 s"
printf 'city,region\nLima,andes\nPune,deccan\n' >"$project/.regions.tmp"
mv "$project/.regions.tmp" "$project/regions.csv"
sleep 1  # two checks of 50 ms see the same new file: reloaded
drop b 'id,city\n3,Lima\n4,Pune\n'
wait_for_rows 4 || fail "the later events were joined within 20 s"
wait "$run_pid" && rc=0 || rc=$?
expect_eq "$rc" "0" "the run exits 0"
expect_eq "$(rows)" "1,Lima,SOUTH 2,Pune,WEST 3,Lima,ANDES 4,Pune,DECCAN " \
  "events before the change keep the old values, later ones get the new ones, each once"
expect_contains "$(cat "$WORK/run.txt")" "1 lookup reload (reload: true)" "the run counts one reload"

# A restart joins with the file as it is now (not the build side its checkpoint saved).
printf 'city,region\nLima,coast\nPune,plateau\n' >"$project/regions.csv"
drop c 'id,city\n5,Lima\n'
out=$("$MILLRACE" run "$project" enrich --until-idle --idle 1s 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "the restarted run exits 0"
expect_contains "$out" "restored checkpoint" "it went on from its checkpoint"
expect_eq "$(rows)" "1,Lima,SOUTH 2,Pune,WEST 3,Lima,ANDES 4,Pune,DECCAN 5,Lima,COAST " \
  "after a restart, new events are joined with the file as it is now"

# A reloading source read other than as a lookup join's right side is refused at the source.
cat >"$project/pipelines/bad.yaml" <<'YAML'
name: bad
mode: streaming
sources:
  events:
    file: { path: inbox, format: csv }
    watch: true
    schema: { id: int64 not null, city: string not null }
  regions:
    file: { path: regions.csv }
    schema: { city: string not null, region: string not null }
    reload: true
views:
  both: SELECT city FROM events UNION ALL SELECT city FROM regions
sinks:
  - { from: both, lake: { table: both } }
YAML
out=$("$MILLRACE" run "$project" bad --until-idle --idle 1s 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "a reloading source outside a lookup join is refused"
expect_contains "$out" "bad.yaml:8:3:" "at the source, file:line:column"
expect_contains "$out" "only the right side of a lookup" "saying why"
finish
