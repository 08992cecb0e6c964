#!/usr/bin/env bash
# examples/retail-daily-sales as its README runs it: generate POS files, validate, explain, run;
# counts add up, DuckDB computes the same daily sales from the same files, outputs are atomic
# and re-runs give the same result; SQL mistakes get file:line:column errors.
source "$(dirname "$0")/lib/common.sh"

project=$WORK/retail
cp -r "$ROOT/examples/retail-daily-sales" "$project"
rm -rf "$project/incoming" "$project/out" "$project/data"
gen=$("$MILLRACE" generate sales --days 3 --stores 5 --rows-per-day 4000 --bad-fraction 0.01 \
  --output-dir "$project/incoming" 2>&1)
total=$(grep -oE '^generate: [0-9]+' <<<"$gen" | grep -oE '[0-9]+')
bad=$(grep -oE '[0-9]+ deliberately bad' <<<"$gen" | cut -d' ' -f1)

out=$("$MILLRACE" validate "$project" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "0" "the example validates"
plan=$("$MILLRACE" explain "$project" daily_sales)
expect_contains "$plan" "Scan sales [" "explain shows the scan"
expect_contains "$plan" "Aggregate keys:" "explain shows the aggregate"

out=$("$MILLRACE" run "$project" daily_sales) && rc=0 || rc=$?
expect_eq "$rc" "0" "run exits 0"
read_rows=$(grep -oE '[0-9]+ rows read' <<<"$out" | cut -d' ' -f1)
rejected=$(grep -oE '[0-9]+ rejected' <<<"$out" | head -1 | cut -d' ' -f1)
expect_eq "$((read_rows + rejected))" "$total" "records = rows read + rejected"
expect_eq "$rejected" "$bad" "exactly the malformed rows are rejected"
dlq=$(wc -l <"$project/out/rejected.ndjson")
failed_checks=$(grep -oE '[0-9]+ failed checks' <<<"$out" | cut -d' ' -f1 || true)
expect_eq "$dlq" "$((rejected + ${failed_checks:-0}))" "every rejected record is in the dead-letter file"
expect_contains "$(head -1 "$project/out/rejected.ndjson")" '"reason":' "dead letters carry a reason"

# DuckDB over the same files, with the same rules, must give the same per-store daily sales.
q="SELECT store_id, CAST(sold_at AS DATE) AS day, count(*) AS transactions, sum(quantity) AS items,
          round(sum(amount), 2) AS revenue
   FROM read_csv('$project/incoming/sales_*.csv', header=true, ignore_errors=true,
     columns={'sale_id':'BIGINT','store_id':'INTEGER','sold_at':'TIMESTAMP','product_id':'VARCHAR',
              'category':'VARCHAR','quantity':'INTEGER','unit_price':'DOUBLE','amount':'DOUBLE',
              'payment_type':'VARCHAR'})
   WHERE store_id IS NOT NULL AND amount IS NOT NULL AND quantity > 0 AND unit_price >= 0
   GROUP BY ALL"
ours="SELECT store_id, day, transactions, items, revenue FROM read_csv('$project/out/daily_store_sales.csv',
   columns={'store_id':'INTEGER','day':'DATE','transactions':'BIGINT','items':'BIGINT','revenue':'DOUBLE',
            'avg_ticket':'DOUBLE','distinct_products':'BIGINT'}, header=true)"
diff=$(duckdb "SELECT count(*) AS n FROM (($q) EXCEPT ALL ($ours)) UNION ALL SELECT count(*) FROM (($ours) EXCEPT ALL ($q))")
expect_eq "$(tr -d '\n' <<<"$diff")" '{"n":"0"}{"n":"0"}' "DuckDB computes the same daily sales per store"
rows=$(duckdb "SELECT count(*) AS n FROM read_csv('$project/out/daily_store_sales.csv')")
expect_eq "$rows" '{"n":"15"}' "one row per store and day"

# The lake table: DuckDB reads the committed Parquet files (hive partitions) and sees the same
# rows as the CSV sink; `millrace query` answers from the table.
lake_files() {
  "$MILLRACE" lake files daily_store_sales -p "$project" | cut -f1 |
    sed "s|^|'$project/data/lake/daily_store_sales/|; s|\$|'|" | paste -sd, -
}
lake_rows="SELECT store_id, day, transactions, items, revenue FROM read_parquet([$(lake_files)], hive_partitioning=false)"
diff=$(duckdb "SELECT count(*) AS n FROM (($lake_rows) EXCEPT ALL ($ours)) UNION ALL SELECT count(*) FROM (($ours) EXCEPT ALL ($lake_rows))")
expect_eq "$(tr -d '\n' <<<"$diff")" '{"n":"0"}{"n":"0"}' "DuckDB reads the lake table's Parquet files: same rows"
parts=$(ls "$project/data/lake/daily_store_sales" | grep -c '^day=')
expect_eq "$parts" "3" "one Hive partition folder per day"
q=$("$MILLRACE" query "SELECT count(*) AS n, sum(transactions) AS t FROM daily_store_sales" -p "$project" -f csv | tail -1)
t=$(duckdb "SELECT count(*) AS n, sum(transactions)::BIGINT AS t FROM ($ours)" | tr -d '{}"' | sed 's/n://; s/t://')
expect_eq "$q" "$t" "millrace query over the lake table agrees"

# Re-running gives the same outcome.
first=$(md5sum <"$project/out/daily_store_sales.csv")
"$MILLRACE" run "$project" daily_sales >/dev/null
expect_eq "$(md5sum <"$project/out/daily_store_sales.csv")" "$first" "a re-run writes the same output"
lake_rows="SELECT store_id, day, transactions, items, revenue FROM read_parquet([$(lake_files)], hive_partitioning=false)"
rows=$(duckdb "SELECT count(*) AS n FROM ($lake_rows)")
expect_eq "$rows" '{"n":"15"}' "a re-run overwrites the days it writes in the lake (no duplicates)"

# A typo in the SQL: a clear error at file:line:column, non-zero exit, previous outputs intact.
sed -i 's/sum(quantity)/sum(quantty)/' "$project/pipelines/daily_sales.yaml"
err=$("$MILLRACE" run "$project" daily_sales 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "a bad view fails the run"
expect_contains "$err" "pipelines/daily_sales.yaml:25:16: error" "the error names file and line"
expect_contains "$err" 'unknown column `quantty`, did you mean `quantity`?' "the error suggests the column"
expect_eq "$(md5sum <"$project/out/daily_store_sales.csv")" "$first" "a failed run leaves the previous output"
err=$("$MILLRACE" validate "$project" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "validate catches the SQL error too"
expect_contains "$err" 'did you mean `quantity`' "validate reports it"
finish
