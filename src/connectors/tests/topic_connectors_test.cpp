#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/durable_file.h"
#include "common/mapped_file.h"
#include "connectors/tests/sink_test_util.h"
#include "connectors/topic_sink.h"
#include "connectors/topic_source.h"
#include "log/log.h"
#include "log/partition.h"
#include "log/topic.h"
#include "types/batch.h"
#include "types/value.h"

namespace millrace {
namespace {

class TopicConnectorsTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = (std::filesystem::temp_directory_path() /
                ("millrace-topic-connectors-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                   .string();
        std::filesystem::remove_all(dir_);
        auto log = Log::open(dir_, clock_);
        ASSERT_TRUE(log.ok()) << log.error().to_string();
        log_ = std::move(log).value();
        schema_ = std::make_shared<const Schema>(std::vector<Field>{
            {"user", DataType::kString, false},
            {"clicks", DataType::kInt64, true},
        });
    }
    void TearDown() override {
        log_.reset();
        std::filesystem::remove_all(dir_);
    }

    Batch rows(std::vector<std::pair<std::string, int64_t>> data) {
        BatchBuilder builder(schema_);
        for (const auto& [user, clicks] : data) {
            builder.column(0).append_string(user);
            builder.column(1).append_int64(clicks);
            builder.commit_row();
        }
        return builder.finish();
    }
    Result<std::unique_ptr<TopicSource>> open_source() {
        SourceSpec spec;
        spec.name = "clicks";
        spec.kind = SourceKind::kTopic;
        spec.topic = "clicks";
        spec.schema = *schema_;
        return TopicSource::open(spec, *log_);
    }

    std::string dir_;
    SystemClock clock_;
    std::unique_ptr<Log> log_;
    std::shared_ptr<const Schema> schema_;
};

TEST_F(TopicConnectorsTest, SinkWritesJsonRecordsASourceReadsBack) {
    auto sink = TopicSink::create(*log_, "clicks", "user", *schema_);
    ASSERT_TRUE(sink.ok()) << sink.error().to_string();
    ASSERT_TRUE((*sink)->write(rows({{"ann", 1}, {"bob", 2}, {"ann", 3}})).ok());
    ASSERT_TRUE(commit_once(**sink).ok());
    EXPECT_EQ((*sink)->rows_written(), 3u);
    EXPECT_EQ((*sink)->guarantee(), DeliveryGuarantee::kAtLeastOnce);

    auto source = open_source();
    ASSERT_TRUE(source.ok()) << source.error().to_string();
    CollectingSink collected;
    ASSERT_TRUE((*source)->read_to_end(collected, nullptr).ok());
    EXPECT_EQ(collected.rows, 3u);
    EXPECT_TRUE(collected.errors.empty());
    // Keyed records of one user share a partition, in write order.
    std::vector<int64_t> ann;
    for (const Batch& batch : collected.batches) {
        for (std::size_t r = 0; r < batch.num_rows(); ++r) {
            if (batch.value_at(r, 0).to_string() == "ann")
                ann.push_back(batch.column(1).value<int64_t>(r));
        }
    }
    EXPECT_EQ(ann, (std::vector<int64_t>{1, 3}));
}

// Staged (a streaming run's checkpoints): nothing is visible before commit, and a commit
// replayed after a crash appends each record once, whether the dead run appended none, some or
// all of them.
TEST_F(TopicConnectorsTest, StagedSinkAppendsEachCommitOnceAcrossCrashes) {
    const std::string staging = dir_ + "/staging";
    auto end_offsets = [&] {
        std::shared_ptr<Topic> topic = log_->find_topic("clicks");
        int64_t total = 0;
        for (int32_t p = 0; p < topic->partition_count(); ++p)
            total += topic->partition(p)->end_offset();
        return total;
    };
    auto open_staged = [&]() -> std::unique_ptr<TopicSink> {
        auto sink = TopicSink::create(*log_, "clicks", "user", *schema_);
        EXPECT_TRUE(sink.ok());
        EXPECT_TRUE((*sink)->stage_in(staging).ok());
        return std::move(sink).value();
    };
    {
        auto sink = open_staged();
        EXPECT_EQ(sink->guarantee(), DeliveryGuarantee::kTransactional);
        ASSERT_TRUE(sink->recover(0).ok());
        ASSERT_TRUE(sink->write(rows({{"ann", 1}, {"bob", 2}, {"cy", 3}})).ok());
        ASSERT_TRUE(sink->pre_commit(1).ok());
        EXPECT_EQ(end_offsets(), 0) << "readers never see records before the commit";
        ASSERT_TRUE(sink->commit(1).ok());
        EXPECT_EQ(end_offsets(), 3);
    }
    {
        // Restarted from checkpoint 1, already committed: nothing to do.
        auto sink = open_staged();
        ASSERT_TRUE(sink->recover(1).ok());
        ASSERT_TRUE(sink->commit(1).ok());
        EXPECT_EQ(end_offsets(), 3);
        // A checkpoint with no rows for the sink stages no file and appends nothing.
        ASSERT_TRUE(sink->pre_commit(2).ok());
        EXPECT_TRUE(std::filesystem::is_empty(staging));
        ASSERT_TRUE(sink->commit(2).ok());
        EXPECT_EQ(end_offsets(), 3);
        // Checkpoint 3 completes and the run dies inside commit(3), after its appends and
        // before the staged file's removal is durable: the replay finds the records and
        // appends none again.
        ASSERT_TRUE(sink->write(rows({{"ann", 4}, {"dee", 5}})).ok());
        ASSERT_TRUE(sink->pre_commit(3).ok());
        const std::string staged = *read_file(staging + "/3.records");
        ASSERT_TRUE(sink->commit(3).ok());
        EXPECT_EQ(end_offsets(), 5);
        EXPECT_TRUE(std::filesystem::is_empty(staging)) << "a finished commit leaves no file";
        ASSERT_TRUE(write_file_durably(staging + "/3.records", staged).ok());
    }
    {
        auto sink = open_staged();
        ASSERT_TRUE(sink->recover(3).ok());
        EXPECT_EQ(end_offsets(), 5) << "commit 3's records were already there";
        // An older version's staged commit (format 1, the offsets in `<id>.intent`) whose
        // run died after appending one of its two records: the other is appended.
        std::string intent;
        std::shared_ptr<Topic> topic = log_->find_topic("clicks");
        for (int32_t p = 0; p < topic->partition_count(); ++p)
            intent +=
                std::to_string(p) + " " + std::to_string(topic->partition(p)->end_offset()) + "\n";
        auto record = [](const std::string& user, int n) {
            std::string value = "{\"user\":\"" + user + "\",\"clicks\":" + std::to_string(n) + "}";
            std::string out;
            auto fixed = [&](uint64_t v, int width) {
                for (int i = 0; i < width; ++i)
                    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
            };
            fixed(0, 4);  // partition
            fixed(1000, 8);
            out.push_back('\1');
            fixed(user.size(), 4);
            out += user;
            fixed(value.size(), 4);
            out += value;
            return out;
        };
        ASSERT_EQ(topic->partition_count(), 1);
        std::string v1 = "millrace-topic-commit 1\n";
        for (int i = 0; i < 8; ++i) v1.push_back(static_cast<char>(i == 0 ? 2 : 0));
        v1 += record("gus", 8) + record("hal", 9);
        const std::string gus = "{\"user\":\"gus\",\"clicks\":8}";
        RecordInput appended;
        appended.key = std::string_view("gus");
        appended.value = gus;
        appended.timestamp_ms = 1000;
        ASSERT_TRUE(topic->partition(0)->append(std::vector<RecordInput>{appended}).ok());
        ASSERT_TRUE(write_file_durably(staging + "/4.records", v1).ok());
        ASSERT_TRUE(write_file_durably(staging + "/4.intent", intent).ok());
    }
    {
        auto sink = open_staged();
        ASSERT_TRUE(sink->recover(4).ok());
        EXPECT_EQ(end_offsets(), 7) << "the old format's replay appends only what is missing";
        EXPECT_TRUE(std::filesystem::is_empty(staging));
    }
    {
        auto sink = open_staged();
        ASSERT_TRUE(sink->recover(4).ok());
        EXPECT_EQ(end_offsets(), 7);
        // Checkpoint 5 is pre-committed and the run dies before its metadata: dropped.
        ASSERT_TRUE(sink->write(rows({{"eve", 6}})).ok());
        ASSERT_TRUE(sink->pre_commit(5).ok());
    }
    {
        auto sink = open_staged();
        ASSERT_TRUE(sink->recover(4).ok());
        EXPECT_EQ(end_offsets(), 7);
        EXPECT_FALSE(std::filesystem::exists(staging + "/5.records"));
        // Checkpoint 5 (again) is pre-committed, completes, and the run dies before commit:
        // the restart rolls it forward.
        ASSERT_TRUE(sink->write(rows({{"eve", 6}, {"fay", 7}})).ok());
        ASSERT_TRUE(sink->pre_commit(5).ok());
    }
    {
        auto sink = open_staged();
        ASSERT_TRUE(sink->recover(5).ok());
        EXPECT_EQ(end_offsets(), 9);
        ASSERT_TRUE(sink->recover(5).ok());
        EXPECT_EQ(end_offsets(), 9);
    }
}

TEST_F(TopicConnectorsTest, SourceIsBoundedByTheEndOffsetsAtOpen) {
    auto sink = TopicSink::create(*log_, "clicks", "", *schema_);
    ASSERT_TRUE(sink.ok());
    ASSERT_TRUE((*sink)->write(rows({{"ann", 1}, {"bob", 2}})).ok());
    ASSERT_TRUE(commit_once(**sink, 1).ok());
    auto source = open_source();
    ASSERT_TRUE(source.ok());
    // Appended after the source opened: not part of this run.
    ASSERT_TRUE((*sink)->write(rows({{"cid", 3}})).ok());
    ASSERT_TRUE(commit_once(**sink, 2).ok());
    CollectingSink collected;
    ASSERT_TRUE((*source)->read_to_end(collected, nullptr).ok());
    EXPECT_EQ(collected.rows, 2u);
    int64_t bound = 0;
    for (const TopicSource::Range& range : (*source)->ranges()) bound += range.bound - range.from;
    EXPECT_EQ(bound, 2);
    // A source opened now sees all three.
    auto later = open_source();
    CollectingSink all;
    ASSERT_TRUE((*later)->read_to_end(all, nullptr).ok());
    EXPECT_EQ(all.rows, 3u);
}

TEST_F(TopicConnectorsTest, UndecodableRecordsCarryTheirOffsetAndPartition) {
    auto topic = log_->ensure_topic("clicks", TopicConfig{});
    ASSERT_TRUE(topic.ok());
    std::vector<std::string> values = {R"({"user":"ann","clicks":1})",
                                       R"({"user":"bob","clicks":"x"})"};
    std::vector<RecordInput> records;
    for (const std::string& value : values) {
        RecordInput record;
        record.value = value;
        record.key = std::string_view("same-key");
        records.push_back(record);
    }
    auto appends = (*topic)->append(records);
    ASSERT_TRUE(appends.ok());
    ASSERT_TRUE((*topic)->wait_durable(*appends).ok());
    auto source = open_source();
    ASSERT_TRUE(source.ok());
    struct Units final : SourceReader::Listener {
        void on_unit_start(const std::string& where) override { seen.push_back(where); }
        std::vector<std::string> seen;
    } units;
    CollectingSink collected;
    ASSERT_TRUE((*source)->read_to_end(collected, &units).ok());
    EXPECT_EQ(collected.rows, 1u);
    ASSERT_EQ(collected.errors.size(), 1u);
    EXPECT_EQ(collected.errors[0].record_index, 1u);
    ASSERT_EQ(units.seen.size(), 1u) << "only the partition holding records is started";
    EXPECT_NE(units.seen[0].find("topic clicks partition"), std::string::npos);
}

TEST_F(TopicConnectorsTest, UnknownTopicAndMissingSchemaAreClearErrors) {
    SourceSpec spec;
    spec.name = "s";
    spec.kind = SourceKind::kTopic;
    spec.topic = "nope";
    auto missing = TopicSource::open(spec, *log_);
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
    ASSERT_TRUE(log_->ensure_topic("plain", TopicConfig{}).ok());
    spec.topic = "plain";
    auto no_schema = TopicSource::open(spec, *log_);
    ASSERT_FALSE(no_schema.ok());
    EXPECT_NE(no_schema.error().message().find("no schema"), std::string::npos);
    EXPECT_EQ(TopicSink::create(*log_, "out", "nope", *schema_).error().code(),
              ErrorCode::kNotFound);
}

}  // namespace
}  // namespace millrace
