#include "log/log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "log/partition_reader.h"
#include "log/tests/log_test_dir.h"

namespace millrace {

TEST(Log, CreatesListsReopensAndDeletesTopics) {
    LogTestDir dir;
    SystemClock clock;
    TopicConfig config;
    config.partitions = 3;
    config.fsync = FsyncPolicy::kAlways;
    config.schema = "id: int64 not null";
    config.capture = {{"ua", "header:User-Agent"}};
    {
        auto log = Log::open(dir.path(), clock);
        ASSERT_TRUE(log.ok());
        auto topic = (*log)->create_topic("events", config);
        ASSERT_TRUE(topic.ok()) << topic.error().to_string();
        EXPECT_EQ((*log)->create_topic("events", config).error().code(), ErrorCode::kAlreadyExists);
        EXPECT_EQ((*log)->create_topic("_x", config).error().code(), ErrorCode::kInvalidArgument);
        EXPECT_EQ((*log)->create_topic("a/b", config).error().code(), ErrorCode::kInvalidArgument);
        std::vector<RecordInput> records;
        for (int i = 0; i < 30; ++i) records.push_back({std::nullopt, "{\"id\":1}", i});
        auto appends = (*topic)->append(records);
        ASSERT_TRUE(appends.ok());
        ASSERT_TRUE((*topic)->wait_durable(*appends).ok());
        ASSERT_TRUE((*log)->create_topic("other", TopicConfig{}).ok());
        EXPECT_EQ((*log)->list_topics(), (std::vector<std::string>{"events", "other"}));
    }
    auto log = Log::open(dir.path(), clock);
    ASSERT_TRUE(log.ok());
    auto topic = (*log)->find_topic("events");
    ASSERT_NE(topic, nullptr);
    EXPECT_EQ(topic->partition_count(), 3);
    EXPECT_EQ(topic->config().fsync, FsyncPolicy::kAlways);
    EXPECT_EQ(topic->config().schema, "id: int64 not null");
    ASSERT_EQ(topic->config().capture.size(), 1u);
    Offset total = 0;
    for (PartitionId p = 0; p < 3; ++p) total += topic->partition(p)->end_offset();
    EXPECT_EQ(total, 30);
    ASSERT_TRUE((*log)->delete_topic("events").ok());
    EXPECT_EQ((*log)->find_topic("events"), nullptr);
    EXPECT_EQ((*log)->delete_topic("events").error().code(), ErrorCode::kNotFound);
    EXPECT_EQ((*log)->list_topics(), (std::vector<std::string>{"other"}));
}

TEST(Log, DescribeShowsCommittedConsumersWithTheirLag) {
    LogTestDir dir;
    SystemClock clock;
    auto log = Log::open(dir.path(), clock);
    ASSERT_TRUE(log.ok());
    TopicConfig config;
    config.partitions = 2;
    auto topic = (*log)->create_topic("events", config);
    ASSERT_TRUE(topic.ok());
    std::vector<RecordInput> records(5, RecordInput{std::string_view("k"), "v", 1});
    ASSERT_TRUE((*topic)->append(records).ok());
    const PartitionId keyed = (*topic)->partition_for_key("k");
    ASSERT_TRUE((*log)->consumer_offsets().commit("billing", "events", keyed, 3).ok());
    EXPECT_EQ((*topic)->describe_json().find("consumers"), std::string::npos);
    const std::string described = (*topic)->describe_json(&(*log)->consumer_offsets());
    EXPECT_NE(
        described.find("\"consumers\":[{\"consumer\":\"billing\",\"partitions\":[{\"partition\":" +
                       std::to_string(keyed) + ",\"offset\":3,\"lag\":2}]}]"),
        std::string::npos)
        << described;
}

TEST(Log, KeysChoosePartitionsAndReaderStopsAtBound) {
    LogTestDir dir;
    SystemClock clock;
    auto log = Log::open(dir.path(), clock);
    ASSERT_TRUE(log.ok());
    TopicConfig config;
    config.partitions = 4;
    auto topic = (*log)->create_topic("keyed", config);
    ASSERT_TRUE(topic.ok());
    std::vector<std::string> keys = {"alice", "bob", "carol", "dave", "erin"};
    std::vector<std::string> values;
    for (int i = 0; i < 50; ++i) values.push_back("v" + std::to_string(i % 10));
    std::vector<RecordInput> records;
    for (int i = 0; i < 50; ++i) {
        records.push_back({std::string_view(keys[static_cast<std::size_t>(i) % keys.size()]),
                           values[static_cast<std::size_t>(i)], i});
    }
    ASSERT_TRUE((*topic)->append(records).ok());
    const PartitionId alice = (*topic)->partition_for_key("alice");
    const auto& partition = (*topic)->partition(alice);
    const Offset bound = partition->end_offset();
    ASSERT_TRUE((*topic)->append(records).ok());  // after the bound: not read
    PartitionReader reader(partition, 0, bound);
    std::vector<RecordView> views;
    int alice_count = 0;
    Offset expected = 0;
    while (true) {
        auto more = reader.next(views, 3);
        ASSERT_TRUE(more.ok());
        if (!*more) break;
        for (const RecordView& view : views) {
            EXPECT_EQ(view.offset, expected++);
            ASSERT_TRUE(view.key.has_value());
            EXPECT_EQ((*topic)->partition_for_key(*view.key), alice);
            alice_count += *view.key == "alice" ? 1 : 0;
        }
    }
    EXPECT_EQ(alice_count, 10);
    EXPECT_EQ(reader.position(), bound);
}

TEST(Log, GroupCommitFromManyThreads) {
    LogTestDir dir;
    SystemClock clock;
    auto log = Log::open(dir.path(), clock);
    ASSERT_TRUE(log.ok());
    TopicConfig config;
    config.fsync = FsyncPolicy::kAlways;
    auto topic = (*log)->create_topic("sync", config);
    ASSERT_TRUE(topic.ok());
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 25; ++i) {
                RecordInput record{std::nullopt, "x", i};
                auto appends = (*topic)->append(std::span<const RecordInput>(&record, 1));
                ASSERT_TRUE(appends.ok());
                ASSERT_TRUE((*topic)->wait_durable(*appends).ok());
                EXPECT_GT((*topic)->partition(0)->durable_offset(), appends->front().last);
            }
        });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ((*topic)->partition(0)->end_offset(), 100);
}

namespace {

std::string active_segment(const std::string& partition_dir) {
    std::string last;
    for (const auto& entry : std::filesystem::directory_iterator(partition_dir)) {
        const std::string path = entry.path().string();
        if (path.ends_with(".log") && path > last) last = path;
    }
    return last;
}

/// Appends `count` records to partition 0 of `topic`, one batch each, and syncs them.
void append_one_by_one(Topic& topic, int from, int count) {
    for (int i = from; i < from + count; ++i) {
        const std::string value = "record-" + std::to_string(i) + std::string(200, 'v');
        RecordInput record{std::nullopt, value, i};
        auto appends = topic.append(std::span<const RecordInput>(&record, 1));
        ASSERT_TRUE(appends.ok());
        ASSERT_EQ(appends->front().first, i);
    }
    ASSERT_TRUE(topic.sync_all().ok());
}

void flip_byte(const std::string& path, uint64_t position) {
    const int fd = ::open(path.c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    char byte = 0;
    ASSERT_EQ(::pread(fd, &byte, 1, static_cast<off_t>(position)), 1);
    byte = static_cast<char>(byte ^ 0x5a);
    ASSERT_EQ(::pwrite(fd, &byte, 1, static_cast<off_t>(position)), 1);
    ::close(fd);
}

/// Every record of partition 0 from `from`, skipping damaged ranges (counted in `errors`).
std::vector<Offset> read_all_offsets(Topic& topic, Offset from, int& errors) {
    std::vector<Offset> offsets;
    const auto& partition = topic.partition(0);
    const Offset end = partition->end_offset();
    std::string buffer;
    std::vector<RecordView> views;
    while (from < end) {
        views.clear();
        auto next = partition->read(from, end, 1000, 1 << 20, buffer, views);
        if (!next.ok()) {
            ++errors;
            EXPECT_EQ(next.error().code(), ErrorCode::kCorruption);
            const Offset before = from;
            for (const PartitionDamage& damage : partition->damage()) {
                if (damage.first_offset <= from && from < damage.end_offset) {
                    from = damage.end_offset;
                }
            }
            if (from == before) break;
            continue;
        }
        for (const RecordView& view : views) offsets.push_back(view.offset);
        if (views.empty()) break;
        from = *next;
    }
    return offsets;
}

}  // namespace

TEST(Log, FlippedByteInTheMiddleOfADurableSegmentLosesNothingAfterIt) {
    LogTestDir dir;
    SystemClock clock;
    std::string segment;
    uint64_t size = 0;
    {
        auto log = Log::open(dir.path(), clock);
        ASSERT_TRUE(log.ok());
        auto topic = (*log)->create_topic("events", TopicConfig{});
        ASSERT_TRUE(topic.ok());
        append_one_by_one(**topic, 0, 100);
        segment = active_segment(dir.path() + "/log/events/0");
        size = std::filesystem::file_size(segment);
    }
    flip_byte(segment, size / 2);
    auto log = Log::open(dir.path(), clock);
    ASSERT_TRUE(log.ok()) << log.error().to_string();
    auto topic = (*log)->find_topic("events");
    ASSERT_NE(topic, nullptr);
    EXPECT_EQ(std::filesystem::file_size(segment), size);  // nothing cut
    EXPECT_EQ(topic->partition(0)->end_offset(), 100);
    const std::vector<std::string> damage = (*log)->damage();
    ASSERT_EQ(damage.size(), 1u);
    EXPECT_NE(damage[0].find(segment), std::string::npos) << damage[0];
    int errors = 0;
    const std::vector<Offset> offsets = read_all_offsets(*topic, 0, errors);
    EXPECT_EQ(errors, 1);
    EXPECT_EQ(offsets.size(), 99u);  // one batch of one record is damaged
    EXPECT_EQ(offsets.back(), 99);
    append_one_by_one(*topic, 100, 1);  // a fresh offset, none reused
}

TEST(Log, NoFlippedByteOfABatchLosesTheBatchesAfterIt) {
    LogTestDir dir;
    SystemClock clock;
    std::string segment;
    uint64_t size = 0;
    {
        auto log = Log::open(dir.path(), clock);
        ASSERT_TRUE(log.ok());
        auto topic = (*log)->create_topic("events", TopicConfig{});
        ASSERT_TRUE(topic.ok());
        append_one_by_one(**topic, 0, 20);
        segment = active_segment(dir.path() + "/log/events/0");
        size = std::filesystem::file_size(segment);
    }
    const uint64_t batch = size / 20;  // equal-sized batches
    // Every header byte, then every fifth byte of the records.
    for (uint64_t at = batch * 10; at < batch * 11; at += at < batch * 10 + 61 ? 1 : 5) {
        flip_byte(segment, at);
        {
            auto log = Log::open(dir.path(), clock);
            ASSERT_TRUE(log.ok());
            auto topic = (*log)->find_topic("events");
            ASSERT_EQ(topic->partition(0)->end_offset(), 20) << "byte " << at;
            ASSERT_EQ(std::filesystem::file_size(segment), size) << "byte " << at;
            ASSERT_LE((*log)->damage().size(), 1u) << "byte " << at;
            int errors = 0;
            const std::vector<Offset> offsets = read_all_offsets(*topic, 0, errors);
            // Bytes outside the CRC (the leader epoch) may change unnoticed; anything else
            // costs batch 10 alone.
            ASSERT_GE(offsets.size(), 19u) << "byte " << at;
            ASSERT_EQ(offsets.back(), 19) << "byte " << at;
            ASSERT_EQ(static_cast<std::size_t>(errors), (*log)->damage().size());
        }
        flip_byte(segment, at);  // restore
    }
}

TEST(Log, DamageInTheLastDurableBatchIsKeptNotCut) {
    LogTestDir dir;
    SystemClock clock;
    std::string segment;
    uint64_t size = 0;
    {
        auto log = Log::open(dir.path(), clock);
        ASSERT_TRUE(log.ok());
        auto topic = (*log)->create_topic("events", TopicConfig{});
        ASSERT_TRUE(topic.ok());
        append_one_by_one(**topic, 0, 10);
        segment = active_segment(dir.path() + "/log/events/0");
        size = std::filesystem::file_size(segment);
    }  // stop() saved the durable checkpoint
    flip_byte(segment, size - 20);
    {
        auto log = Log::open(dir.path(), clock);
        ASSERT_TRUE(log.ok());
        auto topic = (*log)->find_topic("events");
        EXPECT_EQ(std::filesystem::file_size(segment), size);
        EXPECT_EQ(topic->partition(0)->end_offset(), 10);
        ASSERT_EQ((*log)->damage().size(), 1u);
        EXPECT_NE((*log)->damage()[0].find("offsets [9, 10)"), std::string::npos);
        append_one_by_one(*topic, 10, 2);
    }
    auto log = Log::open(dir.path(), clock);
    ASSERT_TRUE(log.ok());
    int errors = 0;
    const std::vector<Offset> offsets = read_all_offsets(*(*log)->find_topic("events"), 0, errors);
    EXPECT_EQ(errors, 1);
    EXPECT_EQ(offsets, (std::vector<Offset>{0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11}));
}

TEST(Log, TornTailBeyondTheCheckpointIsStillCut) {
    LogTestDir dir;
    SystemClock clock;
    std::string segment;
    uint64_t size = 0;
    {
        auto log = Log::open(dir.path(), clock);
        ASSERT_TRUE(log.ok());
        auto topic = (*log)->create_topic("events", TopicConfig{});
        ASSERT_TRUE(topic.ok());
        append_one_by_one(**topic, 0, 10);
        segment = active_segment(dir.path() + "/log/events/0");
        size = std::filesystem::file_size(segment);
    }
    {
        // Half a batch written after the last checkpoint: what a crash mid-append leaves.
        const int fd = ::open(segment.c_str(), O_WRONLY | O_APPEND);
        ASSERT_GE(fd, 0);
        const std::string partial(150, '\x07');
        ASSERT_EQ(::write(fd, partial.data(), partial.size()), 150);
        ::close(fd);
    }
    auto log = Log::open(dir.path(), clock);
    ASSERT_TRUE(log.ok());
    EXPECT_EQ(std::filesystem::file_size(segment), size);
    EXPECT_TRUE((*log)->damage().empty());
    auto topic = (*log)->find_topic("events");
    EXPECT_EQ(topic->partition(0)->end_offset(), 10);
    EXPECT_EQ(topic->partition(0)->recovered_truncated_bytes(), 150u);
}

TEST(Log, OneWriterPerDataDirectoryAndReadersBesideIt) {
    LogTestDir dir;
    SystemClock clock;
    LogOptions writer_options;
    writer_options.command = "millrace serve";
    auto writer = Log::open(dir.path(), clock, writer_options);
    ASSERT_TRUE(writer.ok());
    auto topic = (*writer)->create_topic("events", TopicConfig{});
    ASSERT_TRUE(topic.ok());
    append_one_by_one(**topic, 0, 5);

    auto second = Log::open(dir.path(), clock);
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.error().code(), ErrorCode::kUnavailable);
    EXPECT_NE(second.error().message().find("process " + std::to_string(::getpid()) +
                                            " (millrace serve)"),
              std::string::npos)
        << second.error().message();

    LogOptions reader_options;
    reader_options.access = LogAccess::kReadOnly;
    auto reader = Log::open(dir.path(), clock, reader_options);
    ASSERT_TRUE(reader.ok()) << reader.error().to_string();
    auto seen = (*reader)->find_topic("events");
    ASSERT_NE(seen, nullptr);
    EXPECT_EQ(seen->partition(0)->end_offset(), 5);
    int errors = 0;
    EXPECT_EQ(read_all_offsets(*seen, 0, errors).size(), 5u);
    RecordInput record{std::nullopt, "x", 0};
    auto refused = seen->append(std::span<const RecordInput>(&record, 1));
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code(), ErrorCode::kUnavailable);
    EXPECT_EQ((*reader)->create_topic("other", TopicConfig{}).error().code(),
              ErrorCode::kUnavailable);
    EXPECT_EQ((*reader)->consumer_offsets().commit("c", "events", 0, 1).error().code(),
              ErrorCode::kUnavailable);
    // The writer goes on; its lock is released when it closes.
    append_one_by_one(**topic, 5, 1);
    reader->reset();
    writer->reset();
    EXPECT_TRUE(Log::open(dir.path(), clock).ok());
}

TEST(Log, FailedTopicCreationLeavesNoFolder) {
    LogTestDir dir;
    SystemClock clock;
    auto log = Log::open(dir.path(), clock);
    ASSERT_TRUE(log.ok());
    // Run out of file descriptors partway through opening the partitions.
    int open_fds = 0;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
        (void)entry;
        ++open_fds;
    }
    rlimit saved{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
    rlimit tight = saved;
    tight.rlim_cur = static_cast<rlim_t>(open_fds + 8);
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &tight), 0);
    TopicConfig config;
    config.partitions = 16;
    auto failed = (*log)->create_topic("big", config);
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
    ASSERT_FALSE(failed.ok());
    for (const auto& entry : std::filesystem::directory_iterator(dir.path() + "/log")) {
        const std::string name = entry.path().filename().string();
        EXPECT_TRUE(name == "_writer.lock") << "left behind: " << name;
    }
    EXPECT_EQ((*log)->find_topic("big"), nullptr);
    auto created = (*log)->create_topic("big", config);
    ASSERT_TRUE(created.ok()) << created.error().to_string();
    EXPECT_EQ((*created)->partition_count(), 16);
}

TEST(Log, AFolderWithoutTopicJsonIsReportedAndNeverDeleted) {
    LogTestDir dir;
    SystemClock clock;
    std::filesystem::create_directories(dir.path() + "/log/orders/0");
    {
        std::ofstream keep(dir.path() + "/log/orders/0/00000000000000000000.log");
        keep << "someone's bytes";
    }
    auto log = Log::open(dir.path(), clock);
    ASSERT_TRUE(log.ok());
    EXPECT_EQ((*log)->find_topic("orders"), nullptr);
    ASSERT_EQ((*log)->damage().size(), 1u);
    EXPECT_NE((*log)->damage()[0].find("orders has no topic.json"), std::string::npos);
    auto created = (*log)->create_topic("orders", TopicConfig{});
    ASSERT_FALSE(created.ok());
    EXPECT_EQ(created.error().code(), ErrorCode::kAlreadyExists);
    EXPECT_TRUE(std::filesystem::exists(dir.path() + "/log/orders/0/00000000000000000000.log"));
}

}  // namespace millrace
