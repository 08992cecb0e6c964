// NATS JetStream peer: publishes the benchmark's events to a file-backed stream for `seconds`,
// keeping `window` publishes awaiting their acks (JetStream acks after storing), and prints
// acknowledged events per second.
//   node nats_publish.mjs <events.ndjson> <port> [seconds=10] [window=512]
import { readFileSync } from 'node:fs';
import { connect, StorageType } from 'nats';

const [file, port, seconds = 10, window = 512] = process.argv.slice(2);
const events = readFileSync(file, 'utf8').trim().split('\n').map((l) => new TextEncoder().encode(l));
const nc = await connect({ servers: `127.0.0.1:${port}` });
const jsm = await nc.jetstreamManager();
try { await jsm.streams.delete('BENCH'); } catch {}
await jsm.streams.add({ name: 'BENCH', subjects: ['bench.>'], storage: StorageType.File });
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
