// Reads a Millrace lake table that lives in an S3-compatible store with icebird (an Iceberg
// reader no one here wrote) and prints its rows as NDJSON, or with --files the data files its
// manifests list. The table's paths are s3://bucket/key URLs, which icebird turns into AWS's
// https://<bucket>.s3.amazonaws.com/<key>; fetch is wrapped to send those as path-style HTTP
// requests to the store's endpoint instead (s3rver serves unsigned reads).
// Usage: node icebird_s3_read.mjs <endpoint> <s3 table URL> <metadata file name> [--files]
import { icebergMetadata, icebergManifests, icebergRead } from 'icebird';

const args = process.argv.slice(2);
const files = args.includes('--files');
const [endpoint, tableUrl, metadataFileName] = args.filter((a) => !a.startsWith('--'));
const httpFetch = globalThis.fetch;
const local = (url) =>
  String(url)
    .replace(/^https:\/\/([^./]+)\.s3\.amazonaws\.com\//, `${endpoint}/$1/`)
    .replace(/^s3a?:\/\//, `${endpoint}/`);
globalThis.fetch = (url, init) => httpFetch(local(url), init);

const metadata = await icebergMetadata({ tableUrl, metadataFileName });
if (files) {
  for (const manifest of await icebergManifests(metadata)) {
    for (const entry of manifest.entries) {
      if (entry.status !== 2 && Number(entry.data_file.content ?? 0) === 0) {
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
