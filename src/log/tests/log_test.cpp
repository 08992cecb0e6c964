#include "log/log.h"

#include <gtest/gtest.h>

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

}  // namespace millrace
