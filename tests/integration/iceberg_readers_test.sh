#!/usr/bin/env bash
# Lake tables are Apache Iceberg v2 tables that readers no one here wrote agree on: icebird
# (npm) reads a partitioned table Millrace wrote, at its current and at an older snapshot, and
# its rows equal `millrace query` and DuckDB over the data files icebird's own reading of the
# manifests lists. After `lake compact`, a glob over the table folder also reads dropped files;
# after `lake expire-snapshots` and `lake remove-orphan-files` it reads only the live ones.
source "$(dirname "$0")/lib/common.sh"
cd "$WORK"

icebird() { node "$ROOT/tests/integration/lib/icebird_read.mjs" "$@"; }
schema="order_id: string not null, user_id: string, restaurant_id: string, timestamp: timestamp not null, status: string, amount: double not null, items: int32, city: string"
"$MILLRACE" generate orders --rows 30000 --seed 21 -o orders.ndjson 2>/dev/null
"$MILLRACE" lake import t -d data -i orders.ndjson --schema "$schema" --create \
  --partition-by "date(timestamp)" --partition-by status --commit-rows 8192 2>/dev/null
table="$WORK/data/lake/t"
expect_eq "$(cat "$table/metadata/version-hint.text")" "4" "four commits: metadata v4 (the table is created by its first commit)"
out=$("$MILLRACE" lake import gone -d data -i missing.ndjson --schema "$schema" --create 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "an import of a missing file fails"
expect_eq "$(ls data/lake)" "t" "and leaves no table behind"

# Rows as NDJSON from the three readers, compared as sets (timestamps to milliseconds, which
# is what icebird's JavaScript dates hold).
columns="{'order_id':'VARCHAR','user_id':'VARCHAR','restaurant_id':'VARCHAR','timestamp':'TIMESTAMPTZ','status':'VARCHAR','amount':'DOUBLE','items':'INTEGER','city':'VARCHAR'}"
norm="order_id, user_id, restaurant_id, date_trunc('millisecond', timestamp) AS ts, status, amount, items, city"
compare() {  # <what> <icebird.ndjson> <millrace.ndjson> <DuckDB relation of the table> <rows>
  local got
  got=$(duckdb "SELECT
      (SELECT count(*) FROM read_json('$2', format='newline_delimited', columns=$columns)) AS n,
      (SELECT count(*) FROM (SELECT $norm FROM read_json('$2', format='newline_delimited', columns=$columns)
                             EXCEPT ALL SELECT $norm FROM read_json('$3', format='newline_delimited', columns=$columns))) AS a,
      (SELECT count(*) FROM (SELECT $norm FROM read_json('$3', format='newline_delimited', columns=$columns)
                             EXCEPT ALL SELECT $norm FROM read_json('$2', format='newline_delimited', columns=$columns))) AS b,
      (SELECT count(*) FROM (SELECT $norm FROM read_json('$2', format='newline_delimited', columns=$columns)
                             EXCEPT ALL SELECT $norm FROM $4)) AS c,
      (SELECT count(*) FROM (SELECT $norm FROM $4
                             EXCEPT ALL SELECT $norm FROM read_json('$2', format='newline_delimited', columns=$columns))) AS d")
  expect_eq "$got" "{\"n\":\"$5\",\"a\":\"0\",\"b\":\"0\",\"c\":\"0\",\"d\":\"0\"}" "$1: icebird, millrace query and DuckDB agree on $5 rows"
}
duckdb_list() { sed "s|.*|'&'|" | paste -sd, - | sed 's/^/[/; s/$/]/'; }
parquet_of() { echo "read_parquet($1)"; }

# 1. The current snapshot.
icebird "$table" > icebird.ndjson
"$MILLRACE" query -d data -f json "SELECT * FROM t" > millrace.ndjson
files=$(icebird "$table" --files | duckdb_list)
compare "current snapshot" icebird.ndjson millrace.ndjson "$(parquet_of "$files")" 30000
listed=$(icebird "$table" --files | sed "s|^$table/||" | sort)
expect_eq "$listed" "$("$MILLRACE" lake files t -d data | cut -f1 | sort)" "icebird lists the files millrace lists"

# 2. An older snapshot: metadata v2 is snapshot 2.
icebird "$table" v2.metadata.json > icebird2.ndjson
"$MILLRACE" query -d data -f json 'SELECT * FROM "t@2"' > millrace2.ndjson
files2=$(icebird "$table" v2.metadata.json --files | duckdb_list)
compare "snapshot 2" icebird2.ndjson millrace2.ndjson "$(parquet_of "$files2")" 16384

# 3. Partition values in the manifests: every file of icebird's listing sits in the folder of
# its rows' day (DuckDB reads the day from the path).
bad=$(duckdb "SELECT count(*) AS n FROM read_parquet($files, hive_partitioning=true) WHERE day <> CAST(timezone('UTC', timestamp) AS DATE)")
expect_eq "$bad" '{"n":"0"}' "every row sits in its day partition"

# 3b. bucket[N] and truncate[W] partitions (the spec's Murmur3 hash) read the same way.
"$MILLRACE" lake import b -d data -i orders.ndjson --schema "$schema" --create \
  --partition-by "bucket(4, user_id)" --partition-by "truncate(1, city)" 2>/dev/null
icebird "$WORK/data/lake/b" > icebird_b.ndjson
"$MILLRACE" query -d data -f json "SELECT * FROM b" > millrace_b.ndjson
compare "bucket and truncate" icebird_b.ndjson millrace_b.ndjson "$(parquet_of "$(icebird "$WORK/data/lake/b" --files | duckdb_list)")" 30000
expect_eq "$(ls data/lake/b | grep -c '^user_id_bucket=')" "4" "four user_id buckets"

# 4. Compaction leaves the replaced files on disk for older snapshots: a glob sees them too.
"$MILLRACE" lake compact t -d data >/dev/null
glob="read_parquet('$table/**/*.parquet', hive_partitioning=false)"
globbed=$(duckdb "SELECT count(*) AS n FROM $glob")
if [ "$globbed" != '{"n":"30000"}' ]; then pass "before maintenance a glob reads old files too ($globbed)"; else fail "compaction left no old files"; fi
out=$("$MILLRACE" lake expire-snapshots t -d data)
expect_contains "$out" "expired 4 snapshots" "expire-snapshots drops the four snapshots before the compaction"
out=$("$MILLRACE" lake remove-orphan-files t -d data --older-than-seconds 0)
expect_contains "$out" "removed" "remove-orphan-files runs"
expect_eq "$(duckdb "SELECT count(*) AS n, count(DISTINCT order_id) AS d FROM $glob")" '{"n":"30000","d":"30000"}' \
  "after maintenance a glob over the folder reads every row once"
expect_eq "$(find "$table" -name '*.parquet' -not -path '*/_staging/*' | sed "s|^$table/||" | sort)" \
  "$("$MILLRACE" lake files t -d data | cut -f1 | sort)" "only the current snapshot's files are left"
icebird "$table" > icebird3.ndjson
"$MILLRACE" query -d data -f json "SELECT * FROM t" > millrace3.ndjson
compare "after maintenance" icebird3.ndjson millrace3.ndjson "$(parquet_of "$(icebird "$table" --files | duckdb_list)")" 30000
history=$("$MILLRACE" lake history t -d data)
expect_eq "$(wc -l <<<"$history")" "2" "history lists the empty table and the kept snapshot"

# 5. Row-level deletes: `lake delete` writes position delete files; icebird applies them, and
# DuckDB reading the data files less the (file_path, pos) rows of the delete files icebird's
# manifest reading lists agrees, as does DuckDB's own answer over the source data.
btable="$WORK/data/lake/b"
where="status = 'cancelled' OR amount > 80"
out=$("$MILLRACE" lake delete b -d data --where "$where")
expect_contains "$out" "delete files" "lake delete reports what it deleted: $out"
kept=$(duckdb "SELECT count(*) AS n FROM read_json('orders.ndjson') WHERE NOT coalesce($where, false)" | sed 's/.*"n":"\([0-9]*\)".*/\1/')
expect_contains "$("$MILLRACE" lake history b -d data | tail -1)" "delete" "the snapshot's operation is delete"
entries() {  # <table dir> <content>: the live files of that content, as a DuckDB list
  icebird "$1" --entries | /usr/bin/python3 -c "import json,sys; print('\n'.join(e['path'] for e in map(json.loads, sys.stdin) if e['content'] == $2))" | duckdb_list
}
pos_deletes=$(entries "$btable" 1)
expect_eq "$(icebird "$btable" --entries | grep -c '"content":2')" "0" "a delete writes no equality deletes"
deleted_view="(SELECT * FROM read_parquet($(entries "$btable" 0), filename=true, file_row_number=true) d
  WHERE NOT EXISTS (SELECT 1 FROM read_parquet($pos_deletes) p WHERE p.file_path = d.filename AND p.pos = d.file_row_number))"
icebird "$btable" > icebird_d.ndjson
"$MILLRACE" query -d data -f json "SELECT * FROM b" > millrace_d.ndjson
compare "after a delete" icebird_d.ndjson millrace_d.ndjson "$deleted_view" "$kept"
expect_eq "$(duckdb "SELECT count(*) AS n FROM read_json('millrace_d.ndjson') WHERE $where")" '{"n":"0"}' "no deleted row is read"
out=$("$MILLRACE" lake delete b -d data --where "nope = 1" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "a bad predicate fails"
expect_contains "$out" "<where>:1:1: error: unknown column \`nope\`" "naming the column and where it is"
# Compaction applies the deletes (Iceberg `replace`): the same rows, no delete files left.
"$MILLRACE" lake compact b -d data >/dev/null
expect_eq "$("$MILLRACE" lake files b -d data --deletes)" "" "compaction drops the delete files"
icebird "$btable" > icebird_c.ndjson
"$MILLRACE" query -d data -f json "SELECT * FROM b" > millrace_c.ndjson
compare "after compacting the deletes" icebird_c.ndjson millrace_c.ndjson "$(parquet_of "$(icebird "$btable" --files | duckdb_list)")" "$kept"

# 6. Upsert sink: two batch runs into a `mode: upsert` table hold one row per key, the newest;
# Millrace, icebird (which applies the equality deletes) and DuckDB reading the data files less
# the keys of newer equality delete files agree with DuckDB's own last-row-per-key over the
# inputs. A failed first run leaves no table behind.
mkdir -p "$WORK/u/pipelines"
cd "$WORK/u"
printf 'name: u\ndata_dir: ./data\ninclude: [pipelines/*.yaml]\n' > millrace.yaml
cat > pipelines/orders.yaml <<'YAML'
name: orders
vars: { input: run1.ndjson }
sources:
  orders:
    file: { path: "{{ input }}", format: ndjson }
    schema: { order_id: string not null, status: string, amount: double not null }
sinks:
  - { from: orders, lake: { table: latest, mode: upsert, key: [order_id] } }
YAML
cat > pipelines/fails.yaml <<'YAML'
name: fails
sources:
  orders:
    file: { path: run1.ndjson, format: ndjson }
    schema: { order_id: string not null, status: string, amount: double not null }
checks:
  orders:
    - row_count: { max: 10 }
sinks:
  - { from: orders, lake: { table: latest, mode: upsert, key: [order_id] } }
YAML
/usr/bin/python3 - <<'PY'
import json
rows = [json.loads(line) for line in open("../orders.ndjson")][:3000]
with open("run1.ndjson", "w") as out:
    for r in rows[:2000]:
        out.write(json.dumps({"order_id": r["order_id"], "status": r["status"], "amount": r["amount"]}) + "\n")
with open("run2.ndjson", "w") as out:
    for i, r in enumerate(rows):
        if i < 2000 and i % 3:
            continue  # every third old key changes, and 1000 new keys arrive
        out.write(json.dumps({"order_id": r["order_id"], "status": "refunded", "amount": r["amount"] + 1}) + "\n")
PY
out=$("$MILLRACE" run . fails 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "a run whose check fails fails"
expect_eq "$("$MILLRACE" lake list -d data)" "" "a failed first run leaves no table"
expect_eq "$(ls data/lake 2>/dev/null)" "" "nor its folder"
"$MILLRACE" run . orders >/dev/null 2>&1 || fail "upsert run 1"
"$MILLRACE" run . orders --var input=run2.ndjson >/dev/null 2>&1 || fail "upsert run 2"
utable="$WORK/u/data/lake/latest"
expect_contains "$("$MILLRACE" lake history latest -d data | tail -1)" "upsert" "an upsert snapshot"
ucols="{'order_id':'VARCHAR','status':'VARCHAR','amount':'DOUBLE'}"
upsert_rel() { echo "(SELECT order_id, status, amount FROM read_json('$1', format='newline_delimited', columns=$ucols))"; }
expected="(SELECT order_id, status, amount FROM (
    SELECT *, 1 AS run FROM read_json('run1.ndjson', columns=$ucols) UNION ALL
    SELECT *, 2 AS run FROM read_json('run2.ndjson', columns=$ucols))
  QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY run DESC) = 1)"
icebird "$utable" --entries > entries.ndjson
entries_rel="read_json('entries.ndjson', columns={'path':'VARCHAR','content':'INTEGER','seq':'BIGINT'})"
from_files="(SELECT d.order_id, d.status, d.amount FROM read_parquet($(entries "$utable" 0), filename=true) d
  JOIN $entries_rel e ON e.path = d.filename
  WHERE NOT EXISTS (SELECT 1 FROM read_parquet($(entries "$utable" 2), filename=true) k
    JOIN $entries_rel ke ON ke.path = k.filename WHERE k.order_id = d.order_id AND ke.seq > e.seq))"
icebird "$utable" > icebird_u.ndjson
"$MILLRACE" query -d data -f json "SELECT * FROM latest" > millrace_u.ndjson
same() {  # <what> <relation> <relation>
  expect_eq "$(duckdb "SELECT (SELECT count(*) FROM (SELECT * FROM $2 EXCEPT ALL SELECT * FROM $3)) AS a,
                              (SELECT count(*) FROM (SELECT * FROM $3 EXCEPT ALL SELECT * FROM $2)) AS b")" \
    '{"a":"0","b":"0"}' "$1"
}
expect_eq "$(duckdb "SELECT count(*) AS n, count(DISTINCT order_id) AS k FROM $(upsert_rel millrace_u.ndjson)")" \
  '{"n":"3000","k":"3000"}' "one row per key after two upsert runs"
same "millrace query equals DuckDB's last row per key" "$(upsert_rel millrace_u.ndjson)" "$expected"
same "icebird equals DuckDB's last row per key" "$(upsert_rel icebird_u.ndjson)" "$expected"
same "DuckDB over the data and equality delete files agrees" "$from_files" "$expected"
"$MILLRACE" lake compact latest -d data >/dev/null
"$MILLRACE" query -d data -f json "SELECT * FROM latest" > millrace_uc.ndjson
same "after compaction too" "$(upsert_rel millrace_uc.ndjson)" "$expected"
expect_eq "$("$MILLRACE" lake files latest -d data --deletes)" "" "compaction drops the equality deletes"
# validate points at a bad upsert sink.
sed 's/name: fails/name: bad/; s/key: \[order_id\]/key: [nope]/; s/table: latest/table: other/' pipelines/fails.yaml > pipelines/bad.yaml
out=$("$MILLRACE" validate . 2>&1) && rc=0 || rc=$?
expect_contains "$out" "pipelines/bad.yaml:10:5: error: sink lake table other: upsert key column \`nope\` is not a column of \`orders\`" "validate names an unknown upsert key column"
sed -i 's/, mode: upsert//' pipelines/bad.yaml
out=$("$MILLRACE" validate . 2>&1) && rc=0 || rc=$?
expect_contains "$out" "is the upsert key: it needs \`mode: upsert\`" "validate refuses a key without mode: upsert"
finish
