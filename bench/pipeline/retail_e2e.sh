#!/usr/bin/env bash
# End-to-end benchmark: `millrace run` of the retail example over ~1 GB of POS CSV
# vs DuckDB (COPY (SELECT ... FROM read_csv(...) GROUP BY ...) TO ...) on the same files, in the
# same run, alternating, RUNS times each. Prints both medians and the ratio, and writes every
# run's time to $MILLRACE_BENCH_DIR/part_retail.json (default <build>/bench-results, the build
# holding the binary) for bench/summarize.mjs.
# Usage: bench/pipeline/retail_e2e.sh <millrace-binary> [data-dir]
set -euo pipefail
millrace=$(realpath "$1")
results=${MILLRACE_BENCH_DIR:-$(dirname "$millrace")/../../bench-results}
mkdir -p "$results"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
root=$(cd "$(dirname "$0")/../.." && pwd)
data=${2:-$root/build/bench-data/retail}
runs=${RUNS:-5}
if [ ! -f "$data/incoming/.complete" ]; then
  rm -rf "$data/incoming"
  "$millrace" generate sales --days 30 --stores 50 --rows-per-day 450000 --bad-fraction 0.001 \
    --seed 7 --output-dir "$data/incoming" >/dev/null
  touch "$data/incoming/.complete"
fi
mkdir -p "$data/pipelines"
cp "$root/examples/retail-daily-sales/millrace.yaml" "$data/millrace.yaml"
# Only the per-store view and its sink: the figure compares one query with one query.
cat > "$data/pipelines/daily_sales.yaml" <<'YAML'
name: daily_sales
mode: batch
sources:
  sales:
    file: { path: incoming/sales_*.csv, format: csv }
    schema: { sale_id: int64 not null, store_id: int32, sold_at: timestamp not null,
              product_id: string not null, category: string not null, quantity: int32 not null,
              unit_price: double not null, amount: double, payment_type: string not null }
checks:
  sales:
    - not_null: [store_id, amount]
      on_fail: drop
    - expect: "quantity > 0 AND unit_price >= 0"
      on_fail: dead_letter
views:
  daily_store_sales: |
    SELECT store_id, date(sold_at) AS day, count(*) AS transactions, sum(quantity) AS items,
           round(sum(amount), 2) AS revenue, round(avg(amount), 2) AS avg_ticket,
           approx_count_distinct(product_id) AS distinct_products
    FROM sales GROUP BY store_id, date(sold_at)
sinks:
  - { from: daily_store_sales, file: { path: out/daily_store_sales.csv, format: csv } }
YAML
bytes=$(cat "$data"/incoming/sales_*.csv | wc -c)
echo "input: $(ls "$data"/incoming/sales_*.csv | wc -l) files, $((bytes / 1000000)) MB; $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
m_times=(); d_times=()
for i in $(seq "$runs"); do
  start=$(date +%s.%N)
  "$millrace" run "$data" daily_sales >/dev/null
  end=$(date +%s.%N)
  m_times+=("$(echo "$end - $start" | bc)")
  d_times+=("$(node "$root/bench/pipeline/duckdb_retail.mjs" "$data/incoming" "$data/out/duckdb.csv")")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
m=$(median "${m_times[@]}"); d=$(median "${d_times[@]}")
echo "millrace run: ${m_times[*]} -> median $m s"
echo "duckdb:       ${d_times[*]} -> median $d s"
echo "ratio millrace/duckdb: $(echo "scale=2; $m / $d" | bc)  (goal <= 0.8)"
join() { local IFS=,; echo "$*"; }
printf '{"part":"retail","input_mb":%s,"load_before":"%s","load_after":"%s","millrace_s":[%s],"duckdb_s":[%s]}\n' \
  "$((bytes / 1000000))" "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)" \
  "$(join "${m_times[@]}")" "$(join "${d_times[@]}")" > "$results/part_retail.json"
# Same answer: rows and total revenue agree.
node "$root/tests/integration/lib/duckdb_query.mjs" \
  "SELECT count(*) AS rows, round(sum(revenue), 2) AS revenue FROM read_csv('$data/out/daily_store_sales.csv')" \
  | sed 's/^/millrace output: /'
node "$root/tests/integration/lib/duckdb_query.mjs" \
  "SELECT count(*) AS rows, round(sum(revenue), 2) AS revenue FROM read_csv('$data/out/duckdb.csv')" \
  | sed 's/^/duckdb output:   /'
