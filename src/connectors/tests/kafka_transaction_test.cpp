#include "connectors/kafka_transaction.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "connectors/kafka_sink.h"
#include "connectors/tests/kafka_test_listener.h"
#include "log/partition.h"
#include "log/topic.h"
#include "types/batch.h"

namespace millrace {
namespace {

std::shared_ptr<const Schema> schema() {
    static const auto s =
        std::make_shared<const Schema>(std::vector<Field>{{"id", DataType::kInt64, false}});
    return s;
}

Batch rows(int64_t first, int64_t count) {
    BatchBuilder builder(schema());
    for (int64_t i = first; i < first + count; ++i) {
        builder.column(0).append_int64(i);
        builder.commit_row();
    }
    return builder.finish();
}

class KafkaTransactionTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = (std::filesystem::temp_directory_path() /
                ("millrace-kafka-txn-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                   .string();
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
        kafka_ = std::make_unique<KafkaListener>(dir_);
        ASSERT_TRUE(kafka_->started());
    }
    void TearDown() override {
        kafka_.reset();
        std::filesystem::remove_all(dir_);
    }

    /// A run's producer: the same transactional.id each time, as a restarted run has.
    std::unique_ptr<KafkaTransaction> open() {
        auto transaction =
            KafkaTransaction::create(kafka_->spec(), "millrace-test", std::chrono::seconds(1));
        EXPECT_TRUE(transaction.ok()) << transaction.error().to_string();
        return transaction.ok() ? std::move(transaction).value() : nullptr;
    }

    /// What a read_committed consumer of `rows` sees.
    uint64_t committed_rows() {
        const Partition& partition = *kafka_->log().find_topic("rows")->partition(0);
        uint64_t count = 0;
        for (Offset at = partition.start_offset(); at < partition.end_offset();) {
            std::string buffer;
            std::vector<RecordView> records;
            auto next = partition.read(at, partition.end_offset(), 1000, 1 << 20, buffer, records);
            if (!next.ok() || *next == at) break;
            count += records.size();
            at = *next;
        }
        return count;
    }

    std::string dir_;
    std::unique_ptr<KafkaListener> kafka_;
};

TEST_F(KafkaTransactionTest, TheMarkerCommitsWithTheRecordsAndReadsBack) {
    auto transaction = open();
    ASSERT_NE(transaction, nullptr);
    EXPECT_EQ(transaction->kind(), "kafka");
    EXPECT_EQ(transaction->name(), "millrace-test");
    EXPECT_EQ(transaction->marker_group(), "millrace-commits.millrace-test");
    auto none = transaction->committed_markers();
    ASSERT_TRUE(none.ok()) << none.error().to_string();
    EXPECT_TRUE(none->empty());
    {
        auto sink = KafkaSink::create(kafka_->spec(), *schema(), transaction.get());
        ASSERT_TRUE(sink.ok()) << sink.error().to_string();
        EXPECT_FALSE(transaction->deciding()) << "nothing written: the metadata decides";
        ASSERT_TRUE((*sink)->write(rows(0, 10)).ok());
        EXPECT_TRUE(transaction->deciding());
        ASSERT_TRUE((*sink)->pre_commit(4).ok());
        EXPECT_EQ(committed_rows(), 0u);
        ASSERT_TRUE((*sink)->commit(4).ok());
        EXPECT_FALSE(transaction->deciding());
        EXPECT_EQ(committed_rows(), 10u);
        // A checkpoint without records commits no transaction: the marker stays.
        ASSERT_TRUE((*sink)->pre_commit(5).ok());
        ASSERT_TRUE((*sink)->commit(5).ok());
    }
    transaction.reset();
    auto restarted = open();
    auto marker = restarted->committed_markers();
    ASSERT_TRUE(marker.ok()) << marker.error().to_string();
    EXPECT_EQ(*marker, std::vector<uint64_t>{4});
}

// A run killed after flushing into its transaction: the next producer with the same id aborts
// it before reading the marker, which is still the previous checkpoint's.
TEST_F(KafkaTransactionTest, ARestartAbortsWhatTheDeadRunLeftOpen) {
    auto transaction = open();
    auto sink = KafkaSink::create(kafka_->spec(), *schema(), transaction.get());
    ASSERT_TRUE(sink.ok()) << sink.error().to_string();
    ASSERT_TRUE((*sink)->write(rows(0, 5)).ok());
    ASSERT_TRUE((*sink)->pre_commit(1).ok());
    ASSERT_TRUE((*sink)->commit(1).ok());
    ASSERT_TRUE((*sink)->write(rows(5, 7)).ok());
    ASSERT_TRUE((*sink)->pre_commit(2).ok());  // flushed: on the broker, in the open transaction
    auto restarted = open();                   // the old producer is never told: as after kill -9
    auto marker = restarted->committed_markers();
    ASSERT_TRUE(marker.ok()) << marker.error().to_string();
    EXPECT_EQ(*marker, std::vector<uint64_t>{1});
    EXPECT_EQ(committed_rows(), 5u) << "the dead run's open transaction was aborted";
    // The fenced producer cannot commit any more.
    EXPECT_FALSE((*sink)->commit(2).ok());
    sink->reset();
    transaction.reset();
}

TEST_F(KafkaTransactionTest, ATimeoutShorterThanTheCheckpointIntervalIsAConfigError) {
    SinkSpec spec = kafka_->spec();
    spec.properties["transaction.timeout.ms"] = "5000";
    auto refused = KafkaTransaction::create(spec, "t", std::chrono::seconds(10));
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code(), ErrorCode::kConfig);
    auto accepted = KafkaTransaction::create(spec, "t", std::chrono::seconds(2));
    ASSERT_TRUE(accepted.ok()) << accepted.error().to_string();
    EXPECT_EQ((*accepted)->timeout_ms(), 5000);
    // The default: four intervals, at least a minute, at most Kafka's 15 minutes.
    EXPECT_EQ(
        (*KafkaTransaction::create(kafka_->spec(), "t", std::chrono::seconds(1)))->timeout_ms(),
        60000);
    EXPECT_EQ(
        (*KafkaTransaction::create(kafka_->spec(), "t", std::chrono::seconds(100)))->timeout_ms(),
        400000);
    EXPECT_FALSE(KafkaTransaction::create(kafka_->spec(), "t", std::chrono::minutes(20)).ok());
    // A transactional.id among the properties wins over the pipeline's.
    spec.properties["transactional.id"] = "mine";
    EXPECT_EQ((*KafkaTransaction::create(spec, "t", std::chrono::seconds(1)))->name(), "mine");
}

}  // namespace
}  // namespace millrace
