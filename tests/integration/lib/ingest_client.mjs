// Ingest client for the kill -9 durability test.
//   node ingest_client.mjs produce <base-url> <topic> <stop-file> <acked-out.json> [workers]
//     Posts batches of records with unique ids until <stop-file> exists; a failed request
//     (server killed) is not retried with the same ids. Writes every acknowledged request as
//     {ids, partitions:[{partition, first, last}]} to <acked-out.json>.
//   node ingest_client.mjs verify <base-url> <topic> <acked.json> <partitions>
//     Reads every partition and checks: each acknowledged record is at the offsets its response
//     named, appears exactly once in the topic, and each worker's records are in order within
//     a partition. Prints a summary; exits 1 on any violation.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const [mode, base, topic, ...rest] = process.argv.slice(2);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function produce(stopFile, out, workers = 4) {
  const acked = [];
  let failures = 0;
  async function worker(w) {
    let seq = 0;
    while (!existsSync(stopFile)) {
      const ids = [];
      const lines = [];
      const size = 1 + (seq % 7);
      for (let i = 0; i < size; i++) {
        const id = `w${w}-${seq++}`;
        ids.push(id);
        lines.push(JSON.stringify({ id, worker: w, pad: 'x'.repeat(50) }));
      }
      try {
        const res = await fetch(`${base}/v1/ingest/${topic}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-ndjson' },
          body: lines.join('\n'),
          signal: AbortSignal.timeout(5000),
        });
        const body = await res.json();
        if (res.status === 200 && body.accepted === ids.length) {
          acked.push({ ids, partitions: body.partitions });
        } else {
          failures++;
        }
      } catch {
        failures++;
        await sleep(20);
      }
    }
  }
  await Promise.all(Array.from({ length: Number(workers) }, (_, w) => worker(w)));
  writeFileSync(out, JSON.stringify(acked));
  console.log(`acknowledged requests: ${acked.length}, failed requests: ${failures}`);
}

async function readPartition(p) {
  const records = [];
  let offset = 0;
  for (;;) {
    const res = await fetch(`${base}/v1/topics/${topic}/records?partition=${p}&offset=${offset}&max=5000`);
    const body = await res.json();
    if (res.status !== 200) throw new Error(JSON.stringify(body));
    for (const r of body.records) records.push(r);
    if (body.next_offset >= body.end_offset) return records;
    offset = body.next_offset;
  }
}

async function verify(ackedFile, partitions) {
  const acked = JSON.parse(readFileSync(ackedFile, 'utf8'));
  const byPartition = [];
  const seen = new Map();
  for (let p = 0; p < Number(partitions); p++) {
    const records = await readPartition(p);
    byPartition.push(records);
    records.forEach((r, i) => {
      if (r.offset !== i) throw new Error(`partition ${p}: offset ${r.offset} at index ${i}`);
      seen.set(r.value.id, (seen.get(r.value.id) || 0) + 1);
    });
  }
  let problems = 0;
  let ackedRecords = 0;
  const lastOffset = new Map();  // worker/partition -> last offset
  for (const request of acked) {
    const part = request.partitions[0];
    const records = byPartition[part.partition];
    request.ids.forEach((id, i) => {
      ackedRecords++;
      const record = records[part.first + i];
      if (!record || record.value.id !== id) {
        problems++;
        if (problems < 5) console.log(`missing: ${id} expected at ${part.partition}/${part.first + i}`);
      }
      if (seen.get(id) !== 1) {
        problems++;
        if (problems < 5) console.log(`${id} appears ${seen.get(id) || 0} times`);
      }
    });
    const worker = request.ids[0].split('-')[0] + '/' + part.partition;
    if (lastOffset.has(worker) && lastOffset.get(worker) >= part.first) {
      problems++;
      console.log(`out of order: ${worker} at ${part.first}`);
    }
    lastOffset.set(worker, part.last);
  }
  const stored = byPartition.reduce((n, r) => n + r.length, 0);
  console.log(`acknowledged records: ${ackedRecords}, stored records: ${stored}, problems: ${problems}`);
  process.exit(problems === 0 && ackedRecords > 0 ? 0 : 1);
}

if (mode === 'produce') await produce(...rest);
else if (mode === 'verify') await verify(...rest);
else { console.error('usage: produce|verify ...'); process.exit(2); }
