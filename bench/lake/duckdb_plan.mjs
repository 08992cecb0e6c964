// The peer of bench/lake/lake_plan_bench.cpp: DuckDB's `read_parquet` over the same 10,000 data
// files with the same filter. DuckDB has no manifest: it lists the files and opens every footer to
// skip row groups by their statistics, which is what planning without a table format costs.
// Times the filtered count five times (after one untimed run) and writes Google-Benchmark-shaped
// JSON so bench/summarize.mjs treats it like the others.
// Usage: node duckdb_plan.mjs <table folder> <out.json>
import { DuckDBInstance } from '@duckdb/node-api';
import { writeFileSync } from 'node:fs';

const [folder, out] = process.argv.slice(2);
const instance = await DuckDBInstance.create(':memory:');
const connection = await instance.connect();
const query = `SELECT count(*) FROM read_parquet('${folder}/part-*.parquet') WHERE id >= 500000 AND id < 501000`;
const run = async () => Number((await connection.runAndReadAll(query)).getRows()[0][0]);
const rows = await run();
const times = [];
for (let i = 0; i < 5; i++) {
  const start = process.hrtime.bigint();
  await run();
  times.push(Number(process.hrtime.bigint() - start) / 1e6);
}
const sorted = [...times].sort((a, b) => a - b);
const median = sorted[2];
const threads = (await connection.runAndReadAll("SELECT current_setting('threads')")).getRows()[0][0];
console.log(`DuckDB read_parquet, 10,000 files, filtered count: median ${median.toFixed(0)} ms over 5 runs (${times.map((t) => t.toFixed(0)).join(', ')}), ${threads} threads, ${rows} rows`);
writeFileSync(out, JSON.stringify({
  benchmarks: [{
    run_name: 'DuckDB_ReadParquet10kFilesFiltered', aggregate_name: 'median', real_time: median, time_unit: 'ms',
    min_ms: sorted[0], max_ms: sorted[4], rows_matched: rows,
  }],
}));
