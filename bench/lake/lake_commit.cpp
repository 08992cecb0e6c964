// Commit latency of concurrent writers on one lake table (bench/lake/run.sh runs it with 1 and
// with 4 writers in the same run). Each writer is a process of its own, as sinks of separate
// pipelines are, with a named LakeWriter (the streaming contract): per commit it writes one batch,
// pre-commits and commits it; the time of commit() (optimistic: read the newest metadata, write
// the manifest and manifest list, link(2) the next metadata version, re-apply on a lost race) is
// what is measured. Afterwards the table is read back: every row of every commit must be there
// (count, sum, rows per commit), and the manifest list of each snapshot names the attempt that
// won (`snap-<id>-<attempt>-<uuid>.avro`), which counts the lost races.
// Usage: lake_commit <data dir> <writers> <commits per writer> [rows per commit]
// Prints one JSON object.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "lake/lake_table.h"
#include "lake/lake_writer.h"

namespace millrace {
namespace {

const Schema& schema() {
    static const Schema s(std::vector<Field>{
        {"writer", DataType::kInt64, false},
        {"commit", DataType::kInt64, false},
        {"value", DataType::kInt64, false},
    });
    return s;
}

// Row i of commit c of writer w: value w * 1e9 + c * rows + i, so the sum is known.
int64_t row_value(int64_t writer, int64_t commit, int64_t rows, int64_t i) {
    return writer * 1'000'000'000 + commit * rows + i;
}

template <typename T>
void check(const Result<T>& result, const char* what) {
    if (!result.ok()) {
        std::fprintf(stderr, "lake_commit: %s: %s\n", what, result.error().to_string().c_str());
        std::exit(1);
    }
}

double now_ms() {
    return std::chrono::duration<double, std::milli>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// One writer process: waits for the start signal, then commits `commits` batches and writes its
// commit() latencies (ms, one a line) to `out`.
int run_writer(const std::string& dir, int64_t writer, int64_t commits, int64_t rows, int start_fd,
               const std::string& out) {
    char go = 0;
    if (::read(start_fd, &go, 1) < 0) return 1;
    auto table = LakeTable::open(dir, "commits");
    check(table, "open");
    LakeWriterOptions options;
    options.writer_id = "writer-" + std::to_string(writer);
    auto lake_writer = LakeWriter::open(*table, options);
    check(lake_writer, "writer");
    auto shared = std::make_shared<const Schema>(schema());
    std::vector<double> latencies;
    for (int64_t c = 1; c <= commits; ++c) {
        BatchBuilder builder(shared);
        for (int64_t i = 0; i < rows; ++i) {
            builder.column(0).append_int64(writer);
            builder.column(1).append_int64(c);
            builder.column(2).append_int64(row_value(writer, c, rows, i));
            builder.commit_row();
        }
        check((*lake_writer)->write(builder.finish()), "write");
        check((*lake_writer)->pre_commit(static_cast<uint64_t>(c)), "pre_commit");
        const double start = now_ms();
        check((*lake_writer)->commit(static_cast<uint64_t>(c)), "commit");
        latencies.push_back(now_ms() - start);
    }
    std::ofstream file(out);
    for (double ms : latencies) file << ms << "\n";
    return file.good() ? 0 : 1;
}

double percentile(std::vector<double> values, double p) {
    std::sort(values.begin(), values.end());
    const std::size_t rank = static_cast<std::size_t>(p / 100 * static_cast<double>(values.size()));
    return values[std::min(rank, values.size() - 1)];
}

int run(const std::string& dir, int64_t writers, int64_t commits, int64_t rows) {
    std::filesystem::remove_all(dir);
    check(LakeTable::create(dir, "commits", schema()), "create");
    int start[2];
    if (::pipe(start) != 0) return 1;
    std::vector<pid_t> children;
    for (int64_t w = 0; w < writers; ++w) {
        const pid_t pid = ::fork();
        if (pid < 0) return 1;
        if (pid == 0) {
            ::close(start[1]);
            std::_Exit(run_writer(dir, w, commits, rows, start[0],
                                  dir + "/latencies-" + std::to_string(w) + ".txt"));
        }
        children.push_back(pid);
    }
    ::close(start[0]);
    const double begin = now_ms();
    ::close(start[1]);  // every writer's read() returns: all start at once
    bool failed = false;
    for (pid_t pid : children) {
        int status = 0;
        ::waitpid(pid, &status, 0);
        failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    }
    const double wall_ms = now_ms() - begin;
    if (failed) {
        std::fprintf(stderr, "lake_commit: a writer failed\n");
        return 1;
    }
    std::vector<double> latencies;
    for (int64_t w = 0; w < writers; ++w) {
        std::ifstream file(dir + "/latencies-" + std::to_string(w) + ".txt");
        for (double ms = 0; file >> ms;) latencies.push_back(ms);
    }

    // Every row of every commit, read back.
    auto table = LakeTable::open(dir, "commits");
    check(table, "open");
    std::map<std::pair<int64_t, int64_t>, int64_t> rows_per_commit;
    int64_t count = 0, sum = 0, expected_sum = 0;
    check(table->scan({},
                      [&](Batch batch) {
                          for (std::size_t r = 0; r < batch.num_rows(); ++r) {
                              ++rows_per_commit[{batch.column(0).value<int64_t>(r),
                                                 batch.column(1).value<int64_t>(r)}];
                              sum += batch.column(2).value<int64_t>(r);
                              ++count;
                          }
                          return Status();
                      }),
          "scan");
    for (int64_t w = 0; w < writers; ++w) {
        for (int64_t c = 1; c <= commits; ++c) {
            for (int64_t i = 0; i < rows; ++i) expected_sum += row_value(w, c, rows, i);
        }
    }
    bool every_commit = static_cast<int64_t>(rows_per_commit.size()) == writers * commits;
    for (const auto& [key, n] : rows_per_commit) every_commit &= n == rows;

    // Lost races: the winning attempt of each snapshot is in its manifest list's name.
    auto current = table->current_snapshot_id();
    check(current, "snapshot id");
    int64_t retries = 0, max_attempt = 0, commits_retried = 0;
    for (uint64_t id = 1; id <= *current; ++id) {
        const std::string list = table->snapshot_file(id);
        const std::string prefix = "snap-" + std::to_string(id) + "-";
        const std::size_t at = list.rfind(prefix);
        if (at == std::string::npos) continue;
        const int64_t attempt = std::strtoll(list.c_str() + at + prefix.size(), nullptr, 10);
        retries += attempt - 1;
        commits_retried += attempt > 1;
        max_attempt = std::max(max_attempt, attempt);
    }
    const bool ok = count == writers * commits * rows && sum == expected_sum && every_commit &&
                    static_cast<int64_t>(*current) == writers * commits;
    std::printf(
        "{\"writers\":%lld,\"commits_per_writer\":%lld,\"rows_per_commit\":%lld,"
        "\"commit_ms\":{\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f},\"wall_ms\":%.1f,"
        "\"commits_per_s\":%.1f,\"snapshots\":%llu,\"retries\":%lld,\"commits_retried\":%lld,"
        "\"max_attempt\":%lld,\"rows\":%lld,\"rows_expected\":%lld,\"sum_ok\":%s,"
        "\"every_commit_whole\":%s,\"ok\":%s}\n",
        static_cast<long long>(writers), static_cast<long long>(commits),
        static_cast<long long>(rows), percentile(latencies, 50), percentile(latencies, 99),
        percentile(latencies, 100), wall_ms,
        static_cast<double>(writers * commits) / (wall_ms / 1000),
        static_cast<unsigned long long>(*current), static_cast<long long>(retries),
        static_cast<long long>(commits_retried), static_cast<long long>(max_attempt),
        static_cast<long long>(count), static_cast<long long>(writers * commits * rows),
        sum == expected_sum ? "true" : "false", every_commit ? "true" : "false",
        ok ? "true" : "false");
    return ok ? 0 : 2;
}

}  // namespace
}  // namespace millrace

int main(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr,
                     "usage: lake_commit <data dir> <writers> <commits per writer> [rows per "
                     "commit]\n");
        return 64;
    }
    const int64_t writers = std::atoll(argv[2]);
    const int64_t commits = std::atoll(argv[3]);
    const int64_t rows = argc > 4 ? std::atoll(argv[4]) : 1000;
    if (writers < 1 || commits < 1 || rows < 1) return 64;
    return millrace::run(argv[1], writers, commits, rows);
}
