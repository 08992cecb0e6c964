// The SQL correctness oracle: runs every query of a queries file through `millrace run` and
// through DuckDB over the same generated CSV files, and compares the results.
//
// Usage: node sql_oracle.mjs --millrace <bin> --queries <queries.sql> --work <dir>
//                            [--self-test] [--only <name>[,<name>...]] [--keep-going]
//
// --self-test: checks the harness itself. Instead of `millrace run <project> <pipeline>` the
// harness runs `node sql_oracle.mjs --fake-run <project> <pipeline>`, a stand-in engine that
// reads the same generated project (sources, schemas, views, sink) and executes it with DuckDB,
// writing the sink's CSV. The rest (project generation, reading the output back with DuckDB's
// result types, comparison, report) is the path the real engine takes.
// ORACLE_FAKE_BUG=<query name> makes the stand-in drop the last row of that query's result, to
// see a failure report.
//
// Queries file format (tests/sql/oracle/README.md):
//   -- name: q01_filter_basic        starts a query
//   -- approx: col=hll, col2=ddsketch  columns compared within the sketch's documented error
//   -- expect: error                 `millrace run` must fail (DuckDB is not asked)
//   -- view: name                    the next statement (ending with `;`) defines a view
//   SELECT ...;                      the last statement is the result
import { DuckDBInstance } from '@duckdb/node-api';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

// ---------------------------------------------------------------- arguments

const args = { selfTest: false, only: null };
for (let i = 2; i < process.argv.length; ++i) {
  const a = process.argv[i];
  if (a === '--millrace') args.millrace = process.argv[++i];
  else if (a === '--queries') args.queries = process.argv[++i];
  else if (a === '--work') args.work = process.argv[++i];
  else if (a === '--self-test') args.selfTest = true;
  else if (a === '--fake-run') args.fakeRun = [process.argv[++i], process.argv[++i]];
  else if (a === '--only') args.only = new Set(process.argv[++i].split(',').filter(Boolean));
  else {
    console.error(`sql_oracle: unknown argument ${a}`);
    process.exit(2);
  }
}
if (!args.fakeRun && (!args.millrace || !args.queries || !args.work)) {
  console.error('usage: sql_oracle.mjs --millrace BIN --queries FILE --work DIR [--self-test] [--only NAMES]');
  process.exit(2);
}
const work = args.fakeRun ? null : path.resolve(args.work);
const dataDir = args.fakeRun ? null : path.join(work, 'data');

// ---------------------------------------------------------------- tolerances

// HyperLogLog at precision 14: relative standard error 1.04 / sqrt(2^14) = 0.81%; we allow 5
// standard errors (src/sketch/hyper_log_log.h). DDSketch: relative accuracy 1% against the
// exact percentile_disc (src/sketch/dd_sketch.h).
const kApproxTolerance = { hll: 5 * 1.04 / Math.sqrt(1 << 14), ddsketch: 0.01 };
const kDoubleTolerance = 1e-9;

// ---------------------------------------------------------------- data

// Deterministic PRNG (xorshift32 seeded per table) so every run sees the same files.
function rng(seed) {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (list) => list[Math.floor(next() * list.length)],
    chance: (p) => next() < p,
  };
}

function csvField(value) {
  if (value === null || value === undefined) return '';
  const text = String(value);
  if (text === '' || /[",\r\n]/.test(text) || /^[ \t]|[ \t]$/.test(text)) {
    return '"' + text.replaceAll('"', '""') + '"';
  }
  return text;
}

function writeCsv(file, columns, rows) {
  const lines = [columns.join(',')];
  for (const row of rows) lines.push(columns.map((c) => csvField(row[c])).join(','));
  fs.writeFileSync(file, lines.join('\n') + '\n');
}

const pad = (n, w) => String(n).padStart(w, '0');
function formatTimestamp(ms, withFraction) {
  const d = new Date(ms);
  const base = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)} ` +
    `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
  return withFraction ? `${base}.${pad(d.getUTCMilliseconds(), 3)}` : base;
}
const formatDate = (ms) => formatTimestamp(ms, false).slice(0, 10);

// Millrace schema type -> DuckDB type.
const kDuckType = {
  int32: 'INTEGER', int64: 'BIGINT', double: 'DOUBLE', string: 'VARCHAR',
  timestamp: 'TIMESTAMP', date: 'DATE', bool: 'BOOLEAN',
};

// Each table: Millrace schema (name -> 'type' or 'type not null') and its file path (or glob).
const tables = {};

function generateOrdersAndRestaurants() {
  const r = rng(20261101);
  const cuisines = ['thai', 'italian', 'indian', 'mexican', 'japanese', 'burgers', null];
  const cities = ['Berlin', 'Paris', 'São Paulo', 'Zürich', 'Lagos', 'new york', null];
  const restaurants = [];
  for (let i = 1; i <= 60; ++i) {
    const id = `r-${pad(i, 3)}`;
    restaurants.push({
      restaurant_id: id,
      name: i % 17 === 0 ? `Chez "${i}", bistro` : i % 13 === 0 ? '' : i % 11 === 0 ? null : `Place ${i}`,
      cuisine: r.pick(cuisines),
      city: r.pick(cities),
      rating: r.chance(0.1) ? null : Math.round(r.next() * 40 + 10) / 10,
      opened: r.chance(0.1) ? null : formatDate(Date.UTC(2015, 0, 1) + r.int(0, 3650) * 86400000),
      seats: r.chance(0.1) ? null : r.int(8, 200),
    });
  }
  // A duplicated key: joins must return both matches.
  restaurants.push({ ...restaurants[6], name: 'Place 7 (second branch)', seats: 12 });
  tables.restaurants = {
    file: path.join(dataDir, 'restaurants.csv'),
    schema: {
      restaurant_id: 'string not null', name: 'string', cuisine: 'string', city: 'string',
      rating: 'double', opened: 'date', seats: 'int32',
    },
  };
  writeCsv(tables.restaurants.file, Object.keys(tables.restaurants.schema), restaurants);

  const statuses = ['created', 'accepted', 'delivered', 'delivered', 'delivered', 'cancelled', null];
  const customers = Array.from({ length: 400 }, (_, i) => (i % 50 === 0 ? `  Cust ${i}` : `cust-${pad(i, 4)}`));
  const orders = [];
  const start = Date.UTC(2026, 10, 1, 0, 0, 0);
  for (let i = 1; i <= 3000; ++i) {
    const placed = start + Math.floor(r.next() * 3 * 86400) * 1000 + (r.chance(0.2) ? r.int(1, 999) : 0);
    const amount = r.chance(0.05) ? null : r.int(0, 20000) / 100;
    orders.push({
      order_id: i,
      customer: r.chance(0.03) ? null : r.pick(customers),
      // r-061..r-075 do not exist in restaurants: LEFT JOIN rows without a match.
      restaurant_id: r.chance(0.04) ? null : `r-${pad(r.int(1, 75), 3)}`,
      placed_at: r.chance(0.03) ? null : formatTimestamp(placed, placed % 1000 !== 0),
      status: r.pick(statuses),
      amount,
      items: r.chance(0.05) ? null : r.int(1, 9),
      tip: r.chance(0.3) ? null : r.int(0, 1500) / 100,
      is_priority: r.chance(0.1) ? null : r.chance(0.25),
      delivery_date: r.chance(0.1) ? null : formatDate(placed + r.int(0, 2) * 86400000),
      city: r.pick(cities),
      note: r.chance(0.7) ? null : r.pick(['leave at door', 'RING TWICE', ' spicy ', '', 'no_onions', '50% off', 'a,b']),
    });
  }
  tables.orders = {
    file: path.join(dataDir, 'orders.csv'),
    schema: {
      order_id: 'int64 not null', customer: 'string', restaurant_id: 'string',
      placed_at: 'timestamp', status: 'string', amount: 'double', items: 'int32', tip: 'double',
      is_priority: 'bool', delivery_date: 'date', city: 'string', note: 'string',
    },
  };
  writeCsv(tables.orders.file, Object.keys(tables.orders.schema), orders);
}

function runMillrace(argv, options = {}) {
  return spawnSync(args.millrace, argv, { encoding: 'utf8', timeout: 120_000, ...options });
}

function runPipeline(project, name) {
  if (args.selfTest) {
    return spawnSync(process.execPath, [new URL(import.meta.url).pathname, '--fake-run', project.dir, name],
      { encoding: 'utf8', timeout: 120_000, cwd: project.dir });
  }
  return runMillrace(['run', project.dir, name], { cwd: project.dir });
}

function generateWithMillrace() {
  // Retail POS files (the retail batch scenario), one per day: a glob source.
  const salesDir = path.join(dataDir, 'sales');
  const sales = runMillrace(['generate', 'sales', '--days', '3', '--stores', '8',
    '--rows-per-day', '4000', '--seed', '11', '--output-dir', salesDir]);
  if (sales.status !== 0) throw new Error(`millrace generate sales failed: ${sales.stderr}`);
  tables.sales = {
    file: path.join(salesDir, 'sales_*.csv'),
    schema: {
      sale_id: 'int64 not null', store_id: 'int32', sold_at: 'timestamp not null',
      product_id: 'string not null', category: 'string not null', quantity: 'int32 not null',
      unit_price: 'double not null', amount: 'double', payment_type: 'string not null',
    },
  };
  // Food-delivery events from the order generator: timestamps with microseconds.
  const eventsFile = path.join(dataDir, 'events.csv');
  const events = runMillrace(['generate', 'orders', '--rows', '5000', '--format', 'csv',
    '--seed', '5', '-o', eventsFile]);
  if (events.status !== 0) throw new Error(`millrace generate orders failed: ${events.stderr}`);
  tables.events = {
    file: eventsFile,
    schema: {
      order_id: 'string not null', user_id: 'string', restaurant_id: 'string',
      timestamp: 'timestamp not null', status: 'string', amount: 'double not null',
      items: 'int32', city: 'string',
    },
  };
}

const baseType = (spec) => spec.split(/\s+/)[0];
function duckColumns(schema) {
  return '{' + Object.entries(schema).map(([n, t]) => `'${n}': '${kDuckType[baseType(t)]}'`).join(', ') + '}';
}
const kReadOptions = "header=true, auto_detect=false, allow_quoted_nulls=false, delim=',', quote='\"', escape='\"'";

// ---------------------------------------------------------------- queries file

function parseQueries(text) {
  const queries = [];
  let current = null;
  let statement = [];
  let pendingView = null;
  const finish = () => {
    if (!current) return;
    if (statement.join('').trim() !== '') {
      current.parseError = 'the last statement does not end with `;`';
    }
    if (!current.result) current.parseError = current.parseError || 'no result query';
    queries.push(current);
  };
  for (const line of text.split('\n')) {
    const directive = line.match(/^--\s*(name|view|approx|expect):\s*(.*?)\s*$/);
    if (directive) {
      const [, key, value] = directive;
      if (key === 'name') {
        finish();
        current = { name: value, views: [], result: null, approx: {}, expectError: false };
        statement = [];
        pendingView = null;
      } else if (!current) {
        throw new Error(`queries file: \`-- ${key}:\` before the first \`-- name:\``);
      } else if (key === 'view') {
        pendingView = value;
      } else if (key === 'approx') {
        for (const part of value.split(',')) {
          const [column, kind] = part.split('=').map((s) => s.trim());
          if (!(kind in kApproxTolerance)) throw new Error(`${current.name}: unknown approx kind ${kind}`);
          current.approx[column] = kind;
        }
      } else if (key === 'expect') {
        current.expectError = value === 'error';
      }
      continue;
    }
    if (!current) continue;  // header comments
    if (/^\s*--/.test(line) && statement.join('').trim() === '') continue;  // a comment line
    statement.push(line);
    if (/;\s*$/.test(line)) {
      const sql = statement.join('\n').trim().replace(/;\s*$/, '');
      statement = [];
      if (pendingView) {
        current.views.push({ name: pendingView, sql });
        pendingView = null;
      } else if (current.result) {
        current.parseError = 'more than one result statement';
      } else {
        current.result = sql;
      }
    }
  }
  finish();
  return queries;
}

// ---------------------------------------------------------------- DuckDB side

// PostgreSQL semantics the engine follows, where DuckDB's defaults differ (README.md).
const kDuckSettings = [
  "SET default_null_order = 'nulls_last_on_asc_first_on_desc'",  // PG: NULLS FIRST for DESC
  'SET integer_division = true',  // PG: int / int is int, truncated toward zero
  "SET TimeZone = 'UTC'",
];

// Our approximate aggregates, written with DuckDB's exact ones (compared within tolerance).
function toDuckSql(sql) {
  return sql
    .replace(/\bapprox_count_distinct\s*\(/gi, 'count(DISTINCT ')
    .replace(/\bapprox_percentile\s*\(/gi, 'quantile_disc(');
}

// Tables a query reads (so a pipeline declares only those sources).
function tablesUsed(query) {
  const text = [...query.views.map((v) => v.sql), query.result].join('\n');
  return Object.keys(tables).filter((t) => new RegExp(`\\b${t}\\b`, 'i').test(text));
}

const kNumericType = /^(DOUBLE|FLOAT|REAL|DECIMAL)/;

async function runDuck(connection, query) {
  const created = [];
  try {
    for (const view of query.views) {
      await connection.run(`CREATE OR REPLACE TEMP VIEW "${view.name}" AS ${toDuckSql(view.sql)}`);
      created.push(view.name);
    }
    const reader = await connection.runAndReadAll(toDuckSql(query.result));
    return {
      names: reader.columnNames(),
      types: reader.columnTypes().map((t) => t.toString()),
      rows: reader.getRowsJson(),
    };
  } finally {
    for (const name of created.reverse()) await connection.run(`DROP VIEW IF EXISTS "${name}"`);
  }
}

async function readResultCsv(connection, file, types) {
  const columns = '{' + types.map((t, i) => `'c${i}': '${t}'`).join(', ') + '}';
  const reader = await connection.runAndReadAll(
    `SELECT * FROM read_csv('${file.replaceAll("'", "''")}', ${kReadOptions}, columns=${columns})`);
  return reader.getRowsJson();
}

// ---------------------------------------------------------------- Millrace side

function yamlQuote(text) {
  return "'" + text.replaceAll("'", "''") + "'";
}

function writeProject(query) {
  const dir = path.join(work, 'projects', query.name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'pipelines'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'out'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'millrace.yaml'), 'name: oracle\ninclude: [pipelines/*.yaml]\n');
  const lines = [`name: ${query.name}`, 'mode: batch', 'sources:'];
  for (const table of tablesUsed(query)) {
    const { file, schema } = tables[table];
    lines.push(`  ${table}:`);
    lines.push(`    file: { path: ${yamlQuote(file)}, format: csv }`);
    lines.push(`    schema: { ${Object.entries(schema).map(([n, t]) => `${n}: ${t}`).join(', ')} }`);
  }
  lines.push('views:');
  for (const view of [...query.views, { name: 'result', sql: query.result }]) {
    lines.push(`  ${view.name}: |`);
    for (const l of view.sql.split('\n')) lines.push(`    ${l}`);
  }
  lines.push('sinks:');
  lines.push(`  - { from: result, file: { path: out/${query.name}.csv, format: csv } }`);
  fs.writeFileSync(path.join(dir, 'pipelines', `${query.name}.yaml`), lines.join('\n') + '\n');
  return { dir, out: path.join(dir, 'out', `${query.name}.csv`) };
}

// ---------------------------------------------------------------- comparison

// ORDER BY at the top level of the result query (not inside parentheses): compare in order.
function isOrdered(sql) {
  let depth = 0;
  let flat = '';
  for (const ch of sql.replace(/'(?:[^']|'')*'/g, "''")) {
    if (ch === '(') ++depth;
    else if (ch === ')') --depth;
    else if (depth === 0) flat += ch;
  }
  return /\border\s+by\b/i.test(flat);
}

function toNumber(v) {
  if (v === null) return null;
  if (typeof v === 'number') return v;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  if (v === 'NaN') return NaN;
  return Number(v);
}

function valuesEqual(expected, actual, kind) {
  if (expected === null || actual === null) return expected === actual;
  if (kind === 'exact') return JSON.stringify(expected) === JSON.stringify(actual);
  const e = toNumber(expected);
  const a = toNumber(actual);
  if (Number.isNaN(e) || Number.isNaN(a)) return Number.isNaN(e) && Number.isNaN(a);
  if (!Number.isFinite(e) || !Number.isFinite(a)) return e === a;
  if (kind === 'double') {
    // Relative, with an absolute floor for sums that cancel out near zero.
    return Math.abs(e - a) <= kDoubleTolerance * Math.max(Math.abs(e), Math.abs(a)) + 1e-12;
  }
  // A sketch's error is relative to the exact answer (DuckDB's); the small extra term absorbs
  // the rounding of the printed value (and, for counts, of the estimate to an integer).
  const slack = kind === 'hll' ? 0.5 : 1e-9 * Math.abs(e);
  return Math.abs(e - a) <= kApproxTolerance[kind] * Math.abs(e) + slack;
}

function columnKinds(result, query) {
  return result.names.map((name, i) => {
    if (name in query.approx) return query.approx[name];
    return kNumericType.test(result.types[i]) ? 'double' : 'exact';
  });
}

// Row order for multiset comparison: exact columns as text first, then the tolerant ones by
// value, so rows that are equal within tolerance line up.
function rowComparator(kinds) {
  const exact = kinds.map((k, i) => (k === 'exact' ? i : -1)).filter((i) => i >= 0);
  const loose = kinds.map((k, i) => (k !== 'exact' ? i : -1)).filter((i) => i >= 0);
  return (x, y) => {
    for (const i of exact) {
      const a = JSON.stringify(x[i]);
      const b = JSON.stringify(y[i]);
      if (a !== b) return a < b ? -1 : 1;
    }
    for (const i of loose) {
      const a = toNumber(x[i]);
      const b = toNumber(y[i]);
      if (a === b || (Number.isNaN(a) && Number.isNaN(b))) continue;
      if (a === null) return 1;
      if (b === null) return -1;
      return a < b ? -1 : 1;
    }
    return 0;
  };
}

const rowsEqual = (x, y, kinds) =>
  x.length === y.length && x.every((v, c) => valuesEqual(v, y[c], kinds[c]));
const showRows = (rows) => rows.slice(0, 5).map((r) => '      ' + JSON.stringify(r)).join('\n') +
  (rows.length > 5 ? `\n      ... ${rows.length - 5} more` : '') || '      (none)';

function compare(expected, actual, kinds, ordered) {
  if (ordered) {
    const n = Math.max(expected.length, actual.length);
    for (let i = 0; i < n; ++i) {
      if (!expected[i] || !actual[i] || !rowsEqual(expected[i], actual[i], kinds)) {
        return `in order: ${expected.length} expected rows, ${actual.length} actual; first difference at row ${i + 1}\n` +
          `    expected (DuckDB) from there:\n${showRows(expected.slice(i))}\n` +
          `    actual (Millrace) from there:\n${showRows(actual.slice(i))}`;
      }
    }
    return null;
  }
  // Multisets: walk both sorted lists; rows without a partner are the difference.
  const order = rowComparator(kinds);
  const e = expected.slice().sort(order);
  const a = actual.slice().sort(order);
  const missing = [];
  const extra = [];
  let i = 0;
  let j = 0;
  while (i < e.length || j < a.length) {
    if (i < e.length && j < a.length && rowsEqual(e[i], a[j], kinds)) {
      ++i;
      ++j;
    } else if (j >= a.length || (i < e.length && order(e[i], a[j]) <= 0)) {
      missing.push(e[i++]);
    } else {
      extra.push(a[j++]);
    }
  }
  if (missing.length === 0 && extra.length === 0) return null;
  return `as multisets: ${expected.length} expected rows, ${actual.length} actual\n` +
    `    only in DuckDB's result (${missing.length}):\n${showRows(missing)}\n` +
    `    only in Millrace's result (${extra.length}):\n${showRows(extra)}`;
}

// ---------------------------------------------------------------- stand-in engine (self-test)

// Executes a project written by writeProject() with DuckDB: only that exact YAML shape is read.
async function fakeRun(projectDir, pipeline) {
  const yaml = fs.readFileSync(path.join(projectDir, 'pipelines', `${pipeline}.yaml`), 'utf8');
  const lines = yaml.split('\n');
  const sources = [];
  const views = [];
  let sink = null;
  let section = null;
  for (let i = 0; i < lines.length; ++i) {
    const line = lines[i];
    if (/^\S/.test(line)) section = line.replace(/:.*$/, '');
    let m;
    if (section === 'sources' && (m = line.match(/^ {2}(\w+):$/))) {
      const file = lines[i + 1].match(/path: '((?:[^']|'')*)'/)[1].replaceAll("''", "'");
      const schema = Object.fromEntries(lines[i + 2].replace(/^\s*schema: \{ | \}$/g, '').split(', ')
        .map((c) => c.split(': ')));
      sources.push({ name: m[1], file, schema });
    } else if (section === 'views' && (m = line.match(/^ {2}(\w+): \|$/))) {
      views.push({ name: m[1], sql: '' });
    } else if (section === 'views' && line.startsWith('    ')) {
      views[views.length - 1].sql += line.slice(4) + '\n';
    } else if (section === 'sinks' && (m = line.match(/from: (\w+), file: \{ path: ([^,]+), format: csv/))) {
      sink = { from: m[1], path: path.resolve(projectDir, m[2]) };
    }
  }
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  for (const setting of kDuckSettings) await connection.run(setting);
  try {
    for (const { name, file, schema } of sources) {
      await connection.run(`CREATE TABLE ${name} AS SELECT * FROM read_csv('${file}', ${kReadOptions}, columns=${duckColumns(schema)})`);
    }
    for (const { name, sql } of views) {
      await connection.run(`CREATE VIEW "${name}" AS ${toDuckSql(sql)}`);
    }
    let select = `SELECT * FROM "${sink.from}"`;
    if (process.env.ORACLE_FAKE_BUG === pipeline) {
      select = `SELECT * FROM "${sink.from}" LIMIT (SELECT count(*) - 1 FROM "${sink.from}")`;
    }
    // ORDER BY survives a view in DuckDB, so an ordered result keeps its order.
    await connection.run(`COPY (${select}) TO '${sink.path}' (HEADER, DELIMITER ',')`);
  } catch (error) {
    console.error(`fake run: ${error.message.split('\n')[0]}`);
    process.exit(1);
  }
}

// ---------------------------------------------------------------- main

if (args.fakeRun) {
  await fakeRun(...args.fakeRun);
  process.exit(0);
}
fs.mkdirSync(dataDir, { recursive: true });

const queries = parseQueries(fs.readFileSync(args.queries, 'utf8'));
const names = new Set();
for (const q of queries) {
  if (names.has(q.name)) q.parseError = 'duplicate name';
  names.add(q.name);
}
if (args.only) {
  for (const name of args.only) {
    if (!names.has(name)) {
      console.error(`sql_oracle: no query named ${name}`);
      process.exit(2);
    }
  }
}

generateOrdersAndRestaurants();
generateWithMillrace();

const instance = await DuckDBInstance.create(':memory:');
const connection = await instance.connect();
for (const setting of kDuckSettings) await connection.run(setting);
for (const [name, { file, schema }] of Object.entries(tables)) {
  await connection.run(`CREATE TABLE ${name} AS SELECT * FROM read_csv('${file}', ${kReadOptions}, columns=${duckColumns(schema)})`);
}

const results = [];
for (const query of queries) {
  if (args.only && !args.only.has(query.name)) continue;
  const started = Date.now();
  const record = (status, rows, detail) => results.push({ name: query.name, status, rows, detail, ms: Date.now() - started });
  if (query.parseError) {
    record('FAIL', '', `queries file: ${query.parseError}`);
    continue;
  }
  const project = writeProject(query);
  if (query.expectError) {
    const run = runPipeline(project, query.name);
    if (run.status !== 0 && run.status !== null) record('pass', '-', 'failed as expected');
    else record('FAIL', '-', `expected an error, exit ${run.status}\n${run.stderr}`);
    continue;
  }
  let expected;
  try {
    expected = await runDuck(connection, query);
  } catch (error) {
    record('FAIL', '', `DuckDB rejected the query (fix the query or mark it): ${error.message.split('\n')[0]}`);
    continue;
  }
  if (new Set(expected.names).size !== expected.names.length) {
    record('FAIL', '', `result column names must be unique: ${expected.names.join(', ')}`);
    continue;
  }
  const run = runPipeline(project, query.name);
  if (run.status !== 0) {
    const why = run.error ? run.error.message : (run.stderr || run.stdout).trim().split('\n').slice(-5).join('\n    ');
    record('FAIL', '', `millrace run exited ${run.status}:\n    ${why}`);
    continue;
  }
  if (!fs.existsSync(project.out)) {
    record('FAIL', '', `millrace run wrote no ${path.relative(work, project.out)}`);
    continue;
  }
  let actual;
  try {
    actual = await readResultCsv(connection, project.out, expected.types);
  } catch (error) {
    record('FAIL', '', `reading Millrace's CSV as ${expected.types.join(', ')}: ${error.message.split('\n')[0]}`);
    continue;
  }
  const diff = compare(expected.rows, actual, columnKinds(expected, query), isOrdered(query.result));
  record(diff ? 'FAIL' : 'pass', String(expected.rows.length), diff || '');
}

// ---------------------------------------------------------------- report

const width = Math.max(5, ...results.map((r) => r.name.length));
console.log(`${'query'.padEnd(width)}  result  rows    ms`);
for (const r of results) {
  console.log(`${r.name.padEnd(width)}  ${r.status.padEnd(6)}  ${String(r.rows).padStart(4)}  ${String(r.ms).padStart(4)}`);
  if (r.status !== 'pass' && r.detail) console.log('    ' + r.detail);
}
const failed = results.filter((r) => r.status !== 'pass').length;
console.log(`${results.length - failed} passed, ${failed} failed${args.selfTest ? ' (self-test: DuckDB against DuckDB)' : ''}`);
process.exit(failed === 0 ? 0 : 1);
