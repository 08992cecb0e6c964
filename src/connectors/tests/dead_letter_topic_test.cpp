#include "connectors/dead_letter_topic.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/mapped_file.h"
#include "connectors/dead_letter_writer.h"
#include "log/log.h"
#include "log/partition.h"
#include "log/partition_reader.h"
#include "log/topic.h"

namespace millrace {
namespace {

class DeadLetterTopicTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = (std::filesystem::temp_directory_path() /
                ("millrace-dead-letter-topic-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                   .string();
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
        auto log = Log::open(dir_, clock_);
        ASSERT_TRUE(log.ok()) << log.error().to_string();
        log_ = std::move(log).value();
    }
    void TearDown() override {
        log_.reset();
        std::filesystem::remove_all(dir_);
    }

    std::unique_ptr<DeadLetterTopic> open() {
        auto topic = DeadLetterTopic::create("dlq.p", [this]() -> Result<Log*> {
            ++opens_;
            return log_.get();
        });
        EXPECT_TRUE(topic.ok());
        return std::move(topic).value();
    }
    /// The values in the topic, in offset order.
    std::vector<std::string> values() {
        std::vector<std::string> out;
        std::shared_ptr<Topic> topic = log_->find_topic("dlq.p");
        if (!topic) return out;
        const auto& partition = topic->partition(0);
        PartitionReader reader(partition, partition->start_offset(), partition->end_offset());
        std::vector<RecordView> views;
        while (true) {
            auto more = reader.next(views);
            EXPECT_TRUE(more.ok());
            if (!more.ok() || !*more) break;
            for (const RecordView& view : views) out.emplace_back(view.value);
        }
        return out;
    }

    std::string dir_;
    SystemClock clock_;
    std::unique_ptr<Log> log_;
    int opens_ = 0;
};

TEST_F(DeadLetterTopicTest, NamesTheTopicAfterThePipeline) {
    EXPECT_EQ(DeadLetterTopic::default_topic("orders"), "dlq.orders");
    EXPECT_EQ(DeadLetterTopic::default_topic("a b/c"), "dlq.a-b-c");
}

TEST_F(DeadLetterTopicTest, NothingIsVisibleBeforeCommit) {
    auto topic = open();
    topic->add(R"({"reason":"a"})");
    topic->add(R"({"reason":"b"})");
    ASSERT_TRUE(topic->pre_commit(1).ok());
    EXPECT_TRUE(values().empty()) << "visible after pre_commit alone";
    ASSERT_TRUE(topic->commit(1).ok());
    EXPECT_EQ(values(), (std::vector<std::string>{R"({"reason":"a"})", R"({"reason":"b"})"}));
    EXPECT_EQ(topic->published(), 2u);
    // The next commit publishes only what was added since.
    topic->add(R"({"reason":"c"})");
    ASSERT_TRUE(topic->pre_commit(2).ok());
    ASSERT_TRUE(topic->commit(2).ok());
    EXPECT_EQ(values().size(), 3u);
    EXPECT_TRUE(topic->commit(2).ok()) << "a replayed commit is a no-op";
    EXPECT_EQ(values().size(), 3u);
}

TEST_F(DeadLetterTopicTest, DeadLettersAddedBetweenPreCommitAndCommitAreNotLost) {
    // An asynchronous checkpoint: the run goes on writing between pre_commit and commit.
    auto topic = open();
    ASSERT_TRUE(topic->pre_commit(1).ok());
    topic->add(R"({"reason":"a"})");  // after a pre-commit that had nothing
    ASSERT_TRUE(topic->commit(1).ok());
    EXPECT_TRUE(values().empty()) << "published by a commit whose pre-commit did not stage it";
    topic->add(R"({"reason":"b"})");
    ASSERT_TRUE(topic->pre_commit(2).ok());
    topic->add(R"({"reason":"c"})");  // this commit publishes it with the rest
    ASSERT_TRUE(topic->commit(2).ok());
    EXPECT_EQ(values(), (std::vector<std::string>{R"({"reason":"a"})", R"({"reason":"b"})",
                                                  R"({"reason":"c"})"}));
    EXPECT_EQ(topic->published(), 3u);
    EXPECT_TRUE(topic->overlaps_commits());
}

TEST_F(DeadLetterTopicTest, AFailedRunPublishesNoDeadLetters) {
    {
        auto topic = open();
        topic->add(R"({"reason":"a"})");
        ASSERT_TRUE(topic->pre_commit(1).ok());
    }  // destroyed without commit
    auto topic = open();
    topic->add(R"({"reason":"b"})");
    ASSERT_TRUE(topic->pre_commit(1).ok());
    topic->abort();
    EXPECT_FALSE(topic->commit(1).ok());
    EXPECT_TRUE(values().empty());
}

TEST_F(DeadLetterTopicTest, OpensTheLogOnlyForDeadLetters) {
    auto topic = open();
    ASSERT_TRUE(topic->pre_commit(1).ok());
    ASSERT_TRUE(topic->commit(1).ok());
    EXPECT_EQ(opens_, 0) << "a run without dead letters needs no writer lock";
    EXPECT_EQ(log_->find_topic("dlq.p"), nullptr);
}

TEST_F(DeadLetterTopicTest, ALogHeldElsewhereIsAWarningNotAFailure) {
    auto topic = DeadLetterTopic::create("dlq.p", []() -> Result<Log*> {
        return Error(ErrorCode::kUnavailable, "held by pid 1 (millrace serve)");
    });
    ASSERT_TRUE(topic.ok());
    (*topic)->add(R"({"reason":"a"})");
    ASSERT_TRUE((*topic)->pre_commit(1).ok());
    ASSERT_TRUE((*topic)->commit(1).ok());
    EXPECT_EQ((*topic)->published(), 0u);
    EXPECT_NE((*topic)->warning().find("held by pid 1"), std::string::npos);
}

TEST_F(DeadLetterTopicTest, ALogHeldByAServerIsWrittenThroughIt) {
    auto topic = DeadLetterTopic::create(
        "dlq.p", []() -> Result<Log*> { return Error(ErrorCode::kUnavailable, "held"); });
    ASSERT_TRUE(topic.ok());
    std::string sent;
    (*topic)->set_remote([&](const std::string& name, std::string_view lines) -> Status {
        EXPECT_EQ(name, "dlq.p");
        sent += lines;
        return {};
    });
    (*topic)->add(R"({"reason":"a"})");
    (*topic)->add(R"({"reason":"b"})");
    ASSERT_TRUE((*topic)->pre_commit(1).ok());
    EXPECT_TRUE(sent.empty()) << "sent before commit";
    ASSERT_TRUE((*topic)->commit(1).ok());
    EXPECT_EQ(sent, "{\"reason\":\"a\"}\n{\"reason\":\"b\"}\n");
    EXPECT_EQ((*topic)->published(), 2u);
    EXPECT_TRUE((*topic)->warning().empty());
    // A server that fails: the sinks are committed, so the commit succeeds with a warning.
    (*topic)->set_remote([](const std::string&, std::string_view) -> Status {
        return Error(ErrorCode::kUnavailable, "answered 503");
    });
    (*topic)->add(R"({"reason":"c"})");
    ASSERT_TRUE((*topic)->pre_commit(2).ok());
    ASSERT_TRUE((*topic)->commit(2).ok());
    EXPECT_EQ((*topic)->published(), 2u);
    EXPECT_NE((*topic)->warning().find("answered 503"), std::string::npos);
}

TEST_F(DeadLetterTopicTest, ManyDeadLettersSpillAndKeepTheirOrder) {
    auto topic = open();
    const std::string pad(500, 'x');
    for (int i = 0; i < 5000; ++i)
        topic->add(R"({"n":)" + std::to_string(i) + R"(,"pad":")" + pad + "\"}");
    ASSERT_TRUE(topic->pre_commit(1).ok());
    ASSERT_TRUE(topic->commit(1).ok());
    std::vector<std::string> got = values();
    ASSERT_EQ(got.size(), 5000u);
    for (int i = 0; i < 5000; i += 999) {
        EXPECT_EQ(got[i].substr(0, 6 + std::to_string(i).size()),
                  R"({"n":)" + std::to_string(i) + ",");
    }
}

TEST_F(DeadLetterTopicTest, TheWriterStagesEachRecordAsAnEnvelope) {
    auto topic = open();
    auto writer = DeadLetterWriter::create(dir_ + "/dead.ndjson", "p");
    ASSERT_TRUE(writer.ok());
    (*writer)->set_topic(topic.get());
    (*writer)->add_decode_error("orders", "topic orders partition 2", 0, 17, "bad", "{\"a\":");
    (*writer)->add_decode_error("files", "in/a.csv", 3, 2, "bad", std::string("x\xff", 2));
    (*writer)->add_row("late", "source", "orders", "late", R"({"a":1})");
    ASSERT_TRUE((*writer)->finish().ok());
    ASSERT_TRUE(topic->pre_commit(1).ok());
    ASSERT_TRUE(topic->commit(1).ok());
    std::vector<std::string> got = values();
    ASSERT_EQ(got.size(), 3u);
    EXPECT_NE(got[0].find(R"("topic":"orders","partition":2,"offset":17)"), std::string::npos)
        << got[0];
    EXPECT_NE(got[0].find(R"("raw":"{\"a\":")"), std::string::npos) << got[0];
    EXPECT_NE(got[0].find(R"("time":")"), std::string::npos) << got[0];
    EXPECT_EQ(got[1].find(R"("topic":)"), std::string::npos) << got[1];
    EXPECT_NE(got[1].find(R"("raw_base64":"eP8=")"), std::string::npos) << got[1];
    EXPECT_NE(got[2].find(R"("stage":"late")"), std::string::npos) << got[2];
    // The file holds the same records.
    auto file = read_file(dir_ + "/dead.ndjson");
    ASSERT_TRUE(file.ok());
    EXPECT_EQ(*file, got[0] + "\n" + got[1] + "\n" + got[2] + "\n");
}

}  // namespace
}  // namespace millrace
