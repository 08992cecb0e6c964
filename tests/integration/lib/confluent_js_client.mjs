// @confluentinc/kafka-javascript (npm; its KafkaJS-style API over a bundled librdkafka 2.1x,
// which negotiates newer API versions than Debian's librdkafka) against the broker named by
// $BROKER. Two modes, run as separate processes:
//   produce: one producer per codec (none, gzip, snappy, lz4, zstd) sends $N keyed records to
//            the topic `cjs_<codec>`; prints {"produced": total}.
//   consume: a consumer group reads every `cjs_*` topic until it has seen 5 x $N records (and a
//            few seconds more, so extra copies would show), checks per-partition offsets and
//            per-key order, commits and prints one line of JSON with what it saw.
import rdkafka from "@confluentinc/kafka-javascript";

const { Kafka, logLevel } = rdkafka.KafkaJS;
const broker = process.env.BROKER;
const perCodec = Number(process.env.N ?? 200);
const codecs = ["none", "gzip", "snappy", "lz4", "zstd"];
const kafka = new Kafka({ kafkaJS: { brokers: [broker], logLevel: logLevel.ERROR } });
// Compressible values, so that the stored size shows whether a batch was really compressed.
const padding = "x".repeat(400);

async function produce() {
    let produced = 0;
    for (const codec of codecs) {
        const producer = kafka.producer({ "compression.type": codec, "linger.ms": 20 });
        await producer.connect();
        const messages = [];
        for (let i = 0; i < perCodec; i++) {
            messages.push({ key: `k${i % 13}`, value: JSON.stringify({ codec, seq: i, padding }) });
        }
        for (let i = 0; i < perCodec; i += 50) {
            await producer.send({ topic: `cjs_${codec}`, messages: messages.slice(i, i + 50) });
            produced += Math.min(50, perCodec - i);
        }
        await producer.disconnect();
    }
    console.log(JSON.stringify({ produced }));
}

async function consume() {
    const consumer = kafka.consumer({
        kafkaJS: { groupId: "cjs-audit", fromBeginning: true, autoCommit: false },
    });
    await consumer.connect();
    await consumer.subscribe({ topics: codecs.map((codec) => `cjs_${codec}`) });
    const expected = perCodec * codecs.length;
    const seen = new Set();
    const lastOffset = new Map();  // topic/partition -> offset
    const lastSeq = new Map();     // topic/key -> seq
    const byCodec = Object.fromEntries(codecs.map((codec) => [codec, 0]));
    let count = 0;
    let duplicates = 0;
    let offsetsInOrder = true;
    let keysInOrder = true;
    let wrongCodec = 0;
    let doneAt = 0;
    await consumer.run({
        eachMessage: async ({ topic, partition, message }) => {
            count++;
            const value = JSON.parse(message.value.toString());
            if (`cjs_${value.codec}` !== topic) wrongCodec++;
            const id = `${value.codec}/${value.seq}`;
            if (seen.has(id)) duplicates++;
            seen.add(id);
            byCodec[value.codec]++;
            const offset = Number(message.offset);
            const where = `${topic}/${partition}`;
            if (lastOffset.has(where) && offset <= lastOffset.get(where)) offsetsInOrder = false;
            lastOffset.set(where, offset);
            const key = `${topic}/${message.key.toString()}`;
            if (lastSeq.has(key) && value.seq <= lastSeq.get(key)) keysInOrder = false;
            lastSeq.set(key, value.seq);
        },
    });
    // Bounded waits: up to 120 s for everything, then 3 s more for anything extra.
    for (let waited = 0; waited < 1200 && count < expected; waited++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (count >= expected) {
        doneAt = count;
        await new Promise((resolve) => setTimeout(resolve, 3000));
    }
    const partitions = lastOffset.size;
    await consumer.commitOffsets();
    await consumer.disconnect();
    console.log(JSON.stringify({
        consumed: count, distinct: seen.size, duplicates, complete: doneAt === expected,
        offsetsInOrder, keysInOrder, wrongCodec, partitions, byCodec,
    }));
}

if (process.argv[2] === "produce") await produce();
else if (process.argv[2] === "consume") await consume();
else throw new Error("usage: confluent_js_client.mjs produce|consume");
