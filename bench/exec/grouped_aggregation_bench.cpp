// Grouped aggregation over in-memory Batches: SELECT store, category, sum(amount), count(*),
// avg(amount) ... GROUP BY store, category — the "rows/s per core" figure. Rows are
// pushed into the HashAggregateOperator in 8192-row batches, as a scan would.
#include <benchmark/benchmark.h>

#include <random>

#include "exec/hash_aggregate_operator.h"
#include "exec/operator.h"
#include "types/batch.h"

namespace millrace {
namespace {

constexpr std::size_t kRows = 10'000'000;
constexpr std::size_t kBatchRows = 8192;

class NullSink final : public BatchSink {
public:
    Status push(Batch batch) override {
        rows += batch.num_rows();
        return {};
    }
    Status finish() override { return {}; }
    std::size_t rows = 0;
};

const std::vector<Batch>& input(bool string_key) {
    static std::vector<Batch> int_batches, string_batches;
    std::vector<Batch>& batches = string_key ? string_batches : int_batches;
    if (!batches.empty()) return batches;
    auto schema = std::make_shared<const Schema>(std::vector<Field>{
        {"store", DataType::kInt32, false},
        {string_key ? "category" : "day", string_key ? DataType::kString : DataType::kDate, false},
        {"amount", DataType::kFloat64, true}});
    std::mt19937_64 rng(42);
    static const char* kCategories[] = {"grocery",   "bakery",  "produce",     "beverages",
                                        "household", "apparel", "electronics", "toys"};
    for (std::size_t start = 0; start < kRows; start += kBatchRows) {
        BatchBuilder builder(schema, kBatchRows);
        for (std::size_t i = 0; i < kBatchRows && start + i < kRows; ++i) {
            builder.column(0).append_int32(static_cast<int32_t>(rng() % 200));
            if (string_key) {
                builder.column(1).append_string(kCategories[rng() % 8]);
            } else {
                builder.column(1).append_date(static_cast<int32_t>(20000 + rng() % 30));
            }
            builder.column(2).append_double(static_cast<double>(rng() % 100000) / 100.0);
            builder.commit_row();
        }
        batches.push_back(builder.finish());
    }
    return batches;
}

void run(benchmark::State& state, bool string_key) {
    const auto& batches = input(string_key);
    DataType key_type = string_key ? DataType::kString : DataType::kDate;
    for (auto _ : state) {
        ExecContext context;
        std::vector<sql::BoundExpr> keys{sql::BoundExpr::column_ref(0, DataType::kInt32, "store"),
                                         sql::BoundExpr::column_ref(1, key_type, "key")};
        std::vector<sql::AggregateCall> calls;
        sql::BoundExpr amount = sql::BoundExpr::column_ref(2, DataType::kFloat64, "amount");
        calls.push_back({sql::Aggregate::kSum, {amount}, DataType::kFloat64, false});
        calls.push_back({sql::Aggregate::kCountStar, {}, DataType::kInt64, false});
        calls.push_back({sql::Aggregate::kAvg, {amount}, DataType::kFloat64, false});
        auto schema =
            std::make_shared<const Schema>(std::vector<Field>{{"store", DataType::kInt32, true},
                                                              {"key", key_type, true},
                                                              {"sum", DataType::kFloat64, true},
                                                              {"count", DataType::kInt64, false},
                                                              {"avg", DataType::kFloat64, true}});
        HashAggregateOperator aggregate(keys, calls, schema, context, "bench");
        NullSink sink;
        aggregate.set_output(&sink);
        for (const Batch& b : batches) {
            if (!aggregate.push(b).ok()) state.SkipWithError("push failed");
        }
        if (!aggregate.finish().ok()) state.SkipWithError("finish failed");
        benchmark::DoNotOptimize(sink.rows);
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kRows));
}

void BM_GroupedAggregation_IntDateKeys(benchmark::State& state) { run(state, false); }
void BM_GroupedAggregation_IntStringKeys(benchmark::State& state) { run(state, true); }

BENCHMARK(BM_GroupedAggregation_IntDateKeys)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_GroupedAggregation_IntStringKeys)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
}  // namespace millrace

BENCHMARK_MAIN();
