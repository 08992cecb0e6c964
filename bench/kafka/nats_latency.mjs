// NATS JetStream peer of the Kafka end-to-end latency figure: a file-backed stream, acked
// publishes at a fixed rate (open loop: each millisecond's records are published when due, not
// after the previous acks), each record stamped with its send time; an ordered consumer in the
// same process records receive - send. Prints one JSON line with p50/p99/p99.9 in microseconds.
//   node nats_latency.mjs <port> <rate> <seconds> <record-bytes>
import { connect, StorageType } from 'nats';

const [port, rate, seconds, bytes] = process.argv.slice(2).map(Number);
const nc = await connect({ servers: `127.0.0.1:${port}` });
const jsm = await nc.jetstreamManager();
try { await jsm.streams.delete('LAT'); } catch {}
await jsm.streams.add({ name: 'LAT', subjects: ['lat.>'], storage: StorageType.File });
const js = nc.jetstream();
const total = rate * seconds;
const latencies = [];
const consumer = await js.consumers.get('LAT');
const messages = await consumer.consume();
const done = (async () => {
  for await (const m of messages) {
    latencies.push(performance.now() - new DataView(m.data.buffer, m.data.byteOffset, 8).getFloat64(0));
    if (latencies.length >= total) break;
  }
})();
await new Promise((r) => setTimeout(r, 1000));
const start = performance.now();
let sent = 0;
let failed = 0;
const acks = [];
while (sent < total) {
  const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
  for (; sent < due; sent++) {
    const value = new Uint8Array(bytes);
    new DataView(value.buffer).setFloat64(0, performance.now());
    acks.push(js.publish('lat.x', value).catch(() => failed++));
  }
  await new Promise((r) => setImmediate(r));
}
await Promise.all(acks);
await Promise.race([done, new Promise((r) => setTimeout(r, 60000))]);
latencies.sort((a, b) => a - b);
const at = (q) => Math.round(latencies[Math.floor(q * (latencies.length - 1))] * 1000);
console.log(JSON.stringify({ rate, sent, received: latencies.length, failed,
  latency_us: { p50: at(0.5), p99: at(0.99), p99_9: at(0.999), max: at(1) } }));
await nc.close();
process.exit(0);
