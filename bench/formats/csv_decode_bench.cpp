// CSV decode and encode throughput on an orders file (the real-time order-monitoring scenario):
// 8 columns — string ids, an ISO timestamp, a status, a 2-decimal amount, an item count and a
// city — about 100 MB generated in memory.
//
//   csv_decode_bench --benchmark_filter=Csv --benchmark_repetitions=3
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "formats/csv_decoder.h"
#include "formats/csv_encoder.h"
#include "types/time_codec.h"

namespace millrace {
namespace {

// CSV_BENCH_MB overrides the size (a small input for valgrind --tool=callgrind).
std::size_t target_bytes() {
    const char* mb = std::getenv("CSV_BENCH_MB");
    return (mb != nullptr ? std::strtoull(mb, nullptr, 10) : 100) << 20;
}

std::shared_ptr<const Schema> orders_schema() {
    return std::make_shared<const Schema>(std::vector<Field>{
        {"order_id", DataType::kString, false},
        {"user_id", DataType::kString, true},
        {"restaurant_id", DataType::kString, true},
        {"ts", DataType::kTimestamp, true},
        {"status", DataType::kString, true},
        {"amount", DataType::kFloat64, true},
        {"items", DataType::kInt32, true},
        {"city", DataType::kString, true},
    });
}

// ~100 MB of orders. `quote_all` quotes every string field, as many exporters do.
std::string make_orders_csv(bool quote_all) {
    static constexpr const char* kStatuses[] = {"placed",     "accepted",  "preparing",
                                                "delivering", "delivered", "cancelled"};
    static constexpr const char* kCities[] = {
        "Paris",     "Lyon",     "Shanghai",         "Beijing", "Berlin",
        "São Paulo", "New York", "Washington, D.C.", "Chengdu", "Toronto"};
    uint64_t state = 0x9e3779b97f4a7c15ull;
    auto next = [&state] {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state;
    };
    const char* q = quote_all ? "\"" : "";
    std::string out = "order_id,user_id,restaurant_id,ts,status,amount,items,city\n";
    const std::size_t target = target_bytes();
    out.reserve(target + 4096);
    const int64_t start = *parse_timestamp("2024-03-05T00:00:00Z");
    std::string ts;
    char line[256];
    for (uint64_t i = 1; out.size() < target; ++i) {
        ts.clear();
        append_timestamp(ts, start + static_cast<int64_t>(i) * 250'000);
        const uint64_t r = next();
        const char* city = kCities[(r >> 40) % 10];
        const bool city_needs_quotes =
            !quote_all && std::string_view(city).find(',') != std::string_view::npos;
        const int length = std::snprintf(
            line, sizeof line,
            "%so-%09llu%s,%su-%06llu%s,%sr-%05llu%s,%s,%s%s%s,%llu.%02llu,%llu,%s%s%s\n", q,
            static_cast<unsigned long long>(i), q, q,
            static_cast<unsigned long long>(r % 1'000'000), q, q,
            static_cast<unsigned long long>((r >> 20) % 100'000), q, ts.c_str(), q,
            kStatuses[(r >> 50) % 6], q, static_cast<unsigned long long>((r >> 8) % 200),
            static_cast<unsigned long long>((r >> 16) % 100),
            static_cast<unsigned long long>(1 + (r >> 32) % 9), city_needs_quotes ? "\"" : q, city,
            city_needs_quotes ? "\"" : q);
        out.append(line, static_cast<std::size_t>(length));
    }
    return out;
}

const std::string& orders_csv() {
    static const std::string csv = make_orders_csv(false);
    return csv;
}

const std::string& quoted_orders_csv() {
    static const std::string csv = make_orders_csv(true);
    return csv;
}

/// Counts and drops what the decoder produces.
class DroppingSink final : public DecodeSink {
public:
    Status on_batch(Batch batch) override {
        rows += batch.num_rows();
        return {};
    }
    void on_error(RowError) override { ++errors; }
    std::size_t rows = 0;
    std::size_t errors = 0;
};

void run_decode(benchmark::State& state, const std::string& input) {
    CsvDecoder decoder(orders_schema(), {});
    std::size_t rows = 0;
    for (auto _ : state) {
        DroppingSink sink;
        Status status = decoder.decode(input, sink);
        if (!status.ok() || sink.errors != 0) {
            state.SkipWithError("decode failed");
            return;
        }
        rows += sink.rows;
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * input.size()));
    state.counters["rows/s"] =
        benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsRate);
}

void BM_CsvDecodeOrders(benchmark::State& state) { run_decode(state, orders_csv()); }
BENCHMARK(BM_CsvDecodeOrders)->Unit(benchmark::kMillisecond);

void BM_CsvDecodeOrdersAllQuoted(benchmark::State& state) {
    run_decode(state, quoted_orders_csv());
}
BENCHMARK(BM_CsvDecodeOrdersAllQuoted)->Unit(benchmark::kMillisecond);

void BM_CsvEncodeOrders(benchmark::State& state) {
    CsvDecoder decoder(orders_schema(), {});
    CollectingSink batches;
    if (!decoder.decode(orders_csv(), batches).ok()) {
        state.SkipWithError("decode failed");
        return;
    }
    CsvEncoder encoder({});
    std::string out;
    std::size_t bytes = 0;
    for (auto _ : state) {
        out.clear();
        encoder.write_header(*orders_schema(), out);
        for (const Batch& batch : batches.batches) encoder.encode(batch, out);
        bytes += out.size();
        benchmark::DoNotOptimize(out.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(bytes));
    state.counters["rows/s"] = benchmark::Counter(
        static_cast<double>(batches.rows * state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_CsvEncodeOrders)->Unit(benchmark::kMillisecond);

void BM_CsvInferSchema(benchmark::State& state) {
    const std::string_view sample = std::string_view(orders_csv()).substr(0, 1 << 20);
    for (auto _ : state) {
        Result<Schema> schema = infer_csv_schema(sample, {});
        benchmark::DoNotOptimize(schema.ok());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * sample.size()));
}
BENCHMARK(BM_CsvInferSchema)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace millrace

BENCHMARK_MAIN();
