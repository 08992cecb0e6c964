#include "log/partition.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "log/crc32c.h"
#include "log/partition_reader.h"
#include "log/segment.h"
#include "log/tests/log_test_dir.h"

namespace millrace {

namespace {

TopicConfig small_segments() {
    TopicConfig config;
    config.segment_bytes = 4096;
    return config;
}

std::string value_of(int i) { return "value-" + std::to_string(i) + std::string(100, 'x'); }

void append_values(Partition& partition, int from, int to, int64_t timestamp = 1000) {
    for (int i = from; i < to; ++i) {
        std::string value = value_of(i);
        RecordInput record{std::nullopt, value, timestamp + i};
        auto result = partition.append(std::span<const RecordInput>(&record, 1));
        ASSERT_TRUE(result.ok()) << result.error().to_string();
        ASSERT_EQ(result->first, i);
    }
}

std::vector<std::string> read_values(const Partition& partition, Offset from, Offset bound) {
    std::vector<std::string> values;
    std::string buffer;
    std::vector<RecordView> views;
    Offset expected = from;
    while (from < bound) {
        views.clear();
        auto next = partition.read(from, bound, 7, 1 << 20, buffer, views);
        EXPECT_TRUE(next.ok());
        if (!next.ok() || views.empty()) break;
        for (const RecordView& view : views) {
            EXPECT_EQ(view.offset, expected++);
            values.emplace_back(view.value);
        }
        from = *next;
    }
    return values;
}

std::string last_segment_log(const std::string& dir) {
    std::string last;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        const std::string path = entry.path().string();
        if (path.ends_with(".log") && path > last) last = path;
    }
    return last;
}

/// A Kafka producer's transactional batch of `values`.
std::string transactional_batch(int64_t producer_id, const std::vector<std::string>& values) {
    std::vector<RecordInput> records;
    for (const std::string& value : values) records.push_back({std::nullopt, value, 1000});
    std::string out;
    record_batch::encode(records, out);
    auto put = [&](std::size_t at, uint64_t value, int bytes) {
        for (int i = 0; i < bytes; ++i)
            out[at + i] = static_cast<char>(value >> (8 * (bytes - 1 - i)));
    };
    put(21, 0x10, 2);  // transactional
    put(43, static_cast<uint64_t>(producer_id), 8);
    put(51, 0, 2);
    put(53, 0, 4);
    put(17, crc32c(out.data() + 21, out.size() - 21), 4);
    return out;
}

void append_plain(Partition& partition, const std::string& value) {
    RecordInput record{std::nullopt, value, 1000};
    ASSERT_TRUE(partition.append(std::span<const RecordInput>(&record, 1)).ok());
}

void append_transactional(Partition& partition, int64_t producer_id,
                          const std::vector<std::string>& values) {
    std::string batch = transactional_batch(producer_id, values);
    auto appended = partition.append_encoded(batch);
    ASSERT_TRUE(appended.ok()) << appended.error().to_string();
}

/// Everything a PartitionReader yields from `from` up to the end.
std::vector<std::string> read_all(const std::shared_ptr<Partition>& partition, Offset from = 0,
                                  std::size_t max_records = 4096) {
    PartitionReader reader(partition, from, partition->end_offset());
    std::vector<std::string> values;
    std::vector<RecordView> views;
    while (true) {
        auto more = reader.next(views, max_records);
        EXPECT_TRUE(more.ok());
        if (!more.ok() || !*more) break;
        for (const RecordView& view : views) values.emplace_back(view.value);
    }
    return values;
}

}  // namespace

TEST(Partition, ReadersStopAtTheLastStableOffsetAndSkipAbortedTransactions) {
    LogTestDir dir;
    const std::string path = dir.path() + "/0";
    {
        auto opened = Partition::open(path, 0, TopicConfig{});
        ASSERT_TRUE(opened.ok());
        const std::shared_ptr<Partition>& partition = *opened;
        append_plain(*partition, "before");                 // 0
        append_transactional(*partition, 7, {"c1", "c2"});  // 1-2, committed below
        append_transactional(*partition, 8, {"a1"});        // 3, aborted below
        append_plain(*partition, "plain");                  // 4
        EXPECT_EQ(partition->stable_offset(), 1);
        EXPECT_EQ(read_all(partition), (std::vector<std::string>{"before"}));
        ASSERT_TRUE(partition->append_marker(7, 0, true, 2000).ok());  // 5
        EXPECT_EQ(partition->stable_offset(), 3);
        EXPECT_EQ(read_all(partition), (std::vector<std::string>{"before", "c1", "c2"}));
        ASSERT_TRUE(partition->append_marker(8, 0, false, 2000).ok());  // 6
        EXPECT_EQ(partition->stable_offset(), partition->end_offset());
        const auto aborted = partition->aborted_transactions(0, 100);
        ASSERT_EQ(aborted.size(), 1u);
        EXPECT_EQ(aborted[0].producer_id, 8);
        EXPECT_EQ(aborted[0].first_offset, 3);
        EXPECT_EQ(aborted[0].last_offset, 6);
        EXPECT_TRUE(partition->aborted_transactions(7, 100).empty());
        append_transactional(*partition, 9, {"open"});  // 7, left open
        append_plain(*partition, "after");              // 8
    }
    // The state survives a reopen: the aborted batch stays hidden, the open one holds readers.
    auto reopened = Partition::open(path, 0, TopicConfig{});
    ASSERT_TRUE(reopened.ok());
    const std::shared_ptr<Partition>& partition = *reopened;
    EXPECT_EQ(partition->stable_offset(), 7);
    EXPECT_EQ(read_all(partition), (std::vector<std::string>{"before", "c1", "c2", "plain"}));
    // One record at a time: a chunk holding only a marker or an aborted batch is read past.
    EXPECT_EQ(read_all(partition, 0, 1), (std::vector<std::string>{"before", "c1", "c2", "plain"}));
    EXPECT_EQ(read_all(partition, 5, 1), std::vector<std::string>{});
    ASSERT_TRUE(partition->append_marker(9, 0, true, 3000).ok());
    EXPECT_EQ(read_all(partition),
              (std::vector<std::string>{"before", "c1", "c2", "plain", "open", "after"}));
    // A control batch from elsewhere is refused: markers come from append_marker only.
    std::string marker;
    record_batch::encode_control(9, 0, true, 1000, marker);
    EXPECT_FALSE(partition->append_encoded(marker).ok());
}

TEST(Partition, AppendsRollsAndReadsAcrossSegments) {
    LogTestDir dir;
    auto partition = Partition::open(dir.path() + "/0", 0, small_segments());
    ASSERT_TRUE(partition.ok());
    append_values(**partition, 0, 200);
    EXPECT_GT((*partition)->segment_count(), 3);
    EXPECT_EQ((*partition)->end_offset(), 200);
    const auto values = read_values(**partition, 0, 200);
    ASSERT_EQ(values.size(), 200u);
    for (int i = 0; i < 200; ++i) EXPECT_EQ(values[static_cast<std::size_t>(i)], value_of(i));
    // From the middle (index lookup), up to a bound.
    const auto middle = read_values(**partition, 123, 150);
    ASSERT_EQ(middle.size(), 27u);
    EXPECT_EQ(middle.front(), value_of(123));
    EXPECT_EQ(middle.back(), value_of(149));
}

TEST(Partition, ReopensWithSameContents) {
    LogTestDir dir;
    {
        auto partition = Partition::open(dir.path() + "/0", 0, small_segments());
        ASSERT_TRUE(partition.ok());
        append_values(**partition, 0, 100);
    }
    auto partition = Partition::open(dir.path() + "/0", 0, small_segments());
    ASSERT_TRUE(partition.ok());
    EXPECT_EQ((*partition)->end_offset(), 100);
    EXPECT_EQ((*partition)->recovered_truncated_bytes(), 0u);
    append_values(**partition, 100, 120);
    EXPECT_EQ(read_values(**partition, 0, 120).size(), 120u);
    EXPECT_EQ(read_values(**partition, 95, 105).front(), value_of(95));
}

TEST(Partition, RecoveryTruncatesTornTail) {
    LogTestDir dir;
    {
        auto partition = Partition::open(dir.path() + "/0", 0, TopicConfig{});
        ASSERT_TRUE(partition.ok());
        append_values(**partition, 0, 10);
    }
    const std::string log = last_segment_log(dir.path() + "/0");
    const auto size = std::filesystem::file_size(log);
    std::filesystem::resize_file(log, size - 7);  // half of the last batch
    auto partition = Partition::open(dir.path() + "/0", 0, TopicConfig{});
    ASSERT_TRUE(partition.ok());
    EXPECT_EQ((*partition)->end_offset(), 9);
    EXPECT_GT((*partition)->recovered_truncated_bytes(), 0u);
    append_values(**partition, 9, 12);
    EXPECT_EQ(read_values(**partition, 0, 12).size(), 12u);
}

TEST(Partition, RecoveryKeepsDamageInTheMiddleAndCutsOnlyTheTornTail) {
    LogTestDir dir;
    {
        auto partition = Partition::open(dir.path() + "/0", 0, TopicConfig{});
        ASSERT_TRUE(partition.ok());
        append_values(**partition, 0, 10);
    }
    const std::string log = last_segment_log(dir.path() + "/0");
    const auto size = std::filesystem::file_size(log);
    const auto batch = size / 10;
    {
        const int fd = ::open(log.c_str(), O_WRONLY);
        ASSERT_GE(fd, 0);
        const char flip = 0x33;
        ASSERT_EQ(::pwrite(fd, &flip, 1, static_cast<off_t>(batch * 6 + 80)),
                  1);  // batch 6's value
        const std::string zeros(5000, '\0');
        ASSERT_EQ(::pwrite(fd, zeros.data(), zeros.size(), static_cast<off_t>(size)),
                  static_cast<ssize_t>(zeros.size()));
        ::close(fd);
    }
    auto partition = Partition::open(dir.path() + "/0", 0, TopicConfig{});
    ASSERT_TRUE(partition.ok());
    // The garbage after the last batch is a torn tail; the damaged batch 6 is kept and
    // reported, and batches 7..9 after it are not lost.
    EXPECT_EQ((*partition)->end_offset(), 10);
    EXPECT_EQ(std::filesystem::file_size(log), size);
    ASSERT_EQ((*partition)->damage().size(), 1u);
    EXPECT_EQ((*partition)->damage()[0].first_offset, 6);
    EXPECT_EQ((*partition)->damage()[0].end_offset, 7);
    EXPECT_NE((*partition)->damage()[0].description.find(log), std::string::npos);
    // Readers get what precedes the damage, then an error naming it; past it they read on.
    std::string buffer;
    std::vector<RecordView> views;
    auto first = (*partition)->read(0, 10, 100, 1 << 20, buffer, views);
    ASSERT_TRUE(first.ok());
    ASSERT_EQ(views.size(), 6u);
    EXPECT_EQ(*first, 6);
    views.clear();
    auto damaged = (*partition)->read(6, 10, 100, 1 << 20, buffer, views);
    ASSERT_FALSE(damaged.ok());
    EXPECT_EQ(damaged.error().code(), ErrorCode::kCorruption);
    EXPECT_NE(damaged.error().message().find(log), std::string::npos);
    EXPECT_EQ(read_values(**partition, 7, 10),
              (std::vector<std::string>{value_of(7), value_of(8), value_of(9)}));
    // Appends continue after the highest offset, never reusing one.
    append_values(**partition, 10, 12);
    EXPECT_EQ(read_values(**partition, 7, 12).size(), 5u);
}

TEST(Partition, DamageInASealedSegmentIsNeverReadAsData) {
    LogTestDir dir;
    std::string first_segment;
    {
        auto partition = Partition::open(dir.path() + "/0", 0, small_segments());
        ASSERT_TRUE(partition.ok());
        append_values(**partition, 0, 100);
        ASSERT_GT((*partition)->segment_count(), 2);
    }
    first_segment = segment_path_prefix(dir.path() + "/0", 0) + ".log";
    {
        const int fd = ::open(first_segment.c_str(), O_WRONLY);
        ASSERT_GE(fd, 0);
        const char flip = 'Q';
        ASSERT_EQ(::pwrite(fd, &flip, 1, 80), 1);  // record 0's value, after its index was built
        ::close(fd);
    }
    auto partition = Partition::open(dir.path() + "/0", 0, small_segments());
    ASSERT_TRUE(partition.ok());
    EXPECT_EQ((*partition)->end_offset(), 100);
    std::string buffer;
    std::vector<RecordView> views;
    auto damaged = (*partition)->read(0, 100, 100, 1 << 20, buffer, views);
    ASSERT_FALSE(damaged.ok());
    EXPECT_EQ(damaged.error().code(), ErrorCode::kCorruption);
    EXPECT_NE(damaged.error().message().find(first_segment), std::string::npos);
    EXPECT_NE(damaged.error().message().find("offsets [0, 1)"), std::string::npos)
        << damaged.error().message();
    EXPECT_EQ(read_values(**partition, 1, 100).size(), 99u);
}

TEST(Partition, RetentionBySizeAndAge) {
    LogTestDir dir;
    TopicConfig config = small_segments();
    config.retention_bytes = 8192;
    auto partition = Partition::open(dir.path() + "/0", 0, config);
    ASSERT_TRUE(partition.ok());
    append_values(**partition, 0, 300);
    const int before = (*partition)->segment_count();
    auto removed = (*partition)->apply_retention(0);
    ASSERT_TRUE(removed.ok());
    EXPECT_GT(*removed, 0);
    EXPECT_EQ((*partition)->segment_count(), before - *removed);
    EXPECT_LE((*partition)->size_bytes(), 8192u);
    EXPECT_GT((*partition)->start_offset(), 0);
    std::string buffer;
    std::vector<RecordView> views;
    auto gone = (*partition)->read(0, 300, 10, 1 << 20, buffer, views);
    ASSERT_FALSE(gone.ok());
    EXPECT_EQ(gone.error().code(), ErrorCode::kOutOfRange);

    LogTestDir aged;
    TopicConfig by_age = small_segments();
    by_age.retention_ms = 1000;
    auto old = Partition::open(aged.path() + "/0", 0, by_age);
    ASSERT_TRUE(old.ok());
    append_values(**old, 0, 100, /*timestamp=*/1000);
    ASSERT_EQ(*(*old)->apply_retention(1500), 0);  // everything younger than 1 s
    auto dropped = (*old)->apply_retention(1'000'000);
    ASSERT_TRUE(dropped.ok());
    EXPECT_EQ((*old)->segment_count(), 1);  // a fresh, empty active segment
    EXPECT_EQ((*old)->end_offset(), 100);
    EXPECT_EQ((*old)->start_offset(), 100);  // an idle topic's records age out too
    append_values(**old, 100, 101, /*timestamp=*/1'000'000);
    ASSERT_EQ(*(*old)->apply_retention(1'000'500), 0);
    EXPECT_EQ((*old)->start_offset(), 100);
}

TEST(Partition, DurableCallbacksRunAfterSync) {
    LogTestDir dir;
    auto partition = Partition::open(dir.path() + "/0", 0, TopicConfig{});
    ASSERT_TRUE(partition.ok());
    append_values(**partition, 0, 3);
    int called = 0;
    (*partition)->when_durable(3, [&](Status status) {
        EXPECT_TRUE(status.ok());
        ++called;
    });
    EXPECT_EQ(called, 0);
    ASSERT_TRUE((*partition)->sync().ok());
    EXPECT_EQ(called, 1);
    EXPECT_EQ((*partition)->durable_offset(), 3);
    (*partition)->when_durable(2, [&](Status) { ++called; });
    EXPECT_EQ(called, 2);
}

TEST(Partition, OffsetForTime) {
    LogTestDir dir;
    auto partition = Partition::open(dir.path() + "/0", 0, small_segments());
    ASSERT_TRUE(partition.ok());
    append_values(**partition, 0, 200, /*timestamp=*/10'000);
    const Offset at = (*partition)->offset_for_time(10'150);
    EXPECT_LE(at, 150);
    EXPECT_GE(at, 100);
    EXPECT_EQ((*partition)->offset_for_time(99'999'999), 200);
}

}  // namespace millrace
