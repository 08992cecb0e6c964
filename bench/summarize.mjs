// The closing table of `make bench`: every figure with Millrace's value, the peer measured in the
// same run, their ratio, the goal and whether it is met. Reads what the parts left in the results
// directory: Google Benchmark JSON (`<name>_bench.json`), DuckDB's Parquet copy
// (`duckdb_copy.json`) and the shell parts' `part_*.json` (bench/log/run.sh,
// bench/online/run.sh, bench/pipeline/retail_e2e.sh, bench/pipeline/state_recovery.sh,
// bench/pipeline/freshness.sh, bench/pipeline/window_freshness.sh, bench/kafka/produce.sh,
// bench/nexmark/run.sh, bench/lake/run.sh; DuckDB's filtered read of the lake benchmark's
// files, `duckdb_plan.json`). Prints the table
// and, given a Markdown file, writes it there between the two marker comments (replacing what
// was there).
// Usage: node bench/summarize.mjs <results-dir> [BENCHMARKS.md]
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';

const [dir, markdown] = process.argv.slice(2);
const BEGIN = '<!-- bench-summary:begin (written by bench/summarize.mjs; do not edit by hand) -->';
const END = '<!-- bench-summary:end -->';

// Google Benchmark medians by run name, and when each results file was written.
const medians = {};
const written = {};
for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
  let data;
  try {
    data = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  } catch {
    continue;  // a part that died mid-write: its figures show as not run
  }
  written[file] = statSync(join(dir, file)).mtime;
  for (const b of data.benchmarks ?? []) {
    if (b.aggregate_name === 'median' || (b.run_type === 'iteration' && !medians[name(b)])) {
      medians[name(b)] = b;
    }
  }
}
function name(b) {
  return b.run_name.replace(/\/(min_time|iterations|real_time|threads).*/, '');
}
const part = (p) => {
  const file = join(dir, `part_${p}.json`);
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null;
};
const find = (prefix) => Object.entries(medians).find(([n]) => n.startsWith(prefix))?.[1];
const median = (values) => {
  const v = (values ?? []).filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};
const spread = (values) => {
  const v = (values ?? []).filter((x) => Number.isFinite(x));
  return v.length > 1 ? ` (${fmt(Math.min(...v))}–${fmt(Math.max(...v))})` : '';
};
const fmt = (v) => {
  if (v === undefined || v === null || Number.isNaN(v)) return '—';
  if (Math.abs(v) >= 100) return Math.round(v).toLocaleString('en-US');
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
};
const reports = (list, pick) => (list ?? []).map(pick);

// Each row: figure, unit, Millrace value (+ spread), peer label and value, ratio, goal, verdict.
// `better`: 'higher' (rates) or 'lower' (times, latencies); the ratio is always ours / peer.
const rows = [];
function row({ figure, unit, ours, oursRuns, peer, peerValue, peerRuns, better, goal, goalRatio, peerText }) {
  let ratio;
  if (ours !== undefined && peerValue !== undefined && peerValue > 0) ratio = ours / peerValue;
  let verdict = 'not run';
  if (ours !== undefined) {
    const ok = [];
    if (goal !== undefined) ok.push(better === 'higher' ? ours >= goal : ours < goal);
    if (goalRatio !== undefined && ratio !== undefined) {
      ok.push(better === 'higher' ? ratio >= goalRatio : ratio <= goalRatio);
    } else if (goalRatio !== undefined) {
      ok.push(undefined);
    }
    verdict = ok.length === 0 ? '—' : ok.includes(false) ? 'NOT met' : ok.includes(undefined) ? 'peer not run' : 'met';
  }
  const goals = [];
  if (goal !== undefined) goals.push(`${better === 'higher' ? '≥' : '<'} ${fmt(goal)} ${unit}`);
  if (goalRatio !== undefined) goals.push(`ratio ${better === 'higher' ? '≥' : '≤'} ${goalRatio}`);
  rows.push([
    figure,
    ours === undefined ? '—' : `${fmt(ours)} ${unit}${spread(oursRuns)}`,
    peerText ?? (peer ? `${peer}: ${peerValue === undefined ? '—' : `${fmt(peerValue)} ${unit}${spread(peerRuns)}`}` : '—'),
    ratio === undefined ? '—' : ratio.toFixed(2),
    goals.join(', ') || '—',
    verdict,
  ]);
}

// Decoding (bench/formats).
const ceiling = medians.BM_SimdjsonOnDemandCeiling;
const json = medians['BM_JsonDecoderNdjson/1'];
row({ figure: 'NDJSON → Batch (JsonDecoder)', unit: 'MB/s', ours: json && json.bytes_per_second / 1e6,
  peer: 'simdjson on-demand ceiling', peerValue: ceiling && ceiling.bytes_per_second / 1e6, better: 'higher', goalRatio: 0.5 });
const csv = medians.BM_CsvDecodeOrders;
row({ figure: 'CSV → Batch (CsvDecoder), one core', unit: 'MB/s', ours: csv && csv.bytes_per_second / 1e6, better: 'higher', goal: 300 });

// Parquet (bench/parquet + DuckDB).
const write = medians.BM_ParquetWriteOrders10MZstd;
const duck = medians.DuckDB_CopyOrders10MZstd;
row({ figure: 'Parquet write, 10M orders, zstd: time', unit: 'ms', ours: write?.real_time,
  peer: 'DuckDB COPY', peerValue: duck?.real_time, better: 'lower', goalRatio: 1.0 });
row({ figure: 'Parquet write, 10M orders, zstd: file size', unit: 'MB', ours: write && write.file_bytes / 1e6,
  peer: 'DuckDB COPY', peerValue: duck && duck.file_bytes / 1e6, better: 'lower', goalRatio: 1.1 });
const read = medians.BM_ParquetReadOrders10MProjection2;
row({ figure: 'Parquet read, 2 of 8 columns', unit: 'M rows/s', ours: read && read.items_per_second / 1e6, better: 'higher' });

// Lake (bench/lake): planning over 10,000 data files (lake_plan_bench + DuckDB), concurrent
// commits and upsert at scale (bench/lake/run.sh, part_lake.json).
const planOn = medians['BM_LakePlan10kFiles/statistics:1'];
const planOff = medians['BM_LakePlan10kFiles/statistics:0'];
row({ figure: `lake plan, selective filter over ${fmt(planOn?.files_total ?? 10000)} files: files kept`, unit: 'files',
  ours: planOn?.files_kept, peer: 'no statistics pruning', peerValue: planOff?.files_kept, better: 'lower', goalRatio: 0.01 });
// CPU time of the benchmark's one thread: on a shared machine the wall time of a 100 ms step
// mostly measures the other jobs.
row({ figure: 'lake plan (metadata, manifests, statistics), 10,000 files: CPU time', unit: 'ms', ours: planOn?.cpu_time,
  peer: 'same plan, no statistics pruning', peerValue: planOff?.cpu_time, better: 'lower', goalRatio: 1.1 });
const scanOn = medians['BM_LakeScan10kFiles/statistics:1'];
const scanOff = medians['BM_LakeScan10kFiles/statistics:0'];
row({ figure: 'lake filtered count over 10,000 files (plan + read): CPU time', unit: 'ms', ours: scanOn?.cpu_time,
  peer: 'same scan, no statistics pruning', peerValue: scanOff?.cpu_time, better: 'lower', goalRatio: 0.5 });
const duckPlan = medians.DuckDB_ReadParquet10kFilesFiltered;
row({ figure: 'lake filtered count over 10,000 files vs DuckDB read_parquet: wall time', unit: 'ms', ours: scanOn?.real_time,
  peer: 'DuckDB read_parquet, same files and filter', peerValue: duckPlan?.real_time, better: 'lower', goalRatio: 1.0 });
const lake = part('lake');
const commitRuns = (list, p) => reports(list, (r) => r.commit_ms[p]);
for (const p of ['p50', 'p99']) {
  row({ figure: `lake commit latency, 4 writer processes, ${p}`, unit: 'ms', ours: median(commitRuns(lake?.commit?.four, p)),
    oursRuns: commitRuns(lake?.commit?.four, p), peer: '1 writer', peerValue: median(commitRuns(lake?.commit?.one, p)),
    peerRuns: commitRuns(lake?.commit?.one, p), better: 'lower', goalRatio: p === 'p99' ? 4 : undefined });
}
const fourRuns = lake?.commit?.four ?? [];
const perCommit = (r) => r.retries / r.snapshots;
row({ figure: 'lake commits, 4 writers: lost races (retries) per commit', unit: '',
  ours: median(fourRuns.map(perCommit)), oursRuns: fourRuns.map(perCommit), better: 'lower' });
const allRuns = [...(lake?.commit?.one ?? []), ...fourRuns];
row({ figure: 'lake commits, 1 and 4 writers: rows missing or commits not whole, all runs', unit: '',
  ours: lake?.commit ? allRuns.reduce((n, r) => n + (r.rows_expected - r.rows) + (r.ok ? 0 : 1), 0) : undefined,
  better: 'lower', goal: 1 });
const upsert = lake?.upsert;
const upsertScale = upsert ? `${fmt(upsert.changed_rows / 1e6)}M keys into ${fmt(upsert.base_rows / 1e6)}M rows` : 'changed keys into a table';
row({ figure: `lake upsert, ${upsertScale}: time`, unit: 's', ours: upsert ? median(upsert.millrace_ms) / 1000 : undefined,
  oursRuns: upsert?.millrace_ms?.map((ms) => ms / 1000), peer: 'DuckDB INSERT OR REPLACE + CHECKPOINT',
  peerValue: upsert ? median(upsert.duckdb_ms) / 1000 : undefined, peerRuns: upsert?.duckdb_ms?.map((ms) => ms / 1000), better: 'lower', goalRatio: 1.0 });
row({ figure: `lake count + sum after the upsert, equality deletes applied (${upsert?.delete_files ?? '?'} delete files)`, unit: 'ms',
  ours: median(upsert?.read_before_ms), oursRuns: upsert?.read_before_ms, peer: 'after lake compact',
  peerValue: median(upsert?.read_after_ms), peerRuns: upsert?.read_after_ms, better: 'lower' });

// Batch pipeline end to end (bench/pipeline/retail_e2e.sh).
const retail = part('retail');
row({ figure: 'retail batch pipeline, ~1 GB CSV: time', unit: 's', ours: median(retail?.millrace_s), oursRuns: retail?.millrace_s,
  peer: 'DuckDB', peerValue: median(retail?.duckdb_s), peerRuns: retail?.duckdb_s, better: 'lower', goalRatio: 0.8 });

// Scheduler (bench/scheduler).
for (const [bench, label] of [['BM_TriggerToStart', 'trigger → task started'], ['BM_HandOff', 'hand-off upstream exit → downstream start']]) {
  const b = find(bench);
  row({ figure: `scheduler ${label}, p99`, unit: 'ms', ours: b && b.p99_us / 1000, better: 'lower', goal: 20 });
}
const fan = find('BM_FanOutFanIn10k');
const spawn = find('BM_SpawnCeiling');
row({ figure: 'scheduler 10k-task fan-out: tasks started/s', unit: 'tasks/s', ours: fan?.tasks_per_s,
  peer: 'the same processes from 2 bare threads', peerValue: spawn?.tasks_per_s, better: 'higher', goalRatio: 0.9 });
row({ figure: 'scheduler fan-out: own CPU per task (not the task\'s)', unit: 'µs', ours: fan?.cpu_us_per_task,
  peer: 'bare threads', peerValue: spawn?.cpu_us_per_task, better: 'lower' });

// Log and HTTP ingest (bench/log/run.sh).
const log = part('log');
const append = log?.append;
row({ figure: 'log append, 1 KiB records × 100, fsync 50 ms', unit: 'MB/s', ours: median(append?.log_mb_s), oursRuns: append?.log_mb_s,
  peer: 'dd, same block size and fsync cadence', peerValue: median(append?.dd_mb_s), peerRuns: append?.dd_mb_s, better: 'higher', goalRatio: 0.8 });
const ingest = log?.ingest;
row({ figure: 'HTTP ingest, 100-event bodies', unit: 'events/s', ours: median(ingest?.millrace_events_s), oursRuns: ingest?.millrace_events_s,
  peer: 'Redis XADD, AOF everysec', peerValue: median(ingest?.redis_events_s), peerRuns: ingest?.redis_events_s, better: 'higher', goal: 400000, goalRatio: 1.0 });
row({ figure: 'HTTP ingest vs NATS JetStream', unit: 'events/s', ours: median(ingest?.millrace_events_s),
  peer: 'JetStream, stored', peerValue: median(ingest?.nats_stored_events_s), peerRuns: ingest?.nats_stored_events_s, better: 'higher', goalRatio: 1.0 });

// Kafka protocol (bench/kafka/produce.sh): librdkafka against the Kafka listener.
const kafka = part('kafka');
row({ figure: 'Kafka produce, 1 KiB records, acks=all, linger 5 ms', unit: 'records/s', ours: median(kafka?.millrace_records_s),
  oursRuns: kafka?.millrace_records_s, peer: 'NATS JetStream, file, acked', peerValue: median(kafka?.nats_records_s),
  peerRuns: kafka?.nats_records_s, better: 'higher', goalRatio: 1.0 });
row({ figure: 'Kafka produce vs NATS JetStream stored', unit: 'records/s', ours: median(kafka?.millrace_records_s),
  peer: 'JetStream, un-acked publishes until stored', peerValue: median(kafka?.nats_stored_records_s),
  peerRuns: kafka?.nats_stored_records_s, better: 'higher', goalRatio: 1.0 });
row({ figure: 'Kafka produce vs Redis', unit: 'records/s', ours: median(kafka?.millrace_records_s),
  peer: 'Redis XADD, AOF everysec', peerValue: median(kafka?.redis_records_s), peerRuns: kafka?.redis_records_s,
  better: 'higher', goalRatio: 1.0 });
for (const p of ['p50', 'p99']) {
  row({ figure: `Kafka producer → consumer at ${kafka?.rate ?? 10000}/s, ${p}`, unit: 'µs',
    ours: kafka?.millrace_latency?.latency_us?.[p], peer: 'NATS JetStream, acked, ordered consumer',
    peerValue: kafka?.nats_latency?.latency_us?.[p], better: 'lower', goalRatio: 1.0 });
}

// Online serving (bench/online/run.sh): latency at a fixed rate, each beside loadgen's send lag.
const online = part('online');
const lat = (list, p) => reports(list, (r) => r.latency_us[p]);
const lag = (list, p) => median(reports(list, (r) => r.send_lag_us[p]));
const lagNote = (list, p) => (list ? ` [send lag ${fmt(lag(list, p))} µs]` : '');
row({ figure: 'feature GET saturation (wrk -c64)', unit: 'req/s', ours: median(online?.millrace_rps), oursRuns: online?.millrace_rps,
  peer: 'nginx static file', peerValue: median(online?.nginx_rps), peerRuns: online?.nginx_rps, better: 'higher', goalRatio: 0.8 });
row({ figure: 'feature GET saturation, cold start (first run, caches empty)', unit: 'req/s', ours: online?.cold_rps ?? undefined,
  peer: 'nginx static file', peerValue: median(online?.nginx_rps), better: 'higher' });
row({ figure: 'feature GET saturation vs redis', unit: 'req/s', ours: median(online?.millrace_rps),
  peer: 'redis GET', peerValue: median(online?.redis_rps), peerRuns: online?.redis_rps, better: 'higher', goalRatio: 0.5 });
for (const p of ['p50', 'p99', 'p99_9']) {
  row({ figure: `feature GET at ${online?.rate ?? 20000}/s, ${p.replace('_', '.')}${lagNote(online?.get, p)}`, unit: 'µs',
    ours: median(lat(online?.get, p)), oursRuns: lat(online?.get, p),
    peer: `nginx, same loadgen${lagNote(online?.floor, p)}`, peerValue: median(lat(online?.floor, p)), peerRuns: lat(online?.floor, p),
    better: 'lower', goal: p === 'p99' ? 500 : undefined, goalRatio: p === 'p99' ? 1.5 : undefined });
}
for (const p of ['p50', 'p99']) {
  row({ figure: `feature batch of 100 keys at ${online?.batch_rate ?? 1000}/s, ${p}${lagNote(online?.batch, p)}`, unit: 'µs',
    ours: median(lat(online?.batch, p)), oursRuns: lat(online?.batch, p),
    peer: online?.batch_floor ? `nginx, a batch-sized static file, same loadgen and rate${lagNote(online.batch_floor, p)}` : undefined,
    peerValue: median(lat(online?.batch_floor, p)), peerRuns: lat(online?.batch_floor, p),
    better: 'lower', goal: p === 'p99' ? 2000 : undefined });
}
// The server's own share of those latencies: each run's route histogram (bucket bounds, so
// "≤"), from the route's start to the response handed to the connection.
const handler = (list, p) => reports(list, (r) => r.handler_us?.[p]).filter((v) => v !== null && v !== undefined);
for (const [name, list] of [['feature GET at ' + (online?.rate ?? 20000) + '/s', online?.get],
  ['feature batch of 100 keys at ' + (online?.batch_rate ?? 1000) + '/s', online?.batch]]) {
  const runs = handler(list, 'p99_le');
  row({ figure: `${name}, p99 within the server (route histogram bucket bound)`, unit: 'µs',
    ours: runs.length ? median(runs) : undefined, oursRuns: runs.length ? runs : undefined, better: 'lower' });
}
const inProcess = find('BM_Batch100');
row({ figure: 'feature batch of 100 keys in process (parse, lookups, JSON)', unit: 'µs',
  ours: inProcess && inProcess.real_time / (inProcess.time_unit === 'ns' ? 1000 : inProcess.time_unit === 'ms' ? 0.001 : 1), better: 'lower' });

// Operator state and recovery (bench/pipeline/state_recovery.sh). Flink's figures are cited, not
// measured here (their state is 20 GB over 50 tasks on S3), so they get no ratio.
const state = part('state');
const flinkCheckpoint = 'Flink 1.15, RocksDB incremental, 19.6 GB over 50 tasks on S3: p50 5 s (cited: flink.apache.org 2022-05-30 changelog post)';
const mb = (list) => (list ?? []).map((b) => b / 1e6);
row({ figure: `checkpoint of ${fmt(state?.keys)} keys of window state (1-hour tumble): duration`, unit: 'ms',
  ours: median(state?.tumble?.checkpoint_ms), oursRuns: state?.tumble?.checkpoint_ms, better: 'lower', peerText: flinkCheckpoint });
row({ figure: `checkpoint of ${fmt(state?.keys)} keys of window state: size`, unit: 'MB',
  ours: median(mb(state?.tumble?.checkpoint_bytes)), oursRuns: mb(state?.tumble?.checkpoint_bytes), better: 'lower' });
row({ figure: `1-hour hop (15-min slide) over ${fmt(state?.keys)} keys: state held (limit ${fmt(state?.hop?.limit_bytes / 1e6)} MB)`, unit: 'MB',
  ours: median(mb(state?.hop?.state_bytes)), oursRuns: mb(state?.hop?.state_bytes), better: 'lower', goal: state && state.hop.limit_bytes / 1e6 });
row({ figure: '1-hour hop over 1M keys: keys reported (key × open window)', unit: 'keys',
  ours: median(state?.hop?.state_keys), oursRuns: state?.hop?.state_keys, better: 'higher' });
row({ figure: '1-hour hop over 1M keys: checkpoint duration', unit: 'ms',
  ours: median(state?.hop?.checkpoint_ms), oursRuns: state?.hop?.checkpoint_ms, better: 'lower' });
row({ figure: `restart → caught up after kill -9 (backlog of ${fmt(median(state?.restart?.records))} records)`, unit: 's',
  ours: median(state?.restart?.caught_up_s), oursRuns: state?.restart?.caught_up_s, better: 'lower',
  peerText: 'Flink 1.15, same setup as above: recovery 20–21 s (cited)' });

// Freshness (bench/pipeline/freshness.sh): ingest response → feature visible on the serving
// route, beside the load generator's own send lag.
const fresh = part('freshness');
const freshRuns = (fresh?.runs ?? []).filter((r) => r.probe?.p99_ms !== null && r.probe?.p99_ms !== undefined);
const freshLag = median(freshRuns.map((r) => r.load?.send_lag_us?.p99));
// The goal is judged on the p99 corrected for coordinated omission (a stall delays every
// transaction in it, not one probe), when the run has it.
for (const p of ['p50', 'p99', 'corrected p99']) {
  const pick = (r) => (p === 'corrected p99' ? r.probe.corrected?.p99_ms : r.probe[`${p}_ms`]);
  const runs = freshRuns.filter((r) => pick(r) !== undefined && pick(r) !== null);
  const judged = p === 'corrected p99' || (p === 'p99' && !runs.some((r) => r.probe.corrected));
  if (!runs.length && p === 'corrected p99') continue;
  row({ figure: `freshness at ${fresh?.rate ?? 20000} events/s over HTTP ingest (checkpoint every ${fresh?.interval ?? '?'}): ingest response → feature served, ${p}${freshLag !== undefined ? ` [loadgen send lag p99 ${fmt(freshLag / 1000)} ms]` : ''}`,
    unit: 'ms', ours: median(runs.map(pick)), oursRuns: runs.map(pick),
    better: 'lower', goal: judged ? 50 : undefined });
}

// Window freshness (bench/pipeline/window_freshness.sh): a tumbling window's result visible in
// the online store and in a topic after the watermark passed the window's end.
const windowFresh = part('window_freshness');
const windowRuns = (windowFresh?.runs ?? []).filter((r) => r.online?.p99_ms !== null && r.online?.p99_ms !== undefined);
for (const [sink, label] of [['online', 'online store'], ['topic', 'topic (appended at the commit)']]) {
  for (const p of ['p50', 'p99']) {
    row({ figure: `window result → ${label} after the watermark passed the window end (commit every ${windowFresh?.interval ?? '?'}), ${p}`,
      unit: 'ms', ours: median(windowRuns.map((r) => r[sink][`${p}_ms`])), oursRuns: windowRuns.map((r) => r[sink][`${p}_ms`]),
      better: 'lower', goal: p === 'p99' ? 100 : undefined });
  }
}

// Nexmark (bench/nexmark/run.sh): thousand events/s per core (CPU time) beside Flink's published
// per-core figure (nexmark/nexmark README, 8 × 16-core nodes; not measured here).
const nexmark = part('nexmark');
const flinkPerCore = { q0: 155, q1: 158, q2: 175, q3: 152, q4: 34, q5: 22, q7: 12, q8: 146 };
for (const [q, flink] of Object.entries(flinkPerCore)) {
  const r = nexmark?.queries?.[q];
  const runs = r?.p1?.k_events_s_core_cpu;
  row({ figure: `Nexmark ${q}, P=1${r?.error ? ' (not run: the runtime refuses it)' : ''}`, unit: 'k events/s/core',
    ours: median(runs), oursRuns: runs, peer: 'Flink, published', peerValue: flink, better: 'higher',
    goal: ['q0', 'q1', 'q2'].includes(q) ? 1000 : 200 });
}
for (const [q, r] of Object.entries(nexmark?.queries ?? {})) {
  if (!r.p1) continue;
  row({ figure: `Nexmark ${q}, p99 end-to-end latency`, unit: 'ms', ours: median(r.p1.p99_ms), oursRuns: r.p1.p99_ms, better: 'lower' });
  // The goal is on throughput (events/s at P=1): a checkpoint's files are written by a thread
  // of their own, so its cost in CPU time (all threads) is shown beside it without a goal.
  const with1s = r.checkpoint_1s?.k_events_s;
  row({ figure: `Nexmark ${q}, throughput with a checkpoint every 1s vs none (P=1)`, unit: 'k events/s', ours: median(with1s), oursRuns: with1s,
    peer: 'same, no checkpoints', peerValue: median(r.p1.k_events_s), better: 'higher', goalRatio: 0.9 });
  const cpu1s = r.checkpoint_1s?.k_events_s_core_cpu;
  row({ figure: `Nexmark ${q}, events per CPU-second with a checkpoint every 1s vs none`, unit: 'k events/s/core', ours: median(cpu1s), oursRuns: cpu1s,
    peer: 'same, no checkpoints', peerValue: median(r.p1.k_events_s_core_cpu), better: 'higher' });
  const p2 = r.p2?.k_events_s_core_wall;
  row({ figure: `Nexmark ${q}, P=2 (events/s ÷ 2)`, unit: 'k events/s/core', ours: median(p2), oursRuns: p2, better: 'higher' });
}

const header = ['figure', 'Millrace (runs: min–max)', 'peer, same run', 'ratio', 'goal', 'verdict'];
const iso = (date) => date.toISOString().replace(/\.\d+Z$/, 'Z');
const times = Object.values(written).sort((a, b) => a - b);
const conditions = [
  times.length ? `Results written ${iso(times[0])} – ${iso(times[times.length - 1])};` : 'No results;',
  `table written ${iso(new Date())} by \`bench/summarize.mjs\` from \`${dir.replace(process.cwd() + '/', '')}\`;`,
  `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, load average now ${loadavg().map((l) => l.toFixed(2)).join(' ')}.`,
  log ? `Log part: load ${log.load_before} → ${log.load_after}.` : '',
  kafka ? `Kafka part: load ${kafka.load_before} → ${kafka.load_after}.` : '',
  online ? `Online part: load ${online.load_before} → ${online.load_after}, ${online.pinning}${online.skipped ? `, skipped: ${online.skipped}` : ''}.` : '',
  retail ? `Retail part: load ${retail.load_before} → ${retail.load_after}.` : '',
  state ? `State part: load ${state.load_before} → ${state.load_after}.` : '',
  fresh ? `Freshness part: load ${fresh.load_before} → ${fresh.load_after}.` : '',
  windowFresh ? `Window freshness part: load ${windowFresh.load_before} → ${windowFresh.load_after}.` : '',
  lake ? `Lake part: load ${lake.load_before} → ${lake.load_after}.` : '',
  nexmark ? `Nexmark part: ${nexmark.events} events per run.` : '',
  'Ratios are ours / peer; values are medians of the runs shown as min–max; "not run": that part left no results.',
].filter(Boolean).join(' ');
const table = [
  `| ${header.join(' | ')} |`,
  `| ${header.map(() => '---').join(' | ')} |`,
  ...rows.map((r) => `| ${r.join(' | ')} |`),
].join('\n');

console.log('\n== summary\n' + conditions + '\n\n' + table);
if (markdown) {
  const text = readFileSync(markdown, 'utf8');
  const block = `${BEGIN}\n${conditions}\n\n${table}\n${END}`;
  const start = text.indexOf(BEGIN.slice(0, 25));
  const end = text.indexOf(END);
  const updated = start >= 0 && end > start
    ? text.slice(0, start) + block + text.slice(end + END.length)
    : text.replace(/\n*$/, '\n\n## Summary of the last `make bench`\n\n' + block + '\n');
  writeFileSync(markdown, updated);
  console.log(`\nwritten into ${markdown}`);
}
