#!/usr/bin/env bash
# Parquet files Millrace writes, read by engines no one here wrote (DuckDB, hyparquet), and files
# DuckDB writes, read by Millrace: values, types, null counts and statistics must agree.
source "$(dirname "$0")/lib/common.sh"
cd "$WORK"
hyparquet() { node "$ROOT/tests/integration/lib/hyparquet_read.mjs" "$@"; }

# 1. Every type, with nulls: DuckDB makes the data (NDJSON, bytes as base64), we convert it.
duckdb "COPY (SELECT
    CASE WHEN i % 7 = 3 THEN NULL ELSE i % 3 = 0 END AS b,
    CASE WHEN i % 7 = 3 THEN NULL ELSE (i % 100 - 50)::INTEGER END AS i32,
    (i * 1000003 - 7)::BIGINT AS i64,
    CASE WHEN i % 7 = 3 THEN NULL ELSE i / 8.0 - 3.0 END::DOUBLE AS f64,
    CASE WHEN i % 7 = 3 THEN NULL WHEN i % 11 = 0 THEN '' ELSE 'city-' || (i % 13) || 'é' END AS s,
    CASE WHEN i % 7 = 3 THEN NULL ELSE to_base64(('\\x00\\xFF' || i::VARCHAR)::BLOB) END AS bin,
    CASE WHEN i % 7 = 3 THEN NULL ELSE TIMESTAMPTZ '2026-01-01 00:00:00+00' + to_microseconds(i * 1000001) END AS ts,
    (DATE '1967-04-07' + (i % 40000)::INTEGER) AS d
  FROM range(30000) t(i)) TO 'all.ndjson' (FORMAT json)" >/dev/null
schema="b: bool, i32: int32, i64: int64 not null, f64: double, s: string, bin: bytes, ts: timestamp, d: date not null"
columns="{'b':'BOOLEAN','i32':'INTEGER','i64':'BIGINT','f64':'DOUBLE','s':'VARCHAR','bin':'VARCHAR','ts':'TIMESTAMPTZ','d':'DATE'}"
original="(SELECT * REPLACE (from_base64(bin) AS bin) FROM read_json('all.ndjson', format='newline_delimited', columns=$columns))"
for codec in zstd snappy none; do
  "$MILLRACE" convert all.ndjson "all_$codec.parquet" --schema "$schema" --compression "$codec" \
    --row-group-rows 10000 2>/dev/null
  diff=$(duckdb "SELECT (SELECT count(*) FROM (FROM $original EXCEPT ALL FROM 'all_$codec.parquet')) AS a,
                        (SELECT count(*) FROM (FROM 'all_$codec.parquet' EXCEPT ALL FROM $original)) AS b,
                        (SELECT count(*) FROM 'all_$codec.parquet') AS n")
  expect_eq "$diff" '{"a":"0","b":"0","n":"30000"}' "DuckDB reads every value of our $codec file"
done
types=$(duckdb "SELECT string_agg(column_name || ' ' || column_type, ', ') AS t FROM (DESCRIBE FROM 'all_zstd.parquet')")
expect_eq "$types" '{"t":"b BOOLEAN, i32 INTEGER, i64 BIGINT, f64 DOUBLE, s VARCHAR, bin BLOB, ts TIMESTAMP WITH TIME ZONE, d DATE"}' "DuckDB sees our logical types"

# Statistics: per row group, the recorded null counts and min/max equal what DuckDB computes.
stats=$(duckdb "WITH data AS (SELECT *, (row_number() OVER () - 1) // 10000 AS g FROM 'all_zstd.parquet'),
  meta AS (SELECT row_group_id AS g, path_in_schema AS col, stats_null_count AS nulls,
                  stats_min_value AS lo, stats_max_value AS hi FROM parquet_metadata('all_zstd.parquet')),
  truth AS (
    SELECT g, 'i32' AS col, count(*) - count(i32) AS nulls, min(i32)::VARCHAR AS lo, max(i32)::VARCHAR AS hi FROM data GROUP BY g
    UNION ALL SELECT g, 'i64', 0, min(i64)::VARCHAR, max(i64)::VARCHAR FROM data GROUP BY g
    UNION ALL SELECT g, 'f64', count(*) - count(f64), min(f64)::VARCHAR, max(f64)::VARCHAR FROM data GROUP BY g
    UNION ALL SELECT g, 's', count(*) - count(s), min(s), max(s) FROM data GROUP BY g
    UNION ALL SELECT g, 'd', 0, min(d)::VARCHAR, max(d)::VARCHAR FROM data GROUP BY g
    UNION ALL SELECT g, 'b', count(*) - count(b), min(b)::VARCHAR, max(b)::VARCHAR FROM data GROUP BY g
    UNION ALL SELECT g, 'ts', count(*) - count(ts), min(ts)::VARCHAR, max(ts)::VARCHAR FROM data GROUP BY g)
  SELECT count(*) AS checked, count(*) FILTER (WHERE m.nulls IS DISTINCT FROM t.nulls OR m.lo IS DISTINCT FROM t.lo OR m.hi IS DISTINCT FROM t.hi) AS wrong
  FROM truth t JOIN meta m USING (g, col)")
expect_eq "$stats" '{"checked":"21","wrong":"0"}' "page-chunk statistics (null count, min, max) match the data"

# 2. hyparquet (no zstd support without plugins: snappy and uncompressed files).
for codec in snappy none; do
  hyparquet "all_$codec.parquet" > "hy_$codec.ndjson"
  # hyparquet returns timestamps as JS Dates (milliseconds): compare at that precision.
  diff=$(duckdb "SELECT (SELECT count(*) FROM (
      SELECT b, i32, i64, f64, s, to_hex(bin) AS bin, date_trunc('millisecond', ts) AS ts, d FROM $original
      EXCEPT ALL
      SELECT b, i32, i64::BIGINT, f64, s, upper(bin), ts::TIMESTAMPTZ, left(d, 10)::DATE FROM read_json('hy_$codec.ndjson', format='newline_delimited',
        columns={'b':'BOOLEAN','i32':'INTEGER','i64':'VARCHAR','f64':'DOUBLE','s':'VARCHAR','bin':'VARCHAR','ts':'VARCHAR','d':'VARCHAR'}))) AS a,
      (SELECT count(*) FROM read_json('hy_$codec.ndjson', format='newline_delimited', columns={'s':'VARCHAR'})) AS n")
  expect_eq "$diff" '{"a":"0","n":"30000"}' "hyparquet reads every value of our $codec file"
done
meta=$(hyparquet all_snappy.parquet --meta)
expect_contains "$meta" '{"name":"s","type":"BYTE_ARRAY","repetition":"OPTIONAL","converted":"UTF8","logical":"STRING"}' "hyparquet: string logical type"
expect_contains "$meta" '{"name":"ts","type":"INT64","repetition":"OPTIONAL","converted":"TIMESTAMP_MICROS","logical":"TIMESTAMP"}' "hyparquet: timestamp logical type"
expect_contains "$meta" '{"name":"d","type":"INT32","repetition":"REQUIRED","converted":"DATE","logical":"DATE"}' "hyparquet: date logical type"
expect_contains "$meta" '{"column":"i32","nulls":"1428","min":-50,"max":49}' "hyparquet: statistics of the first row group"

# 3. Files DuckDB writes (default snappy + dictionary, zstd, gzip, uncompressed, Parquet v2
# pages and encodings) read back by us with the same values.
for options in "" ", COMPRESSION zstd" ", COMPRESSION gzip" ", COMPRESSION uncompressed" \
               ", PARQUET_VERSION V2" ", ROW_GROUP_SIZE 5000"; do
  duckdb "COPY (FROM $original) TO 'duck.parquet' (FORMAT parquet$options)" >/dev/null
  if "$MILLRACE" convert duck.parquet ours.parquet 2>convert.log; then
    diff=$(duckdb "SELECT (SELECT count(*) FROM (FROM 'duck.parquet' EXCEPT ALL FROM 'ours.parquet')) AS a,
                          (SELECT count(*) FROM (FROM 'ours.parquet' EXCEPT ALL FROM 'duck.parquet')) AS b")
    expect_eq "$diff" '{"a":"0","b":"0"}' "we read DuckDB's file (FORMAT parquet$options) with the same values"
  else
    fail "reading DuckDB's file (FORMAT parquet$options): $(cat convert.log)"
  fi
done

# 4. Orders: NDJSON -> Parquet -> NDJSON is lossless.
"$MILLRACE" generate orders --rows 20000 --seed 7 -o orders.ndjson 2>/dev/null
oschema="order_id: string not null, user_id: string, restaurant_id: string, timestamp: timestamp not null, status: string, amount: double not null, items: int32, city: string"
"$MILLRACE" convert orders.ndjson orders.parquet --schema "$oschema" 2>/dev/null
"$MILLRACE" convert orders.parquet back.ndjson 2>/dev/null
"$MILLRACE" convert orders.ndjson reference.ndjson --schema "$oschema" 2>/dev/null  # our number format
expect_eq "$(cmp reference.ndjson back.ndjson && echo same)" "same" "orders NDJSON -> Parquet -> NDJSON keeps every value"

# 5. Bad files: clear errors naming the file, exit 1, no crash.
set +e
head -c 1000 orders.parquet > truncated.parquet
out=$("$MILLRACE" convert truncated.parquet x.ndjson 2>&1); rc=$?
expect_eq "$rc" "1" "a truncated file exits 1"
expect_contains "$out" "truncated.parquet: bad magic at the end (truncated or not Parquet)" "a truncated file is named and explained"
out=$("$MILLRACE" convert orders.ndjson x.ndjson --from parquet 2>&1); rc=$?
expect_eq "$rc" "1" "a non-Parquet file exits 1"
expect_contains "$out" "orders.ndjson: bad magic" "a non-Parquet file is named"
size=$(stat -c %s orders.parquet)
cp orders.parquet flipped.parquet
printf '\xff\xff\xff\xff\xff\xff' | dd of=flipped.parquet bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
out=$("$MILLRACE" convert flipped.parquet x.ndjson 2>&1); rc=$?
expect_eq "$rc" "1" "a corrupted page exits 1"
expect_contains "$out" "flipped.parquet" "a corrupted page names the file"
set -e
finish
