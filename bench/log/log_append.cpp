// Log append throughput: `--mb` MiB of `--record-bytes` records in batches of `--batch`
// appended to one partition with the given fsync policy (the Log's flusher thread syncs every
// `--interval-ms` for `interval`). Prints one JSON line with MB/s and the bytes written per
// fsync interval, which bench/log/run.sh hands to dd to reproduce the same cadence.
//   log_append <dir> [--mb 512] [--record-bytes 1024] [--batch 100] [--fsync interval]
//              [--interval-ms 50]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "common/clock.h"
#include "log/log.h"

using namespace millrace;

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr,
                     "usage: log_append <dir> [--mb N] [--record-bytes N] [--batch N] "
                     "[--fsync always|interval|never] [--interval-ms N]\n");
        return 2;
    }
    const std::string dir = argv[1];
    int64_t megabytes = 512;
    std::size_t record_bytes = 1024;
    std::size_t batch = 100;
    std::string fsync = "interval";
    int64_t interval_ms = 50;
    for (int i = 2; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        const char* value = argv[i + 1];
        if (flag == "--mb") megabytes = std::atoll(value);
        if (flag == "--record-bytes") record_bytes = static_cast<std::size_t>(std::atoll(value));
        if (flag == "--batch") batch = static_cast<std::size_t>(std::atoll(value));
        if (flag == "--fsync") fsync = value;
        if (flag == "--interval-ms") interval_ms = std::atoll(value);
    }
    std::filesystem::remove_all(dir);
    SystemClock clock;
    auto log = Log::open(dir, clock);
    if (!log.ok()) {
        std::fprintf(stderr, "%s\n", log.error().to_string().c_str());
        return 1;
    }
    TopicConfig config;
    config.fsync = fsync == "always"  ? FsyncPolicy::kAlways
                   : fsync == "never" ? FsyncPolicy::kNever
                                      : FsyncPolicy::kInterval;
    config.fsync_interval = std::chrono::milliseconds(interval_ms);
    config.segment_bytes = int64_t{1} << 30;
    auto topic = (*log)->create_topic("bench", config);
    if (!topic.ok()) return 1;
    std::vector<std::string> values(batch);
    for (std::size_t i = 0; i < batch; ++i) {
        values[i] = std::string(record_bytes, static_cast<char>('a' + i % 26));
    }
    std::vector<RecordInput> records;
    for (std::size_t i = 0; i < batch; ++i) records.push_back({std::nullopt, values[i], 0});
    const int64_t target = megabytes << 20;
    int64_t written = 0;
    int64_t batches = 0;
    const auto start = std::chrono::steady_clock::now();
    while (written < target) {
        const int64_t now_ms = clock.now_micros() / 1000;
        for (auto& record : records) record.timestamp_ms = now_ms;
        auto appends = (*topic)->append(records);
        if (!appends.ok()) return 1;
        if (config.fsync == FsyncPolicy::kAlways && !(*topic)->wait_durable(*appends).ok())
            return 1;
        written = static_cast<int64_t>((*topic)->partition(0)->size_bytes());
        ++batches;
    }
    (*log)->stop();  // the last interval's fsync is part of the run
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double batch_bytes = static_cast<double>(written) / static_cast<double>(batches);
    const double mb_per_s = static_cast<double>(written) / seconds / 1e6;
    std::printf(
        "{\"bytes\":%lld,\"seconds\":%.3f,\"mb_per_s\":%.1f,\"records_per_s\":%.0f,"
        "\"batch_bytes\":%.0f,\"batches_per_interval\":%.0f}\n",
        static_cast<long long>(written), seconds, mb_per_s,
        static_cast<double>(batches * static_cast<int64_t>(batch)) / seconds, batch_bytes,
        static_cast<double>(batches) / seconds * static_cast<double>(interval_ms) / 1000.0);
    std::filesystem::remove_all(dir);
    return 0;
}
