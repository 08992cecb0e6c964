// Reads a Parquet file with hyparquet (a pure-JavaScript reader no one here wrote) and prints
// its rows as JSON lines, or with --meta its schema and column-chunk statistics.
// Usage: node hyparquet_read.mjs <file.parquet> [--meta]
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';

const file = await asyncBufferFromFile(process.argv[2]);
const plain = (key, value) => {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  return value;
};
if (process.argv[3] === '--meta') {
  const meta = await parquetMetadataAsync(file);
  const columns = meta.schema.slice(1).map((e) => ({
    name: e.name, type: e.type, repetition: e.repetition_type,
    converted: e.converted_type ?? null, logical: e.logical_type?.type ?? null,
  }));
  const stats = meta.row_groups.map((g) => g.columns.map((c) => ({
    column: c.meta_data.path_in_schema.join('.'),
    nulls: c.meta_data.statistics?.null_count,
    min: c.meta_data.statistics?.min_value,
    max: c.meta_data.statistics?.max_value,
  })));
  console.log(JSON.stringify({ rows: meta.num_rows, columns, stats }, plain));
} else {
  // utf8: false keeps BYTE_ARRAY columns without a STRING annotation as bytes (printed as hex).
  const rows = await parquetReadObjects({ file, utf8: false });
  for (const row of rows) console.log(JSON.stringify(row, plain));
}
