#include "connectors/streaming_topic_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "common/clock.h"
#include "log/log.h"
#include "log/partition.h"
#include "log/topic.h"
#include "types/batch.h"

namespace millrace {
namespace {

class StreamingTopicSourceTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = (std::filesystem::temp_directory_path() /
                ("millrace-streaming-topic-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                   .string();
        std::filesystem::remove_all(dir_);
        auto log = Log::open(dir_, clock_);
        ASSERT_TRUE(log.ok()) << log.error().to_string();
        log_ = std::move(log).value();
        TopicConfig config;
        config.partitions = 2;
        auto topic = log_->create_topic("clicks", config);
        ASSERT_TRUE(topic.ok());
        topic_ = *topic;
        spec_.name = "clicks";
        spec_.kind = SourceKind::kTopic;
        spec_.topic = "clicks";
        spec_.schema = Schema(std::vector<Field>{{"n", DataType::kInt64, false}});
    }
    void TearDown() override {
        log_.reset();
        std::filesystem::remove_all(dir_);
    }

    /// Appends records {"n": first}, ... to `partition`.
    void append(int32_t partition, int64_t first, int count) {
        std::vector<std::string> values;
        for (int i = 0; i < count; ++i)
            values.push_back(R"({"n":)" + std::to_string(first + i) + "}");
        std::vector<RecordInput> records;
        for (const std::string& value : values) {
            RecordInput record;
            record.value = value;
            records.push_back(record);
        }
        auto appended = topic_->partition(partition)->append(records);
        ASSERT_TRUE(appended.ok()) << appended.error().to_string();
    }

    /// Polls until idle; the values read, in order.
    std::vector<int64_t> drain(StreamingTopicSource& source) {
        std::vector<int64_t> values;
        for (int polls = 0; polls < 100; ++polls) {
            CollectingSink sink;
            auto result = source.poll(sink, 3, nullptr);
            EXPECT_TRUE(result.ok());
            EXPECT_NE(*result, PollResult::kEnd);  // unbounded: never ends
            if (*result == PollResult::kIdle) break;
            for (const Batch& batch : sink.batches) {
                for (std::size_t r = 0; r < batch.num_rows(); ++r)
                    values.push_back(batch.column(0).values<int64_t>()[r]);
            }
        }
        std::sort(values.begin(), values.end());
        return values;
    }

    std::string dir_;
    SystemClock clock_;
    std::unique_ptr<Log> log_;
    std::shared_ptr<Topic> topic_;
    SourceSpec spec_;
};

TEST_F(StreamingTopicSourceTest, ReadsRecordsAppendedAfterItWentIdle) {
    append(0, 0, 4);
    append(1, 100, 2);
    auto source = StreamingTopicSource::open(spec_, *log_, "pipeline-p");
    ASSERT_TRUE(source.ok()) << source.error().to_string();
    EXPECT_EQ(drain(**source), (std::vector<int64_t>{0, 1, 2, 3, 100, 101}));
    CollectingSink nothing;
    EXPECT_EQ(*(*source)->poll(nothing, 10, nullptr), PollResult::kIdle);
    append(1, 102, 1);
    append(0, 4, 1);
    EXPECT_EQ(drain(**source), (std::vector<int64_t>{4, 102}));
    EXPECT_EQ((*source)->offsets(), (std::vector<Offset>{5, 3}));
}

TEST_F(StreamingTopicSourceTest, PollsOnePartitionAtATimeAndSaysWhich) {
    append(0, 0, 2);
    append(1, 100, 2);
    auto source = StreamingTopicSource::open(spec_, *log_, "pipeline-p");
    ASSERT_TRUE(source.ok());
    for (int i = 0; i < 2; ++i) {
        CollectingSink sink;
        ASSERT_EQ(*(*source)->poll(sink, 10, nullptr), PollResult::kData);
        ASSERT_EQ(sink.rows, 2u);
        const int64_t first = sink.batches[0].column(0).values<int64_t>()[0];
        EXPECT_EQ((*source)->current_partition(), first >= 100 ? 1u : 0u);
    }
}

TEST_F(StreamingTopicSourceTest, StartsFromTheCommittedOffsetsElseEarliestOrLatest) {
    append(0, 0, 3);
    append(1, 100, 3);
    {
        auto source = StreamingTopicSource::open(spec_, *log_, "pipeline-p");
        ASSERT_TRUE(source.ok());
        EXPECT_EQ(drain(**source).size(), 6u);
        ASSERT_TRUE((*source)->commit_offsets(*log_).ok());
    }
    append(0, 3, 1);
    auto resumed = StreamingTopicSource::open(spec_, *log_, "pipeline-p");
    ASSERT_TRUE(resumed.ok());
    EXPECT_EQ(drain(**resumed), std::vector<int64_t>{3});
    // Another pipeline has no offsets: earliest by default, or only what comes next.
    auto fresh = StreamingTopicSource::open(spec_, *log_, "pipeline-q");
    ASSERT_TRUE(fresh.ok());
    EXPECT_EQ(drain(**fresh).size(), 7u);
    spec_.start_from = StartFrom::kLatest;
    auto latest = StreamingTopicSource::open(spec_, *log_, "pipeline-r");
    ASSERT_TRUE(latest.ok());
    EXPECT_TRUE(drain(**latest).empty());
    append(1, 103, 1);
    EXPECT_EQ(drain(**latest), std::vector<int64_t>{103});
}

TEST_F(StreamingTopicSourceTest, SeekOutsideThePartitionsIsRefused) {
    append(0, 0, 3);
    auto source = StreamingTopicSource::open(spec_, *log_, "pipeline-p");
    ASSERT_TRUE(source.ok());
    EXPECT_EQ((*source)->seek(SourcePosition{5, 0, 0}).error().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ((*source)->seek(SourcePosition{0, 9, 0}).error().code(), ErrorCode::kInvalidArgument);
    ASSERT_TRUE((*source)->seek(SourcePosition{0, 2, 0}).ok());
    EXPECT_EQ(drain(**source), std::vector<int64_t>{2});
}

}  // namespace
}  // namespace millrace
