// Runs SQL statements in an in-memory DuckDB and prints the last result as JSON lines.
// Usage: node duckdb_query.mjs "<sql>" ["<sql>" ...]
import { DuckDBInstance } from '@duckdb/node-api';

const instance = await DuckDBInstance.create(':memory:');
const connection = await instance.connect();
let rows = [];
for (const sql of process.argv.slice(2)) {
  const reader = await connection.runAndReadAll(sql);
  rows = reader.getRowObjectsJson();
}
for (const row of rows) console.log(JSON.stringify(row));
