// Query planning over a lake table of 10,000 small data files (docs/lake.md, "Reading"): the
// time to choose the files a selective filter needs (LakeTable::plan: metadata, manifest list,
// manifests, column statistics), with statistics pruning on and off, and the scan that follows
// (open and read the chosen files). The table is 1M rows in 10,000 files of 100 rows, written in
// 100 commits of 100 files; `id` ascends through the files, so the filter `500000 <= id < 501000`
// needs 10 of them. bench/lake/duckdb_plan.mjs runs DuckDB's `read_parquet` over the same 10,000
// files with the same filter in the same `make bench` run (it must open every footer).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "lake/lake_table.h"
#include "lake/lake_writer.h"

namespace millrace {
namespace {

constexpr int64_t kFiles = 10'000;
constexpr int64_t kRowsPerFile = 100;
constexpr int64_t kFilesPerCommit = 100;
constexpr int64_t kFirstId = 500'000;
constexpr int64_t kEndId = 501'000;

// The table stays in MILLRACE_BENCH_DIR for DuckDB: <dir>/lake_plan/lake/events/part-*.parquet.
std::string data_dir() {
    const char* dir = std::getenv("MILLRACE_BENCH_DIR");
    return std::string(dir != nullptr ? dir : "/tmp") + "/lake_plan";
}

std::shared_ptr<const Schema> schema() {
    static const auto s = std::make_shared<const Schema>(std::vector<Field>{
        {"id", DataType::kInt64, false},
        {"ts", DataType::kTimestamp, false},
        {"value", DataType::kFloat64, false},
    });
    return s;
}

Batch rows(int64_t first) {
    BatchBuilder builder(schema());
    for (int64_t i = first; i < first + kRowsPerFile; ++i) {
        builder.column(0).append_int64(i);
        builder.column(1).append_timestamp(1'795'392'000'000'000 + i * 1'000'000);
        builder.column(2).append_double(static_cast<double>(i % 1000) / 8);
        builder.commit_row();
    }
    return builder.finish();
}

template <typename T>
void check(const Result<T>& result) {
    if (!result.ok()) {
        std::fprintf(stderr, "%s\n", result.error().to_string().c_str());
        std::abort();
    }
}

// The table, built once per process (or found from an earlier run with all its files).
const LakeTable& table() {
    static const LakeTable t = [] {
        const std::string dir = data_dir();
        if (auto existing = LakeTable::open(dir, "events"); existing.ok()) {
            auto m = existing->snapshot();
            if (m.ok() && static_cast<int64_t>(m->files.size()) == kFiles) return *existing;
        }
        std::filesystem::remove_all(dir);
        auto created = LakeTable::create(dir, "events", *schema());
        check(created);
        LakeWriterOptions options;
        options.writer_id = "plan-bench";
        options.staging = LakeStaging::kPrivate;
        options.max_file_rows = kRowsPerFile;  // one file per batch
        options.parquet.row_group_rows = kRowsPerFile;
        auto writer = LakeWriter::open(*created, options);
        check(writer);
        for (int64_t commit = 0; commit < kFiles / kFilesPerCommit; ++commit) {
            for (int64_t f = 0; f < kFilesPerCommit; ++f) {
                check((*writer)->write(rows((commit * kFilesPerCommit + f) * kRowsPerFile)));
            }
            check((*writer)->pre_commit(static_cast<uint64_t>(commit + 1)));
            check((*writer)->commit(static_cast<uint64_t>(commit + 1)));
        }
        return *created;
    }();
    return t;
}

LakeTable::ScanOptions filtered(bool use_statistics) {
    LakeTable::ScanOptions options;
    options.columns = {"id"};
    options.predicates = {{"id", CompareOp::kGe, Value::int64(kFirstId)},
                          {"id", CompareOp::kLt, Value::int64(kEndId)}};
    options.use_statistics = use_statistics;
    return options;
}

// Planning only: which files the filter needs (arg 1: pruning by statistics, 0: every file).
void BM_LakePlan10kFiles(benchmark::State& state) {
    const LakeTable& t = table();
    const LakeTable::ScanOptions options = filtered(state.range(0) != 0);
    std::size_t kept = 0, total = 0;
    for (auto _ : state) {
        auto plan = t.plan(options);
        check(plan);
        kept = plan->files.size();
        total = plan->files_total;
    }
    state.counters["files_kept"] = static_cast<double>(kept);
    state.counters["files_total"] = static_cast<double>(total);
}
BENCHMARK(BM_LakePlan10kFiles)
    ->ArgName("statistics")
    ->Arg(1)
    ->Arg(0)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// Planning and reading: the filtered count a query runs (arg as above).
void BM_LakeScan10kFiles(benchmark::State& state) {
    const LakeTable& t = table();
    const LakeTable::ScanOptions options = filtered(state.range(0) != 0);
    uint64_t matched = 0;
    for (auto _ : state) {
        matched = 0;
        auto stats = t.scan(options, [&](Batch batch) {
            for (std::size_t r = 0; r < batch.num_rows(); ++r) {
                const int64_t id = batch.column(0).value<int64_t>(r);
                matched += id >= kFirstId && id < kEndId;
            }
            return Status();
        });
        check(stats);
    }
    if (matched != static_cast<uint64_t>(kEndId - kFirstId)) {
        state.SkipWithError("wrong row count");
    }
    state.counters["rows_matched"] = static_cast<double>(matched);
}
BENCHMARK(BM_LakeScan10kFiles)
    ->ArgName("statistics")
    ->Arg(1)
    ->Arg(0)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace millrace
BENCHMARK_MAIN();
