#!/usr/bin/env bash
# Memory limits and failing rows through the real binary: a cross join far larger than
# --memory-limit streams through `millrace run` and `millrace query` (the process is also held
# under a 2 GB address-space cap, which materializing the product would break); ORDER BY ...
# LIMIT over a join keeps only the limit; a sort that cannot fit names ORDER BY and the limit;
# a query whose row fails (division by zero) prints no rows and exits 1.
source "$(dirname "$0")/lib/common.sh"
cd "$WORK"

# DuckDB's JSON lines of integer columns as "1,2,3 4,5,6" (rows joined by spaces).
rows_of() { sed -E 's/\{"[^"]*":"?([^",}]*)"?,"[^"]*":"?([^",}]*)"?(,"[^"]*":"?([^",}]*)"?)?\}/\1,\2,\4/; s/,$//' | tr '\n' ' ' | sed 's/ $//'; }

rows=20000
awk -v n=$rows 'BEGIN { print "id,v"; for (i = 0; i < n; i++) print i "," (i * 7919) % 100003 }' > a.csv
sed "1s/.*/id,w/" a.csv > b.csv
mkdir -p project/pipelines
cat > project/millrace.yaml <<YAML
name: limits
data_dir: ./data
include: [pipelines/*.yaml]
YAML
source_yaml="
sources:
  a:
    file: { path: $WORK/a.csv, format: csv }
    schema: { id: int64 not null, v: int64 not null }
  b:
    file: { path: $WORK/b.csv, format: csv }
    schema: { id: int64 not null, w: int64 not null }"
cat > project/pipelines/cross.yaml <<YAML
name: cross
mode: batch
$source_yaml
views:
  pairs: SELECT count(*) AS n, sum(a.v) AS sv, max(a.v + b.w) AS top FROM a CROSS JOIN b
sinks:
  - { from: pairs, file: { path: $WORK/out/pairs.csv, format: csv } }
YAML
cat > project/pipelines/top.yaml <<YAML
name: top
mode: batch
$source_yaml
views:
  best: |
    SELECT a.id, b.id AS bid, a.v + b.w AS s
    FROM a JOIN b ON a.id % 4 = b.id % 4
    ORDER BY s DESC, a.id, b.id
    LIMIT 5
sinks:
  - { from: best, file: { path: $WORK/out/best.csv, format: csv } }
YAML
cat > project/pipelines/sorted.yaml <<YAML
name: sorted
mode: batch
$source_yaml
views:
  everything: SELECT a.id, b.id AS bid FROM a JOIN b ON a.id % 4 = b.id % 4 ORDER BY a.v + b.w
sinks:
  - { from: everything, file: { path: $WORK/out/everything.csv, format: csv } }
YAML

# 1. 20k x 20k = 400M joined rows (~10 GB if held), counted under a 1 MiB limit and a 2 GB
#    address space.
if (ulimit -v 2000000; export MALLOC_ARENA_MAX=2; "$MILLRACE" run project cross --memory-limit 1M >run.log 2>&1); then
  pass "a 400M-row cross join runs under --memory-limit 1M"
else
  fail "cross join under --memory-limit 1M: $(tail -3 run.log)"
fi
expected=$(duckdb "SELECT count(*) AS n, sum(a.v) AS sv, max(a.v + b.w) AS top FROM 'a.csv' a CROSS JOIN 'b.csv' b" \
  | sed -E 's/\{"n":"([0-9]+)","sv":"([0-9]+)","top":"([0-9]+)"\}/\1,\2,\3/')
expect_eq "$(tail -n +2 out/pairs.csv 2>/dev/null)" "$expected" "the cross join's count and sums equal DuckDB's"

# 2. ORDER BY ... LIMIT 5 over a 100M-row join keeps five rows, not the join.
if (ulimit -v 2000000; export MALLOC_ARENA_MAX=2; "$MILLRACE" run project top --memory-limit 1M >top.log 2>&1); then
  pass "ORDER BY ... LIMIT 5 over a 100M-row join runs under --memory-limit 1M"
else
  fail "ORDER BY ... LIMIT 5 under --memory-limit 1M: $(tail -3 top.log)"
fi
expected=$(duckdb "SELECT a.id, b.id AS bid, a.v + b.w AS s FROM 'a.csv' a JOIN 'b.csv' b ON a.id % 4 = b.id % 4
                   ORDER BY s DESC, a.id, b.id LIMIT 5" | rows_of)
expect_eq "$(tail -n +2 out/best.csv 2>/dev/null | tr '\n' ' ' | sed 's/ $//')" "$expected" "the top 5 rows equal DuckDB's"

# 3. Without a LIMIT the sort must hold the join: a clear error naming ORDER BY and the limit.
if "$MILLRACE" run project sorted --memory-limit 1M >sorted.log 2>&1; then
  fail "a sort of 100M rows under 1 MiB should fail"
else
  expect_contains "$(cat sorted.log)" "memory limit of 1 MiB reached: ORDER BY in \`everything\`" \
    "a sort over the limit names ORDER BY, its view and the limit"
fi
if [ -e out/everything.csv ]; then fail "the failed run left out/everything.csv"; else pass "the failed run wrote no output file"; fi

# 4. The same through `millrace query` over lake tables.
"$MILLRACE" convert a.csv a.parquet --schema "id: int64 not null, v: int64 not null" 2>/dev/null
"$MILLRACE" lake import a --data-dir data -i a.parquet --create 2>/dev/null
"$MILLRACE" lake import b --data-dir data -i a.parquet --create 2>/dev/null
out=$( (ulimit -v 2000000; export MALLOC_ARENA_MAX=2; "$MILLRACE" query -d data --memory-limit 1M -f csv \
         "SELECT count(*) AS n FROM a CROSS JOIN b") 2>&1) || true
expect_eq "$out" $'n\n400000000' "query: a 400M-row cross join counted under --memory-limit 1M"
out=$( (ulimit -v 2000000; export MALLOC_ARENA_MAX=2; "$MILLRACE" query -d data --memory-limit 1M -f csv \
         "SELECT a.id, b.id AS bid FROM a CROSS JOIN b WHERE a.id < 2000 ORDER BY a.v * b.v DESC, a.id, b.id LIMIT 3") 2>&1) || true
expected=$(duckdb "SELECT a.id, b.id AS bid FROM 'a.csv' a CROSS JOIN 'a.csv' b WHERE a.id < 2000
                   ORDER BY a.v * b.v DESC, a.id, b.id LIMIT 3" | rows_of)
expect_eq "$(tail -n +2 <<<"$out" | tr '\n' ' ' | sed 's/ $//')" "$expected" "query: ORDER BY ... LIMIT 3 over a 40M-row join equals DuckDB"

# 5. A WHERE with 5,000 OR terms (an IN list with a hash set) selects the rows DuckDB selects.
terms=$(awk 'BEGIN { for (i = 0; i < 5000; i++) printf "%sid = %d", (i ? " OR " : ""), i * 3 }')
expect_eq "$("$MILLRACE" query -d data -f csv "SELECT count(*) AS n, sum(v) AS s FROM a WHERE $terms" | tail -n +2)" \
  "$(duckdb "SELECT count(*) AS n, sum(v) AS s FROM 'a.csv' WHERE $terms" | rows_of)" \
  "a 5,000-term OR returns DuckDB's rows"

# 6. A row that fails fails the query: no rows on stdout, the error on stderr, exit 1.
printf 'id,x\n1,2\n2,0\n3,5\n' > t.csv
"$MILLRACE" convert t.csv t.parquet --schema "id: int64, x: int64" 2>/dev/null
"$MILLRACE" lake import t --data-dir data -i t.parquet --create 2>/dev/null
for format in table csv json; do
  set +e
  "$MILLRACE" query -d data -f $format "SELECT sum(10 / x) AS s FROM t" >q.out 2>q.err
  rc=$?
  set -e
  expect_eq "$rc" "1" "query ($format) with a division by zero exits 1"
  expect_eq "$(cat q.out)" "" "query ($format) with a division by zero prints no rows"
  expect_contains "$(cat q.err)" "division by zero" "query ($format) prints the row's error"
done
set +e
"$MILLRACE" query -d data -f csv "SELECT id, 10 / x AS q FROM t ORDER BY id" >q.out 2>q.err
rc=$?
set -e
expect_eq "$rc:$(cat q.out)" "1:" "a failing row in a plain SELECT prints none of the other rows"
expect_eq "$("$MILLRACE" query -d data -f csv "SELECT id, 10 / x AS q FROM t WHERE x <> 0 ORDER BY id")" \
  $'id,q\n1,5\n3,2' "the query without the failing row prints its rows"

finish
