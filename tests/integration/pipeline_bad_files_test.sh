#!/usr/bin/env bash
# A corrupt file among good ones: with on_error: dead_letter it is set aside whole with its
# reason (run summary and dead-letter output) while the other files are processed, and the
# counts add up; max_bad_files bounds how many may be set aside; on_error: fail fails the run.
# Also checked: on_error: drop and fail are honoured for bad records.
source "$(dirname "$0")/lib/common.sh"

project=$WORK/p
mkdir -p "$project/pipelines" "$project/in" "$project/pq"
printf 'name: p\ndata_dir: ./data\ninclude: [pipelines/*.yaml]\n' >"$project/millrace.yaml"
write_pipeline() {  # <source settings...>
  cat >"$project/pipelines/p.yaml" <<YAML
name: p
sources:
  sales:
    file: { path: "in/*.csv", format: csv }
    schema: { id: int64 not null, amount: double not null }
$(for line in "$@"; do echo "    $line"; done)
  parq:
    file: { path: "pq/*.parquet", format: parquet }
views:
  total: SELECT count(*) AS n, sum(amount) AS amount FROM sales
  ptotal: SELECT count(*) AS n FROM parq
sinks:
  - { from: total, file: out/total.csv }
  - { from: ptotal, file: out/ptotal.csv }
  - { from: dead_letter, file: out/rejected.ndjson }
YAML
}
printf 'id,amount\n1,10\n2,20\n3,x\n' >"$project/in/a.csv"        # 2 good rows, 1 bad record
printf 'id,"amount\n4,40\n' >"$project/in/b.csv"                   # unterminated quote in the header
printf 'id,amount\n5,50\n6,60\n' >"$project/in/c.csv"
printf 'id,amount\n7,70\n' >"$WORK/good.csv"
"$MILLRACE" convert "$WORK/good.csv" "$project/pq/a.parquet" --schema "id: int64, amount: double" >/dev/null 2>&1
"$MILLRACE" convert "$WORK/good.csv" "$project/pq/c.parquet" --schema "id: int64, amount: double" >/dev/null 2>&1
head -c 40 "$project/pq/a.parquet" >"$project/pq/b.parquet"         # truncated: no footer

write_pipeline
out=$("$MILLRACE" run "$project" p 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "a corrupt file does not fail the run (on_error: dead_letter)"
expect_contains "$out" "4 rows read, 1 rejected (3 files, 1 set aside" "the CSV source counts the good files' records"
expect_contains "$out" "set aside $project/in/b.csv: " "the summary names the CSV file set aside"
expect_contains "$out" "(3 files, 1 set aside" "the Parquet source sets its truncated file aside too"
expect_contains "$out" "set aside $project/pq/b.parquet: " "and names it"
expect_eq "$(tail -1 "$project/out/total.csv")" "4,140" "the other files are processed"
expect_eq "$(tail -1 "$project/out/ptotal.csv")" "2" "the other Parquet files are processed"
dlq=$(cat "$project/out/rejected.ndjson")
expect_contains "$dlq" "\"file\":\"$project/in/b.csv\",\"stage\":\"file\",\"reason\":\"" "the set-aside file is dead-lettered with path and reason"
expect_contains "$dlq" "\"file\":\"$project/pq/b.parquet\",\"stage\":\"file\"" "so is the Parquet one"
expect_eq "$(wc -l <"$project/out/rejected.ndjson")" "3" "dead letters = 1 bad record + 2 files"
expect_contains "$out" "dead letters                      3 ->" "the summary counts them"

# One file alone, corrupt: read without worker threads, set aside just the same.
mkdir -p "$project/one" && cp "$project/in/b.csv" "$project/one/"
sed 's|in/\*.csv|one/*.csv|' -i "$project/pipelines/p.yaml"
out=$("$MILLRACE" run "$project" p 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "a single corrupt file is set aside too"
expect_contains "$out" "0 rows read, 0 rejected (1 file, 1 set aside" "with nothing read from it"

write_pipeline "max_bad_files: 0"
out=$("$MILLRACE" run "$project" p 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "max_bad_files: 0 fails the run on a corrupt file"
expect_contains "$out" "b.csv" "naming the file"

write_pipeline "on_error: fail"
out=$("$MILLRACE" run "$project" p 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "on_error: fail fails the run (max_bad_files defaults to 0)"
rm "$project/in/b.csv"
out=$("$MILLRACE" run "$project" p 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "on_error: fail fails the run on a bad record"
expect_contains "$out" "a.csv line 4" "naming where the record is"

write_pipeline "on_error: drop"
out=$("$MILLRACE" run "$project" p 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "on_error: drop runs"
expect_contains "$out" "4 rows read, 1 rejected" "and counts the dropped record"
expect_eq "$(grep -c '"stage":"decode"' "$project/out/rejected.ndjson" || true)" "0" "without dead-lettering it"

write_pipeline "max_bad_files: -1"
out=$("$MILLRACE" validate "$project" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "a negative max_bad_files is a config error"
expect_contains "$out" "pipelines/p.yaml:6:20: error" "at its file:line:column"
finish
