// Parquet write and read of 10M order rows (8 columns: 3 string ids, timestamp, status, amount,
// items, city), from Batches already in memory. bench/parquet/duckdb_copy.mjs times DuckDB's
// `COPY ... TO ... (FORMAT parquet, COMPRESSION zstd)` on the same rows in the same `make bench`
// run; bench/summarize.mjs prints the ratios (goals: time <= 1.0, size <= 1.1).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "datagen/order_generator.h"
#include "formats/json_decoder.h"
#include "formats/parquet/parquet_reader.h"
#include "formats/parquet/parquet_writer.h"

namespace millrace {
namespace {

constexpr uint64_t kRows = 10'000'000;

// Where the written file stays for the DuckDB comparison and the read benchmark.
std::string output_path() {
    const char* dir = std::getenv("MILLRACE_BENCH_DIR");
    return std::string(dir != nullptr ? dir : "/tmp") + "/millrace_bench_orders.parquet";
}

class CollectBatches final : public DecodeSink {
public:
    explicit CollectBatches(std::vector<Batch>& out) : out_(out) {}
    Status on_batch(Batch batch) override {
        out_.push_back(std::move(batch));
        return {};
    }
    void on_error(RowError) override {}

private:
    std::vector<Batch>& out_;
};

// The rows as Batches of 64k rows, decoded once from OrderGenerator's NDJSON (seed 42).
const std::vector<Batch>& batches() {
    static const std::vector<Batch> all = [] {
        std::vector<Batch> out;
        OrderGenerator generator;
        JsonOptions options;
        options.decode.batch_rows = 65'536;
        JsonDecoder decoder(OrderGenerator::schema(), options);
        CollectBatches sink(out);
        std::string chunk;
        for (uint64_t done = 0; done < kRows; done += options.decode.batch_rows) {
            chunk.clear();
            generator.append_ndjson(chunk,
                                    std::min<uint64_t>(options.decode.batch_rows, kRows - done));
            if (!decoder.decode(chunk, sink).ok()) std::abort();
        }
        return out;
    }();
    return all;
}

void BM_ParquetWriteOrders10MZstd(benchmark::State& state) {
    const auto& input = batches();
    const std::string path = output_path();
    uint64_t bytes = 0;
    for (auto _ : state) {
        ParquetWriterOptions options;
        options.codec = ParquetCodec::kZstd;
        if (const char* level = std::getenv("MILLRACE_BENCH_ZSTD_LEVEL"))
            options.zstd_level = std::atoi(level);
        // DuckDB's COPY uses every core; so do we (column chunks encoded in parallel).
        options.threads = std::max(1u, std::thread::hardware_concurrency());
        auto writer = ParquetWriter::open(path, OrderGenerator::schema(), options);
        if (!writer.ok()) std::abort();
        for (const Batch& batch : input) {
            if (!(*writer)->write(batch).ok()) std::abort();
        }
        if (!(*writer)->close().ok()) std::abort();
        bytes = (*writer)->bytes_written();
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kRows));
    state.counters["file_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_ParquetWriteOrders10MZstd)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1)
    ->UseRealTime();

void BM_ParquetReadOrders10MProjection2(benchmark::State& state) {
    const std::string path = output_path();
    if (!std::filesystem::exists(path)) {
        state.SkipWithError("run BM_ParquetWriteOrders10MZstd first");
        return;
    }
    uint64_t rows = 0;
    for (auto _ : state) {
        auto reader = ParquetReader::open(path);
        if (!reader.ok()) std::abort();
        ParquetScanOptions scan;
        scan.columns = *(*reader)->column_indices(std::vector<std::string>{"amount", "city"});
        rows = 0;
        auto done = (*reader)->scan(scan, [&](Batch batch) {
            rows += batch.num_rows();
            return Status();
        });
        if (!done.ok()) std::abort();
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * rows));
}
BENCHMARK(BM_ParquetReadOrders10MProjection2)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1)
    ->UseRealTime();

}  // namespace
}  // namespace millrace
BENCHMARK_MAIN();
