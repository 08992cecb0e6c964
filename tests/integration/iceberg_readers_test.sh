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
expect_eq "$(cat "$table/metadata/version-hint.text")" "5" "four commits after create: metadata v5"

# Rows as NDJSON from the three readers, compared as sets (timestamps to milliseconds, which
# is what icebird's JavaScript dates hold).
columns="{'order_id':'VARCHAR','user_id':'VARCHAR','restaurant_id':'VARCHAR','timestamp':'TIMESTAMPTZ','status':'VARCHAR','amount':'DOUBLE','items':'INTEGER','city':'VARCHAR'}"
norm="order_id, user_id, restaurant_id, date_trunc('millisecond', timestamp) AS ts, status, amount, items, city"
compare() {  # <what> <icebird.ndjson> <millrace.ndjson> <duckdb list of files> <rows>
  local got
  got=$(duckdb "SELECT
      (SELECT count(*) FROM read_json('$2', format='newline_delimited', columns=$columns)) AS n,
      (SELECT count(*) FROM (SELECT $norm FROM read_json('$2', format='newline_delimited', columns=$columns)
                             EXCEPT ALL SELECT $norm FROM read_json('$3', format='newline_delimited', columns=$columns))) AS a,
      (SELECT count(*) FROM (SELECT $norm FROM read_json('$3', format='newline_delimited', columns=$columns)
                             EXCEPT ALL SELECT $norm FROM read_json('$2', format='newline_delimited', columns=$columns))) AS b,
      (SELECT count(*) FROM (SELECT $norm FROM read_json('$2', format='newline_delimited', columns=$columns)
                             EXCEPT ALL SELECT $norm FROM read_parquet($4))) AS c,
      (SELECT count(*) FROM (SELECT $norm FROM read_parquet($4)
                             EXCEPT ALL SELECT $norm FROM read_json('$2', format='newline_delimited', columns=$columns))) AS d")
  expect_eq "$got" "{\"n\":\"$5\",\"a\":\"0\",\"b\":\"0\",\"c\":\"0\",\"d\":\"0\"}" "$1: icebird, millrace query and DuckDB agree on $5 rows"
}
duckdb_list() { sed "s|.*|'&'|" | paste -sd, - | sed 's/^/[/; s/$/]/'; }

# 1. The current snapshot.
icebird "$table" > icebird.ndjson
"$MILLRACE" query -d data -f json "SELECT * FROM t" > millrace.ndjson
files=$(icebird "$table" --files | duckdb_list)
compare "current snapshot" icebird.ndjson millrace.ndjson "$files" 30000
listed=$(icebird "$table" --files | sed "s|^$table/||" | sort)
expect_eq "$listed" "$("$MILLRACE" lake files t -d data | cut -f1 | sort)" "icebird lists the files millrace lists"

# 2. An older snapshot: metadata v3 is snapshot 2.
icebird "$table" v3.metadata.json > icebird2.ndjson
"$MILLRACE" query -d data -f json 'SELECT * FROM "t@2"' > millrace2.ndjson
files2=$(icebird "$table" v3.metadata.json --files | duckdb_list)
compare "snapshot 2" icebird2.ndjson millrace2.ndjson "$files2" 16384

# 3. Partition values in the manifests: every file of icebird's listing sits in the folder of
# its rows' day (DuckDB reads the day from the path).
bad=$(duckdb "SELECT count(*) AS n FROM read_parquet($files, hive_partitioning=true) WHERE day <> CAST(timezone('UTC', timestamp) AS DATE)")
expect_eq "$bad" '{"n":"0"}' "every row sits in its day partition"

# 3b. bucket[N] and truncate[W] partitions (the spec's Murmur3 hash) read the same way.
"$MILLRACE" lake import b -d data -i orders.ndjson --schema "$schema" --create \
  --partition-by "bucket(4, user_id)" --partition-by "truncate(1, city)" 2>/dev/null
icebird "$WORK/data/lake/b" > icebird_b.ndjson
"$MILLRACE" query -d data -f json "SELECT * FROM b" > millrace_b.ndjson
compare "bucket and truncate" icebird_b.ndjson millrace_b.ndjson "$(icebird "$WORK/data/lake/b" --files | duckdb_list)" 30000
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
compare "after maintenance" icebird3.ndjson millrace3.ndjson "$(icebird "$table" --files | duckdb_list)" 30000
history=$("$MILLRACE" lake history t -d data)
expect_eq "$(wc -l <<<"$history")" "2" "history lists the empty table and the kept snapshot"
finish
