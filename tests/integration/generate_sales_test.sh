#!/usr/bin/env bash
# `millrace generate sales` (retail POS, one CSV per day) as a user would run it, with
# `millrace convert` and DuckDB reading the files.
source "$(dirname "$0")/lib/common.sh"
cd "$WORK"

"$MILLRACE" generate sales --days 3 --stores 6 --rows-per-day 3000 --start 2026-11-29 \
  --bad-fraction 0.02 --seed 9 --output-dir sales 2>gen.log
expect_eq "$(ls sales | tr '\n' ' ')" "sales_20261129.csv sales_20261130.csv sales_20261201.csv " \
  "one file per day, named by date, across a month end"
expect_eq "$(head -n 1 sales/sales_20261129.csv)" \
  "sale_id,store_id,sold_at,product_id,category,quantity,unit_price,amount,payment_type" "header"
"$MILLRACE" generate sales --days 3 --stores 6 --rows-per-day 3000 --start 2026-11-29 \
  --bad-fraction 0.02 --seed 9 --output-dir again 2>/dev/null
expect_eq "$(cat sales/*.csv | md5sum)" "$(cat again/*.csv | md5sum)" "deterministic per seed"

# Every deliberately bad row is rejected by the schema; the rest convert.
bad=$(sed -E 's/.*\(([0-9]+) deliberately bad.*/\1/' gen.log)
schema="sale_id: int64 not null, store_id: int32, sold_at: timestamp not null, product_id: string not null, category: string not null, quantity: int32 not null, unit_price: double not null, amount: double, payment_type: string not null"
rejected=0
for f in sales/*.csv; do
  "$MILLRACE" convert "$f" "clean_$(basename "$f")" --schema "$schema" 2>conv.log
  rejected=$((rejected + $(tail -n 1 conv.log | sed -E 's/.* ([0-9]+) rejected.*/\1/')))
done
expect_eq "$rejected" "$bad" "every malformed row is rejected, no other"
if [ "$bad" -gt 100 ] && [ "$bad" -lt 260 ]; then pass "about 2% bad rows ($bad)"; else fail "bad rows: $bad"; fi

# DuckDB over the clean rows: amounts are quantity x unit_price, timestamps within their day,
# nulls present, every store seen.
columns="{'sale_id':'BIGINT','store_id':'INTEGER','sold_at':'TIMESTAMP','product_id':'VARCHAR','category':'VARCHAR','quantity':'INTEGER','unit_price':'DOUBLE','amount':'DOUBLE','payment_type':'VARCHAR'}"
stats=$(duckdb "SELECT count(*) AS n,
    count(*) FILTER (WHERE amount IS NOT NULL AND abs(amount - quantity * unit_price) > 0.001) AS wrong_amount,
    count(*) FILTER (WHERE strftime(sold_at, '%Y%m%d') <> regexp_extract(filename, 'sales_([0-9]+)', 1)) AS wrong_day,
    count(DISTINCT store_id) AS stores,
    count(*) FILTER (WHERE store_id IS NULL) > 0 AS null_stores,
    count(*) FILTER (WHERE amount IS NULL) > 0 AS null_amounts
  FROM read_csv('clean_*.csv', header=true, columns=$columns, filename=true)")
expect_eq "$stats" "{\"n\":\"$((9000 - bad))\",\"wrong_amount\":\"0\",\"wrong_day\":\"0\",\"stores\":\"6\",\"null_stores\":true,\"null_amounts\":true}" \
  "DuckDB: amounts, days, stores and nulls as documented"

# --target-bytes sizes the whole output.
"$MILLRACE" generate sales --days 4 --target-bytes 2M --output-dir sized 2>/dev/null
size=$(cat sized/*.csv | wc -c)
if [ "$size" -gt 1950000 ] && [ "$size" -lt 2300000 ]; then pass "--target-bytes 2M wrote $size bytes"; else fail "--target-bytes 2M wrote $size bytes"; fi

set +e
out=$("$MILLRACE" generate sales --start 2026-02-30 --output-dir x 2>&1); rc=$?
expect_eq "$rc" "1" "a bad --start exits 1"
expect_contains "$out" "--start" "the message names the option"
out=$("$MILLRACE" generate sales --target-bytes lots --output-dir x 2>&1); rc=$?
expect_eq "$rc" "1" "a bad --target-bytes exits 1"
set -e
finish
