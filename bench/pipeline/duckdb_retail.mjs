// The DuckDB side of the retail end-to-end benchmark: the same daily-sales-per-store query as
// examples/retail-daily-sales, over the same CSV files, written to CSV with COPY. Prints the
// wall time in seconds. Usage: node duckdb_retail.mjs <incoming-dir> <out.csv>
import { DuckDBInstance } from '@duckdb/node-api';

const [dir, out] = process.argv.slice(2);
const started = performance.now();
const instance = await DuckDBInstance.create(':memory:');
const connection = await instance.connect();
await connection.run(`COPY (
  SELECT store_id, CAST(sold_at AS DATE) AS day, count(*) AS transactions, sum(quantity) AS items,
         round(sum(amount), 2) AS revenue, round(avg(amount), 2) AS avg_ticket,
         approx_count_distinct(product_id) AS distinct_products
  FROM read_csv('${dir}/sales_*.csv', header = true, ignore_errors = true,
                columns = {'sale_id': 'BIGINT', 'store_id': 'INTEGER', 'sold_at': 'TIMESTAMP',
                           'product_id': 'VARCHAR', 'category': 'VARCHAR', 'quantity': 'INTEGER',
                           'unit_price': 'DOUBLE', 'amount': 'DOUBLE', 'payment_type': 'VARCHAR'})
  WHERE store_id IS NOT NULL AND amount IS NOT NULL AND quantity > 0 AND unit_price >= 0
  GROUP BY store_id, CAST(sold_at AS DATE)) TO '${out}' (HEADER, DELIMITER ',')`);
console.log(((performance.now() - started) / 1000).toFixed(3));
