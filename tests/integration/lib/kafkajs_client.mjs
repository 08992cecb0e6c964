// kafkajs 2.2 (a pure-JavaScript Kafka client: ApiVersions v2, no flexible versions, JoinGroup
// v5 with MEMBER_ID_REQUIRED) against the broker named by $BROKER: admin creates a topic,
// a gzip producer sends keyed JSON events, a consumer group reads them all back and commits.
// Prints one line of JSON with what it saw.
import kafkajs from "kafkajs";

const { Kafka, CompressionTypes, logLevel } = kafkajs;
const kafka = new Kafka({ clientId: "it", brokers: [process.env.BROKER], logLevel: logLevel.ERROR });
const topic = "signups";
const total = 150;

const admin = kafka.admin();
await admin.connect();
const created = await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
const metadata = await admin.fetchTopicMetadata({ topics: [topic] });

const producer = kafka.producer();
await producer.connect();
const messages = [];
for (let i = 0; i < total; i++) {
  messages.push({ key: `user-${i % 11}`, value: JSON.stringify({ id: i, plan: i % 2 ? "pro" : "free" }) });
}
for (let i = 0; i < total; i += 50) {
  await producer.send({ topic, compression: CompressionTypes.GZIP, messages: messages.slice(i, i + 50) });
}
await producer.disconnect();

const consumer = kafka.consumer({ groupId: "onboarding" });
await consumer.connect();
await consumer.subscribe({ topic, fromBeginning: true });
const seen = new Map();
let inOrder = true;
const lastOffsetByKey = new Map();
await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`timed out with ${seen.size} records`)), 60000);
  consumer
    .run({
      eachMessage: async ({ partition, message }) => {
        const key = message.key.toString();
        const id = JSON.parse(message.value.toString()).id;
        const last = lastOffsetByKey.get(key);
        if (last && (last.partition !== partition || last.id >= id)) inOrder = false;
        lastOffsetByKey.set(key, { partition, id });
        seen.set(id, true);
        if (seen.size === total) {
          clearTimeout(timer);
          resolve();
        }
      },
    })
    .catch(reject);
});
await consumer.disconnect();  // commits the consumed offsets, leaves the group
const offsets = await admin.fetchOffsets({ groupId: "onboarding", topics: [topic] });
const committed = offsets[0].partitions.reduce((sum, p) => sum + Number(p.offset), 0);
await admin.disconnect();
console.log(JSON.stringify({
  created,
  partitions: metadata.topics[0].partitions.length,
  consumed: seen.size,
  inOrder,
  committed,
}));
