#!/usr/bin/env bash
# `millrace generate` and `millrace convert` driven as a user would, with DuckDB reading the same
# files as the oracle for values, types and counts.
source "$(dirname "$0")/lib/common.sh"
cd "$WORK"

# 1. Clean data: NDJSON -> CSV -> NDJSON, every value as DuckDB reads the original.
"$MILLRACE" generate orders --rows 20000 --seed 7 -o orders.ndjson 2>/dev/null
schema="order_id: string not null, user_id: string, restaurant_id: string, timestamp: timestamp not null, status: string, amount: double not null, items: int32, city: string"
"$MILLRACE" convert orders.ndjson orders.csv --schema "$schema" 2>convert.log
expect_contains "$(cat convert.log)" "20000 rows written, 0 rejected" "ndjson -> csv counts"
"$MILLRACE" convert orders.csv back.ndjson --schema "$schema" 2>/dev/null

columns="{'order_id':'VARCHAR','user_id':'VARCHAR','restaurant_id':'VARCHAR','timestamp':'TIMESTAMP','status':'VARCHAR','amount':'DOUBLE','items':'INTEGER','city':'VARCHAR'}"
original="read_json('orders.ndjson', format='newline_delimited', columns=$columns)"
csv="read_csv('orders.csv', header=true, columns=$columns)"
back="read_json('back.ndjson', format='newline_delimited', columns=$columns)"
diff=$(duckdb "SELECT (SELECT count(*) FROM (FROM $original EXCEPT ALL FROM $csv)) AS a,
                      (SELECT count(*) FROM (FROM $csv EXCEPT ALL FROM $original)) AS b,
                      (SELECT count(*) FROM (FROM $original EXCEPT ALL FROM $back)) AS c,
                      (SELECT count(*) FROM $csv) AS n")
expect_eq "$diff" '{"a":"0","b":"0","c":"0","n":"20000"}' "DuckDB reads our CSV and NDJSON with the original's values"

# 2. Inferred schema: DuckDB agrees on the aggregates.
"$MILLRACE" convert orders.ndjson inferred.csv 2>infer.log
expect_contains "$(cat infer.log)" "timestamp: timestamp" "schema inference finds the timestamp"
ours=$(duckdb "SELECT count(*) AS n, round(sum(amount), 2) AS total, count(DISTINCT city) AS cities FROM read_csv('inferred.csv')")
theirs=$(duckdb "SELECT count(*) AS n, round(sum(amount), 2) AS total, count(DISTINCT city) AS cities FROM $original")
expect_eq "$ours" "$theirs" "aggregates over the inferred-schema CSV match DuckDB over the NDJSON"

# 3. Bad records: rejected with a reason, counts add up, the rest converts.
"$MILLRACE" generate orders --rows 10000 --bad-fraction 0.02 --seed 3 -o dirty.ndjson 2>gen.log
bad=$(sed -E 's/.*\(([0-9]+) deliberately bad\).*/\1/' gen.log)
"$MILLRACE" convert dirty.ndjson clean.csv --schema "$schema" --errors rejected.ndjson 2>dirty.log
written=$(sed -E 's/.* ([0-9]+) rows written.*/\1/' dirty.log)
rejected=$(sed -E 's/.* ([0-9]+) rejected.*/\1/' dirty.log)
expect_eq "$rejected" "$bad" "every deliberately bad record is rejected"
expect_eq "$((written + rejected))" "10000" "written + rejected = records in"
expect_eq "$(wc -l < rejected.ndjson)" "$bad" "one dead-letter line per rejected record"
reasons=$(duckdb "SELECT count(*) AS n FROM read_json('rejected.ndjson', format='newline_delimited', columns={'reason':'VARCHAR','raw':'VARCHAR','line':'BIGINT'}) WHERE reason <> '' AND raw <> '' AND line > 0")
expect_eq "$reasons" "{\"n\":\"$bad\"}" "each dead-letter record has a reason, the raw bytes and a line"

# 4. CSV with bad rows.
"$MILLRACE" generate orders --rows 5000 --format csv --bad-fraction 0.05 --seed 5 -o dirty.csv 2>gen.log
bad=$(sed -E 's/.*\(([0-9]+) deliberately bad\).*/\1/' gen.log)
"$MILLRACE" convert dirty.csv clean.ndjson --schema "$schema" --errors rejected_csv.ndjson 2>dirty.log
rejected=$(sed -E 's/.* ([0-9]+) rejected.*/\1/' dirty.log)
expect_eq "$rejected" "$bad" "bad CSV rows are rejected"
lines=$(wc -l < clean.ndjson)
expect_eq "$((lines + rejected))" "5000" "CSV: written + rejected = records in"

# 5. Pipes: standard input to standard output.
piped=$(head -n 3 orders.ndjson | "$MILLRACE" convert - - --from json --to csv --schema "$schema" 2>/dev/null)
expect_eq "$(wc -l <<<"$piped")" "4" "stdin -> stdout: a header and 3 rows"
expect_contains "$piped" "order_id,user_id" "stdin -> stdout writes the CSV header"

# 6. User errors get clear messages and exit 1.
set +e
out=$("$MILLRACE" convert missing.ndjson x.csv --schema "a: int64" 2>&1); rc=$?
expect_eq "$rc" "1" "missing input exits 1"
expect_contains "$out" "missing.ndjson" "missing input is named"
out=$("$MILLRACE" convert orders.ndjson x.csv --schema "a: int64, b: strng" 2>&1); rc=$?
expect_eq "$rc" "1" "bad schema exits 1"
expect_contains "$out" "unknown type \`strng\`" "bad schema names the type"
out=$("$MILLRACE" convert orders.ndjson x.xlsx 2>&1); rc=$?
expect_contains "$out" "--to json|csv|parquet" "unknown output format explains the flag"
out=$("$MILLRACE" convert dirty.ndjson y.csv --schema "$schema" --max-errors 3 2>&1); rc=$?
expect_eq "$rc" "1" "--max-errors fails the run"
out=$(echo '{"a":1}' | "$MILLRACE" convert - x.csv --schema "a: int64" 2>&1); rc=$?
expect_contains "$out" "--from json|csv" "stdin without --from asks for it"

# 7. Outputs are written whole or not at all, and never over the input: an output that is the
# input (the same name, a symlink or a hard link to it) is refused and the input stays intact.
cp orders.csv same.csv
sum_before=$(cksum < same.csv)
out=$("$MILLRACE" convert same.csv same.csv --schema "$schema" 2>&1); rc=$?
expect_eq "$rc" "1" "convert same.csv same.csv exits 1"
expect_contains "$out" "is the same file as" "same input and output is refused with a reason"
ln -s same.csv link_to_same.csv
out=$("$MILLRACE" convert same.csv link_to_same.csv --to json --schema "$schema" 2>&1); rc=$?
expect_eq "$rc" "1" "an output symlink to the input is refused"
ln same.csv hardlink.csv
out=$("$MILLRACE" convert same.csv hardlink.csv --schema "$schema" 2>&1); rc=$?
expect_eq "$rc" "1" "an output hard link to the input is refused"
out=$("$MILLRACE" convert same.csv other.ndjson --schema "$schema" --errors same.csv 2>&1); rc=$?
expect_eq "$rc" "1" "an --errors file that is the input is refused"
expect_eq "$(cksum < same.csv)" "$sum_before" "the input is intact after the refusals"
# A symlink output is followed: its target is written, the link stays.
ln -s target.ndjson link_out.ndjson
"$MILLRACE" convert same.csv link_out.ndjson --schema "$schema" 2>/dev/null
if [ -L link_out.ndjson ] && [ "$(wc -l < target.ndjson)" == "20000" ]; then
  pass "an output symlink's target is written and the link kept"
else
  fail "output symlink: link or target wrong"
fi
# A failed run leaves the previous output untouched and no temporary file behind.
echo previous > kept.csv
out=$("$MILLRACE" convert dirty.ndjson kept.csv --schema "$schema" --max-errors 0 2>&1); rc=$?
expect_eq "$rc" "1" "--max-errors 0 over dirty input fails"
expect_eq "$(head -n 1 kept.csv)" "previous" "a failed run does not replace the output"
expect_eq "$(find . -name '*.tmp-*' | wc -l)" "0" "no temporary output is left behind"

# 8. A FIFO as input is streamed (it cannot be mapped).
mkfifo orders.fifo
cat orders.csv > orders.fifo &
out=$("$MILLRACE" convert orders.fifo fifo.ndjson --from csv --schema "$schema" 2>&1); rc=$?
wait
expect_eq "$rc" "0" "convert reads a FIFO"
expect_eq "$(wc -l < fifo.ndjson)" "20000" "every record of the FIFO is converted"

# 9. `run` follows the same rule: a file sink or dead-letter file that is a source file of the
# run is refused before anything is written, and the source stays intact.
mkdir -p proj/pipelines
printf 'name: p\ndata_dir: ./data\ninclude: [pipelines/*.yaml]\n' > proj/millrace.yaml
printf 'a,b\n1,x\n2,y\n' > proj/in.csv
write_pipeline() {  # <file sink path> <dead-letter path>
  cat > proj/pipelines/copy.yaml <<EOF
name: copy
mode: batch
sources:
  rows:
    file: { path: in.csv, format: csv }
    schema: { a: int64, b: string }
views:
  everything: SELECT a, b FROM rows
sinks:
  - { from: everything, file: { path: $1, format: csv } }
  - { from: dead_letter, file: { path: $2, format: json } }
EOF
}
write_pipeline in.csv rejected.ndjson
out=$("$MILLRACE" run proj copy 2>&1); rc=$?
expect_eq "$rc" "1" "run refuses a file sink that is its source"
expect_contains "$out" "is the input" "run says why"
write_pipeline out.csv in.csv
out=$("$MILLRACE" run proj copy 2>&1); rc=$?
expect_eq "$rc" "1" "run refuses a dead-letter file that is its source"
expect_eq "$(wc -l < proj/in.csv)" "3" "the source file is intact"

out=$("$MILLRACE" --version); expect_contains "$out" "millrace 0.1.0" "--version"
out=$("$MILLRACE" help convert); expect_contains "$out" "--schema" "help convert"
set -e
finish
