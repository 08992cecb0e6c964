// The peer of bench/lake/upsert.sh: DuckDB doing the same upsert into a table of its own
// database file (PRIMARY KEY order_id): INSERT OR REPLACE of the change set, then CHECKPOINT so
// the change is on disk as Millrace's commit is. Prints the milliseconds of the upsert.
// Usage: node duckdb_upsert.mjs <db file> <base.ndjson> <changes.ndjson>
import { DuckDBInstance } from '@duckdb/node-api';

const [db, base, changes] = process.argv.slice(2);
const instance = await DuckDBInstance.create(db);
const connection = await instance.connect();
const columns = `{'order_id':'VARCHAR','user_id':'VARCHAR','restaurant_id':'VARCHAR','timestamp':'TIMESTAMPTZ',
  'status':'VARCHAR','amount':'DOUBLE','items':'INTEGER','city':'VARCHAR'}`;
await connection.run(`CREATE TABLE orders (order_id VARCHAR PRIMARY KEY, user_id VARCHAR,
  restaurant_id VARCHAR, "timestamp" TIMESTAMPTZ, status VARCHAR, amount DOUBLE, items INTEGER, city VARCHAR)`);
await connection.run(`INSERT INTO orders SELECT * FROM read_json('${base}', format='newline_delimited', columns=${columns})`);
await connection.run('CHECKPOINT');
const start = performance.now();
await connection.run(`INSERT OR REPLACE INTO orders SELECT * FROM read_json('${changes}', format='newline_delimited', columns=${columns})`);
await connection.run('CHECKPOINT');
const ms = performance.now() - start;
const reader = await connection.runAndReadAll('SELECT count(*) AS n FROM orders');
console.log(JSON.stringify({ ms, rows: Number(reader.getRowObjectsJson()[0].n) }));
