// NATS JetStream peer: publishes the benchmark's events to a file-backed stream for `seconds`.
// mode `acked`: JetStream publishes keeping `window` awaiting their acks (the server acks after
//   storing), the analogue of an acknowledged HTTP ingest; prints acknowledged events/s.
// mode `stored`: plain NATS publishes into the stream's subject (no acks; flushed every 1000),
//   then waits until the stream holds them all; prints stored events/s. This is JetStream's
//   storage rate without the per-message round trip that limits the nats.js client above.
//   node nats_publish.mjs <events.ndjson> <port> [seconds=10] [window=512] [acked|stored]
import { readFileSync } from 'node:fs';
import { connect, StorageType } from 'nats';

const [file, port, seconds = 10, window = 512, mode = 'acked'] = process.argv.slice(2);
const events = readFileSync(file, 'utf8').trim().split('\n').map((l) => new TextEncoder().encode(l));
const nc = await connect({ servers: `127.0.0.1:${port}` });
const jsm = await nc.jetstreamManager();
try { await jsm.streams.delete('BENCH'); } catch {}
await jsm.streams.add({ name: 'BENCH', subjects: ['bench.>'], storage: StorageType.File });
if (mode === 'stored') {
  const start = Date.now();
  const deadline = start + Number(seconds) * 1000;
  let published = 0;
  while (Date.now() < deadline) {
    for (let i = 0; i < 1000; i++) nc.publish('bench.events', events[published++ % events.length]);
    await nc.flush();
  }
  let stored = 0;
  for (;;) {
    stored = (await jsm.streams.info('BENCH')).state.messages;
    if (stored >= published || Date.now() - deadline > 60000) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const elapsed = (Date.now() - start) / 1000;
  console.log(JSON.stringify({ events_per_s: Math.round(stored / elapsed), published, stored, seconds: elapsed }));
  await nc.close();
  process.exit(0);
}
const js = nc.jetstream();
let acked = 0;
let next = 0;
const deadline = Date.now() + Number(seconds) * 1000;
const start = Date.now();
async function lane() {
  while (Date.now() < deadline) {
    await js.publish('bench.events', events[next++ % events.length]);
    acked++;
  }
}
await Promise.all(Array.from({ length: Number(window) }, lane));
const elapsed = (Date.now() - start) / 1000;
console.log(JSON.stringify({ events_per_s: Math.round(acked / elapsed), acked, seconds: elapsed }));
await nc.close();
