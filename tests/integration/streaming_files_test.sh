#!/usr/bin/env bash
# A watched folder as a streaming source: a `mode: streaming` pipeline with a `watch: true` file
# source reads the files in the folder, then the ones dropped in while it runs, each once, in
# mtime order, ignoring dotfiles and *.tmp/*.partial names until they are renamed. Rows reach a
# lake table (checked with `millrace query`); a malformed row and an unreadable file are dead
# letters with a reason, a file of events older than the watermark is dead-lettered as `late`.
# Runs restarted afterwards read only new files: nothing is read twice or lost, and a file
# changed after it was read is reported and not read again.
source "$(dirname "$0")/lib/common.sh"

project=$WORK/wf
inbox=$project/inbox
mkdir -p "$project/pipelines" "$inbox"
printf 'name: wf\ndata_dir: ./data\ninclude: [pipelines/*.yaml]\n' >"$project/millrace.yaml"
cat >"$project/pipelines/inbox.yaml" <<'YAML'
name: inbox
mode: streaming
sources:
  events:
    file: { path: inbox, format: csv }
    watch: true
    poll_interval: 200ms
    schema: { id: int64 not null, city: string, amount: double, ts: timestamp not null }
    event_time: ts
    watermark_delay: 1m
views:
  kept: SELECT id, city, amount FROM events
sinks:
  - { from: kept, lake: { table: inbox_rows } }
  - { from: dead_letter, file: { path: out/dead.ndjson } }
YAML

# drop <name> <mtime> <first id> <count> <minute>: writes <name> as a .tmp file, then renames
# it, as a writer should; its rows' event times are in the given minute of 2026-01-01.
drop() {
  local name=$1 mtime=$2 first=$3 count=$4 minute=$5
  {
    echo "id,city,amount,ts"
    for ((i = first; i < first + count; i++)); do
      printf '%d,city%d,%d.5,2026-01-01T00:%02d:%02dZ\n' "$i" "$((i % 3))" "$i" "$minute" "$((i % 60))"
    done
  } >"$inbox/.$name.tmp"
  touch -d "@$mtime" "$inbox/.$name.tmp"
  mv "$inbox/.$name.tmp" "$inbox/$name"
}
totals() {  # rows, sum of ids and distinct ids in the lake table
  "$MILLRACE" query "SELECT count(*) AS n, sum(id) AS s, count(DISTINCT id) AS d FROM inbox_rows" \
    -p "$project" --format csv | tail -1
}
run_until_idle() { "$MILLRACE" run "$project" inbox --until-idle --idle 2s 2>&1; }

# 1. The files already there, oldest first; temp files and dotfiles are not read.
drop b.csv 1000 4 3 10           # ids 4..6
drop a.csv 900 1 3 10            # ids 1..3, older
printf 'id,city,amount,ts\n100,x,1,2026-01-01T00:10:00Z\n' >"$inbox/c.csv.tmp"
printf 'id,city,amount,ts\n101,x,1,2026-01-01T00:10:00Z\n' >"$inbox/d.csv.partial"
printf 'id,city,amount,ts\n102,x,1,2026-01-01T00:10:00Z\n' >"$inbox/.hidden.csv"
out=$(run_until_idle) && rc=0 || rc=$?
expect_eq "$rc" "0" "a run over the watched folder stops once idle and exits 0"
expect_eq "$(totals)" "6,21,6" "it read the two finished files, not the temp files or dotfiles"

# 2. Files dropped in while a --duration run is running: read as they arrive.
"$MILLRACE" run "$project" inbox --duration 8s >"$WORK/run2.out" 2>&1 &
run_pid=$!
sleep 2
drop e.csv 2000 7 3 20           # ids 7..9, at 00:20
# A malformed row (id not a number) among good ones, and a file without the declared columns.
printf 'id,city,amount,ts\n10,Lima,1.5,2026-01-01T00:20:10Z\nnot-a-number,Lima,2.5,2026-01-01T00:20:11Z\n11,Lima,3.5,2026-01-01T00:20:12Z\n' \
  >"$inbox/.f.tmp"
touch -d @2100 "$inbox/.f.tmp"
mv "$inbox/.f.tmp" "$inbox/f.csv"
printf 'name,size\nx,1\n' >"$inbox/.g.tmp"
touch -d @2200 "$inbox/.g.tmp"
mv "$inbox/.g.tmp" "$inbox/g.csv"
# Events ten minutes behind the watermark (00:20 minus 1m): late, whichever run reads them.
drop h.csv 2300 20 2 5           # ids 20..21, at 00:05
wait "$run_pid" && rc=0 || rc=$?
expect_eq "$rc" "0" "the --duration run exits 0"
expect_eq "$(totals)" "11,66,11" "it read the files dropped in while it ran (ids 1..11)"
dead=$project/out/dead.ndjson
expect_contains "$(grep not-a-number "$dead" || true)" '"reason"' \
  "the malformed row is a dead letter with a reason"
expect_contains "$(grep 'g.csv' "$dead" || true)" '"stage":"file"' \
  "the file without the declared columns is set aside as a dead letter"
expect_eq "$(grep -c '"reason":"late"' "$dead" || true)" "2" \
  "the two events behind the watermark are dead letters with reason late"

# 3. A restart reads nothing again; a new file is read once; a changed file is not reread.
out=$(run_until_idle) && rc=0 || rc=$?
expect_eq "$rc" "0" "a restarted run exits 0"
expect_eq "$(totals)" "11,66,11" "the restart reads no file a second time"
drop i.csv 3000 12 2 30          # ids 12..13
echo "99,x,1,2026-01-01T00:30:00Z" >>"$inbox/a.csv"
out=$(run_until_idle) && rc=0 || rc=$?
expect_eq "$rc" "0" "the next run exits 0"
expect_eq "$(totals)" "13,91,13" "only the new file is read: nothing duplicated, nothing lost"
expect_contains "$out" "a.csv changed after it was read" "a file changed after it was read is reported"
expect_eq "$("$MILLRACE" query "SELECT count(*) AS n FROM inbox_rows WHERE id = 99" -p "$project" --format csv | tail -1)" \
  "0" "the changed file is not read again"

# 4. validate refuses `watch` outside a streaming pipeline, at its line.
mkdir -p "$WORK/bad/pipelines"
printf 'name: bad\ndata_dir: ./data\ninclude: [pipelines/*.yaml]\n' >"$WORK/bad/millrace.yaml"
cat >"$WORK/bad/pipelines/b.yaml" <<'YAML'
name: b
mode: batch
sources:
  events:
    file: { path: inbox, format: csv }
    watch: true
sinks:
  - { from: events, file: { path: out/x.csv, format: csv } }
YAML
out=$("$MILLRACE" validate "$WORK/bad" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "validate refuses watch in a batch pipeline"
expect_contains "$out" "b.yaml:6:5: error: \`watch\` of source \`events\` needs \`mode: streaming\`" \
  "the error names the file, line and column"
# 5. A file sink inside the watched folder would feed its rows back in: refused before reading.
cat >"$project/pipelines/loop.yaml" <<'YAML'
name: loop
mode: streaming
sources:
  events:
    file: { path: inbox, format: csv }
    watch: true
    schema: { id: int64 not null, city: string, amount: double, ts: timestamp not null }
sinks:
  - { from: events, file: { path: inbox/copy.csv, format: csv } }
YAML
out=$("$MILLRACE" run "$project" loop --until-idle 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "a file sink inside the watched folder is refused"
expect_contains "$out" "loop.yaml:9:5: error: the file sink of \`events\` writes" \
  "the error names the sink's line and the folder"
expect_eq "$(ls "$inbox" | grep -c copy || true)" "0" "nothing was written into the folder"
out=$("$MILLRACE" validate "$project" 2>&1) && rc=0 || rc=$?
expect_contains "$out" "loop.yaml:9:5: error: the file sink of \`events\` writes" \
  "validate refuses it too"
rm "$project/pipelines/loop.yaml"
# 6. A join of two watched folders is a stream join: without event times to bound it in time
# (or a state_ttl) it would keep every row forever, so it is refused.
cat >"$project/pipelines/join.yaml" <<'YAML'
name: join
mode: streaming
sources:
  events:
    file: { path: inbox, format: csv }
    watch: true
    schema: { id: int64 not null, city: string, amount: double, ts: timestamp not null }
  more:
    file: { path: inbox, format: csv }
    watch: true
    schema: { id: int64 not null, city: string, amount: double, ts: timestamp not null }
views:
  joined: SELECT e.id, m.city FROM events e JOIN more m ON e.id = m.id
sinks:
  - { from: joined, lake: { table: joined } }
YAML
out=$("$MILLRACE" validate "$project" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "validate refuses a join of two watched folders without a time bound"
expect_contains "$out" "no time bound" "the error says why"
finish
