// The DuckDB side of the Parquet write benchmark: loads the rows Millrace just wrote
// (bench/parquet/parquet_bench.cpp leaves them in MILLRACE_BENCH_DIR) into an in-memory table,
// then times `COPY orders TO ... (FORMAT parquet, COMPRESSION zstd)` five times, as our
// benchmark times writing from in-memory Batches. Writes Google-Benchmark-shaped JSON so
// bench/summarize.mjs treats it like the others.
// Usage: node duckdb_copy.mjs <our-file.parquet> <out.json>
import { DuckDBInstance } from '@duckdb/node-api';
import { statSync, writeFileSync } from 'node:fs';

const [ours, out] = process.argv.slice(2);
const instance = await DuckDBInstance.create(':memory:');
const connection = await instance.connect();
await connection.run(`CREATE TABLE orders AS FROM read_parquet('${ours}')`);
const target = ours.replace(/\.parquet$/, '_duckdb.parquet');
const times = [];
for (let i = 0; i < 5; i++) {
  const start = process.hrtime.bigint();
  await connection.run(`COPY orders TO '${target}' (FORMAT parquet, COMPRESSION zstd)`);
  times.push(Number(process.hrtime.bigint() - start) / 1e6);
}
times.sort((a, b) => a - b);
const median = times[2];
const rows = Number((await connection.runAndReadAll('SELECT count(*) FROM orders')).getRows()[0][0]);
const threads = (await connection.runAndReadAll("SELECT current_setting('threads')")).getRows()[0][0];
console.log(`DuckDB COPY zstd: median ${median.toFixed(0)} ms over 5 runs (${times.map((t) => t.toFixed(0)).join(', ')}), ${threads} threads, file ${statSync(target).size} bytes`);
writeFileSync(out, JSON.stringify({
  benchmarks: [{
    run_name: 'DuckDB_CopyOrders10MZstd', aggregate_name: 'median', real_time: median, time_unit: 'ms',
    items_per_second: rows / (median / 1000), file_bytes: statSync(target).size,
  }],
}));
