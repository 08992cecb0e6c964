// The Kafka listener's per-request work on the produce and fetch paths, in process: decoding a
// Produce v7 request that carries a 1 MiB RecordBatch (10,000 records of 100 bytes) and
// checking that batch (CRC-32C, every record parsed), and encoding a Fetch v11 response around
// 1 MiB of stored batches. Ceilings in the same binary: CRC-32C alone over the batch (what any
// broker must do) and a memcpy of the response bytes.
//
//   kafka_codec_bench --benchmark_repetitions=3
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>
#include <vector>

#include "kafka/apis.h"
#include "kafka/frame.h"
#include "kafka/message.h"
#include "log/crc32c.h"
#include "log/record_batch.h"

namespace millrace::kafka {
namespace {

constexpr int kRecords = 10'000;

const ApiSpec& api(ApiKey key) { return *find_api(static_cast<int16_t>(key)); }

std::string make_batch() {
    std::vector<std::string> values;
    std::vector<std::string> keys;
    for (int i = 0; i < kRecords; ++i) {
        keys.push_back("customer-" + std::to_string(i % 100));
        values.push_back(std::string(100 - std::to_string(i).size(), 'x') + std::to_string(i));
    }
    std::vector<RecordInput> records;
    for (int i = 0; i < kRecords; ++i) records.push_back({keys[i], values[i], 1'700'000'000'000});
    std::string batch;
    record_batch::encode(records, batch);
    return batch;
}

std::string make_produce_body(const std::string& batch) {
    Struct request(api(ApiKey::kProduce).request);
    request.set("Acks", -1).set("TimeoutMs", 30000);
    Struct& topic = request.add("TopicData");
    topic.set("Name", std::string("orders"));
    topic.add("PartitionData").set("Index", 0).set("Records", batch);
    WireWriter writer;
    MessageCodec::encode(request, 7, false, writer);
    return writer.take();
}

void BM_ProduceDecodeAndValidate(benchmark::State& state) {
    const std::string batch = make_batch();
    const std::string body = make_produce_body(batch);
    for (auto _ : state) {
        WireReader reader(body);
        auto request = MessageCodec::decode(api(ApiKey::kProduce).request, 7, false, reader);
        const std::string& records =
            request->array("TopicData")[0].array("PartitionData")[0].string("Records");
        benchmark::DoNotOptimize(record_batch::validate(records).ok());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
    state.SetItemsProcessed(state.iterations() * kRecords);
}
BENCHMARK(BM_ProduceDecodeAndValidate);

void BM_Crc32cCeiling(benchmark::State& state) {
    const std::string batch = make_batch();
    for (auto _ : state) {
        benchmark::DoNotOptimize(crc32c(batch.data() + 21, batch.size() - 21));
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * batch.size()));
    state.SetItemsProcessed(state.iterations() * kRecords);
}
BENCHMARK(BM_Crc32cCeiling);

void BM_FetchResponseEncode(benchmark::State& state) {
    const std::string batches = make_batch();
    std::size_t size = 0;
    for (auto _ : state) {
        Struct response(api(ApiKey::kFetch).response);
        Struct& topic = response.add("Responses");
        topic.set("Topic", std::string("orders"));
        Struct& partition = topic.add("Partitions");
        partition.set("HighWatermark", kRecords).set("LastStableOffset", kRecords);
        partition.set("Records", batches);
        WireWriter writer;
        MessageCodec::encode(response, 11, false, writer);
        const std::string frame = frame_response(1, false, writer.buffer());
        size = frame.size();
        benchmark::DoNotOptimize(frame.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
}
BENCHMARK(BM_FetchResponseEncode);

void BM_MemcpyCeiling(benchmark::State& state) {
    const std::string batches = make_batch();
    std::string copy(batches.size(), '\0');
    for (auto _ : state) {
        std::memcpy(copy.data(), batches.data(), batches.size());
        benchmark::DoNotOptimize(copy.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * batches.size()));
}
BENCHMARK(BM_MemcpyCeiling);

}  // namespace
}  // namespace millrace::kafka

BENCHMARK_MAIN();
