// Reads a Millrace lake table with icebird (an Iceberg reader no one here wrote) and prints its
// rows as NDJSON (with the row-level deletes applied), or with --files the data files its
// manifests list, one per line, or with --entries every live manifest entry (data and delete
// files) as NDJSON {path, content, seq}: content 0 data, 1 position deletes, 2 equality deletes;
// seq the data sequence number.
// Usage: node icebird_read.mjs <table-dir> [<metadata file name, e.g. v3.metadata.json>]
//        [--files | --entries]
// icebird fetches every path verbatim; the table's paths are absolute local paths, so fetch is
// replaced by one that reads local files (with HTTP Range semantics).
import { readFileSync, statSync } from 'node:fs';
import { icebergMetadata, icebergManifests, icebergRead } from 'icebird';

globalThis.fetch = async (url, init = {}) => {
  const path = String(url).replace(/^file:\/\//, '');
  let bytes;
  try {
    bytes = readFileSync(path);
  } catch {
    return new Response('not found', { status: 404, statusText: 'Not Found' });
  }
  const size = statSync(path).size;
  if (init.method === 'HEAD') {
    return new Response(null, { status: 200, headers: { 'Content-Length': String(size) } });
  }
  const range = new Headers(init.headers).get('Range');
  if (range) {
    const match = range.match(/bytes=(\d+)-(\d*)/);
    const start = Number(match[1]);
    const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
    return new Response(bytes.subarray(start, end + 1), {
      status: 206,
      headers: { 'Content-Range': `bytes ${start}-${end}/${size}`, 'Content-Length': String(end - start + 1) },
    });
  }
  return new Response(bytes, { status: 200, headers: { 'Content-Length': String(size) } });
};

const args = process.argv.slice(2);
const files = args.includes('--files');
const entries = args.includes('--entries');
const [tableUrl, metadataFileName] = args.filter((a) => !a.startsWith('--'));
const metadata = await icebergMetadata({ tableUrl, metadataFileName });
if (files || entries) {
  for (const manifest of await icebergManifests(metadata)) {
    for (const entry of manifest.entries) {
      if (entry.status === 2) continue;
      const content = Number(entry.data_file.content ?? 0);
      if (entries) {
        const seq = String(entry.sequence_number);
        console.log(JSON.stringify({ path: entry.data_file.file_path, content, seq }));
      } else if (content === 0) {
        console.log(entry.data_file.file_path);
      }
    }
  }
} else {
  const rows = await icebergRead({ tableUrl, metadata });
  for (const row of rows) {
    console.log(JSON.stringify(row, (_, v) => (typeof v === 'bigint' ? v.toString() : v)));
  }
}
