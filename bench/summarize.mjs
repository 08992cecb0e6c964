// Prints the headline figures from Google Benchmark JSON outputs: medians, MB/s, rows/s, and
// the ratios against their peers.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
const medians = {};
for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
  const data = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  for (const b of data.benchmarks) {
    if (b.aggregate_name === 'median') medians[b.run_name.replace(/\/(min_time|iterations|real_time).*/, '')] = b;
  }
}
const mbps = (b) => (b.bytes_per_second / 1e6).toFixed(0);
const rows = (b) => (b.items_per_second / 1e6).toFixed(2);
console.log('\nfigure                                   MB/s    Mrows/s');
for (const [name, b] of Object.entries(medians)) {
  if (b.bytes_per_second) console.log(`${name.padEnd(40)} ${mbps(b).padStart(6)} ${rows(b).padStart(9)}`);
}
const ceiling = medians.BM_SimdjsonOnDemandCeiling;
const ours = medians.BM_JsonDecoderNdjson;
if (ceiling && ours) {
  console.log(`\nNDJSON decode / simdjson on-demand ceiling: ${(ours.bytes_per_second / ceiling.bytes_per_second).toFixed(2)} (goal >= 0.5)`);
}
const csv = medians.BM_CsvDecode || Object.entries(medians).find(([n]) => /Csv.*Decode/i.test(n))?.[1];
if (csv) console.log(`CSV decode: ${mbps(csv)} MB/s on one core (goal >= 300)`);

// Scheduler (bench/scheduler): latencies in microseconds and tasks started per second.
const us = (v) => (v >= 1000 ? `${(v / 1000).toFixed(2)} ms` : `${v.toFixed(0)} us`);
for (const name of ['BM_TriggerToStart', 'BM_HandOff']) {
  const b = Object.entries(medians).find(([n]) => n.startsWith(name))?.[1];
  if (b) console.log(`scheduler ${name.slice(3)}: p50 ${us(b.p50_us)}, p99 ${us(b.p99_us)} (goal p99 < 20 ms)`);
}
const fan = Object.entries(medians).find(([n]) => n.startsWith('BM_FanOutFanIn10k'))?.[1];
const ceil = Object.entries(medians).find(([n]) => n.startsWith('BM_SpawnCeiling'))?.[1];
if (fan) {
  const ratio = ceil ? `, ${(fan.tasks_per_s / ceil.tasks_per_s).toFixed(2)} of the bare spawn ceiling ${ceil.tasks_per_s.toFixed(0)}/s` : '';
  console.log(`scheduler 10k fan-out/fan-in: ${fan.tasks_per_s.toFixed(0)} tasks/s (goal >= 2000)${ratio}`);
}
const write = medians.BM_ParquetWriteOrders10MZstd;
const duck = medians.DuckDB_CopyOrders10MZstd;
const read = medians.BM_ParquetReadOrders10MProjection2;
if (write) {
  console.log(`\nParquet write, 10M orders, zstd: ${write.real_time.toFixed(0)} ms, ${(write.file_bytes / 1e6).toFixed(1)} MB`);
}
if (write && duck) {
  console.log(`DuckDB COPY, same rows, zstd:     ${duck.real_time.toFixed(0)} ms, ${(duck.file_bytes / 1e6).toFixed(1)} MB`);
  console.log(`wall-time ratio ours / DuckDB: ${(write.real_time / duck.real_time).toFixed(2)} (goal <= 1.0)`);
  console.log(`file-size ratio ours / DuckDB: ${(write.file_bytes / duck.file_bytes).toFixed(2)} (goal <= 1.1)`);
}
if (read) console.log(`Parquet read, projection of 2 columns: ${rows(read)} M rows/s`);
