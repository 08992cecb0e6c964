// @confluentinc/schemaregistry (npm: Confluent's JavaScript registry client and Avro/JSON
// Schema serializers) against the registry at $URL: registers, evolves and is refused Avro and
// JSON schemas, then serializes records in Confluent's wire format, produces them to Kafka at
// $BROKER (topics `js_orders` and `js_events`) with @confluentinc/kafka-javascript, reads them
// back and deserializes them. Prints one JSON line per step.
import rdkafka from "@confluentinc/kafka-javascript";
import {
    AvroDeserializer, AvroSerializer, JsonDeserializer, JsonSerializer, RestError,
    SchemaRegistryClient, SerdeType,
} from "@confluentinc/schemaregistry";

const client = new SchemaRegistryClient({ baseURLs: [process.env.URL] });
const report = (step, what) => console.log(JSON.stringify({ step, ...what }));
const refusal = async (promise) => {
    try {
        await promise;
        return { refused: false };
    } catch (e) {
        return e instanceof RestError ? { refused: true, status: e.status, code: e.errorCode }
                                      : { refused: true, other: String(e) };
    }
};

// Avro: register, evolve compatibly (a new field with a default), be refused (a changed type).
const order = (fields) => JSON.stringify({ type: "record", name: "Order", fields });
const v1 = order([{ name: "id", type: "long" }, { name: "amount", type: "double" }]);
const v2 = order([{ name: "id", type: "long" }, { name: "amount", type: "double" },
                  { name: "currency", type: "string", default: "EUR" }]);
const broken = order([{ name: "id", type: "string" }, { name: "amount", type: "double" }]);
const id1 = await client.register("js_orders-value", { schemaType: "AVRO", schema: v1 });
const id2 = await client.register("js_orders-value", { schemaType: "AVRO", schema: v2 });
const latest = await client.getLatestSchemaMetadata("js_orders-value");
report("avro", {
    registered: id1 > 0 && id2 > 0 && id1 !== id2, latest: latest.version,
    compatible: await client.testSubjectCompatibility("js_orders-value",
                                                      { schemaType: "AVRO", schema: broken }),
    ...(await refusal(client.register("js_orders-value", { schemaType: "AVRO", schema: broken }))),
    versions: await client.getAllVersions("js_orders-value"),
});

// JSON Schema: the same three steps. A closed content model (additionalProperties: false)
// evolves by a new optional property under BACKWARD; a changed property type is refused.
const event = (properties, extra = {}) =>
    JSON.stringify({ type: "object", properties, additionalProperties: false, ...extra });
const j1 = event({ id: { type: "integer" }, kind: { type: "string" } }, { required: ["id"] });
const j2 = event({ id: { type: "integer" }, kind: { type: "string" }, score: { type: "number" } },
                 { required: ["id"] });
const jBroken = event({ id: { type: "string" }, kind: { type: "string" } }, { required: ["id"] });
const jid1 = await client.register("js_events-value", { schemaType: "JSON", schema: j1 });
const jid2 = await client.register("js_events-value", { schemaType: "JSON", schema: j2 });
report("json", {
    registered: jid1 > 0 && jid2 > 0 && jid1 !== jid2,
    latest: (await client.getLatestSchemaMetadata("js_events-value")).version,
    ...(await refusal(client.register("js_events-value", { schemaType: "JSON", schema: jBroken }))),
});

// Serialize with the latest versions, produce, consume, deserialize.
const avroSerializer = new AvroSerializer(client, SerdeType.VALUE, { useLatestVersion: true });
const jsonSerializer = new JsonSerializer(client, SerdeType.VALUE, { useLatestVersion: true });
const orders = [{ id: 1, amount: 12.5, currency: "USD" }, { id: 2, amount: 30, currency: "EUR" },
                { id: 3, amount: 7.25, currency: "GBP" }];
const events = [{ id: 10, kind: "click", score: 0.5 }, { id: 11, kind: "view", score: 2 },
                { id: 12, kind: "buy", score: 9.75 }];
const { Kafka, logLevel } = rdkafka.KafkaJS;
const kafka = new Kafka({ kafkaJS: { brokers: [process.env.BROKER], logLevel: logLevel.ERROR } });
const producer = kafka.producer();
await producer.connect();
const framed = [];
for (const o of orders) framed.push(await avroSerializer.serialize("js_orders", o));
await producer.send({ topic: "js_orders", messages: framed.map((value, i) => ({ key: `${i}`, value })) });
const jsonFramed = [];
for (const e of events) jsonFramed.push(await jsonSerializer.serialize("js_events", e));
await producer.send({ topic: "js_events",
                      messages: jsonFramed.map((value, i) => ({ key: `${i}`, value })) });
await producer.disconnect();
report("serialized", {
    magic: framed.every((b) => b[0] === 0 && b.readUInt32BE(1) === id2) &&
           jsonFramed.every((b) => b[0] === 0 && b.readUInt32BE(1) === jid2),
});

const consumer = kafka.consumer({ kafkaJS: { groupId: "js-serde", fromBeginning: true } });
await consumer.connect();
await consumer.subscribe({ topics: ["js_orders", "js_events"] });
const avroDeserializer = new AvroDeserializer(client, SerdeType.VALUE, {});
const jsonDeserializer = new JsonDeserializer(client, SerdeType.VALUE, {});
const back = { js_orders: [], js_events: [] };
await consumer.run({
    eachMessage: async ({ topic, message }) => {
        const deserializer = topic === "js_orders" ? avroDeserializer : jsonDeserializer;
        back[topic].push(await deserializer.deserialize(topic, message.value));
    },
});
for (let waited = 0; waited < 600 && back.js_orders.length + back.js_events.length < 6; waited++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
}
await consumer.disconnect();
const byId = (a, b) => Number(a.id) - Number(b.id);
report("deserialized", {
    orders: JSON.stringify(back.js_orders.sort(byId)) === JSON.stringify(orders),
    events: JSON.stringify(back.js_events.sort(byId)) === JSON.stringify(events),
});
