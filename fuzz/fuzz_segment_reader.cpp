// libFuzzer target: arbitrary bytes as the active segment of a partition. Recovery must never
// crash; it cuts only a torn tail (nothing valid after it) and keeps damage followed by valid
// batches, which readers get as kCorruption for exactly the damaged offsets; every other record
// must read back; the partition must accept appends afterwards and reopen with the same end
// offset.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

#include "common/check.h"
#include "log/partition.h"
#include "log/segment.h"

namespace {

using namespace millrace;

const std::string& work_dir() {
    static const std::string dir = [] {
        std::string pattern =
            std::filesystem::temp_directory_path().string() + "/fuzz-segment-XXXXXX";
        return std::string(::mkdtemp(pattern.data()));
    }();
    return dir;
}

/// Records read plus offsets inside damaged ranges (skipped after their kCorruption).
Offset count_records(const Partition& partition) {
    std::string buffer;
    std::vector<RecordView> views;
    Offset from = partition.start_offset();
    Offset count = 0;
    while (from < partition.end_offset()) {
        views.clear();
        auto next = partition.read(from, partition.end_offset(), 1000, 1 << 20, buffer, views);
        if (!next.ok()) {
            MILLRACE_CHECK(next.error().code() == ErrorCode::kCorruption,
                           "reading a recovered partition failed");
            const Offset before = from;
            for (const PartitionDamage& damage : partition.damage()) {
                if (damage.first_offset <= from && from < damage.end_offset) {
                    count += damage.end_offset - from;
                    from = damage.end_offset;
                }
            }
            MILLRACE_CHECK(from != before, "a read error outside every damaged range");
            continue;
        }
        MILLRACE_CHECK(!views.empty(), "no progress reading a recovered partition");
        for (const RecordView& view : views) {
            MILLRACE_CHECK(view.offset == from + (&view - views.data()), "offsets not dense");
        }
        count += static_cast<Offset>(views.size());
        from = *next;
    }
    return count;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    const std::string dir = work_dir() + "/0";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    {
        FILE* file = std::fopen((segment_path_prefix(dir, 0) + ".log").c_str(), "wb");
        std::fwrite(data, 1, size, file);
        std::fclose(file);
    }
    TopicConfig config;
    config.segment_bytes = 1 << 20;
    Offset end = 0;
    {
        auto partition = Partition::open(dir, 0, config);
        MILLRACE_CHECK(partition.ok(), "recovery must not fail on bad bytes");
        end = (*partition)->end_offset();
        MILLRACE_CHECK(count_records(**partition) == end, "recovered records do not all read");
        RecordInput record{std::nullopt, "after recovery", 1};
        auto appended = (*partition)->append(std::span<const RecordInput>(&record, 1));
        MILLRACE_CHECK(appended.ok() && appended->first == end, "append after recovery");
    }
    auto reopened = Partition::open(dir, 0, config);
    MILLRACE_CHECK(reopened.ok() && (*reopened)->end_offset() == end + 1, "reopen after recovery");
    MILLRACE_CHECK((*reopened)->recovered_truncated_bytes() == 0, "second recovery cut bytes");
    return 0;
}
