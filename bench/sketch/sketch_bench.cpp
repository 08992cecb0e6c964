// Throughput of the value hash (reused by the hash aggregate and hash join) and of adding to the
// approximate-aggregate sketches, per value on one core.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "sketch/dd_sketch.h"
#include "sketch/hash.h"
#include "sketch/hyper_log_log.h"

namespace millrace {
namespace {

constexpr int64_t kValues = 1 << 16;

void BM_HashInt64(benchmark::State& state) {
    uint64_t sink = 0;
    for (auto _ : state) {
        for (int64_t i = 0; i < kValues; ++i) sink += hash_int64(i);
        benchmark::DoNotOptimize(sink);
    }
    state.SetItemsProcessed(state.iterations() * kValues);
    state.SetBytesProcessed(state.iterations() * kValues * 8);
}
BENCHMARK(BM_HashInt64);

void BM_HashString(benchmark::State& state) {
    std::vector<std::string> keys;
    for (int64_t i = 0; i < kValues; ++i) {
        keys.push_back(std::string(static_cast<std::size_t>(state.range(0)) - 6, 'k') +
                       std::to_string(100'000 + i));
    }
    uint64_t sink = 0;
    for (auto _ : state) {
        for (const std::string& key : keys) sink += hash_string(key);
        benchmark::DoNotOptimize(sink);
    }
    state.SetItemsProcessed(state.iterations() * kValues);
    state.SetBytesProcessed(state.iterations() * kValues * state.range(0));
}
BENCHMARK(BM_HashString)->Arg(8)->Arg(16)->Arg(32)->Arg(100);

void BM_HyperLogLogAdd(benchmark::State& state) {
    for (auto _ : state) {
        HyperLogLog sketch;
        for (int64_t i = 0; i < kValues; ++i) sketch.add_hash(hash_int64(i % state.range(0)));
        benchmark::DoNotOptimize(sketch.estimate());
    }
    state.SetItemsProcessed(state.iterations() * kValues);
}
// Distinct values: 1000 (sparse throughout), 65536 (sparse, then dense).
BENCHMARK(BM_HyperLogLogAdd)->Arg(1'000)->Arg(kValues);

void BM_DDSketchAdd(benchmark::State& state) {
    for (auto _ : state) {
        DDSketch sketch;
        for (int64_t i = 0; i < kValues; ++i) sketch.add(static_cast<double>(i % 10'007) * 0.37);
        benchmark::DoNotOptimize(sketch.quantile(0.5));
    }
    state.SetItemsProcessed(state.iterations() * kValues);
}
BENCHMARK(BM_DDSketchAdd);

}  // namespace
}  // namespace millrace

BENCHMARK_MAIN();
