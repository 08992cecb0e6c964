#include "kafka/transactions.h"

#include <gtest/gtest.h>

#include <fstream>

#include "common/clock.h"
#include "kafka/producer_states.h"
#include "log/crc32c.h"
#include "log/log.h"
#include "log/partition.h"
#include "log/record_batch.h"
#include "log/tests/log_test_dir.h"
#include "log/topic.h"

namespace millrace::kafka {

namespace {

/// A transactional batch of one record from `producer_id`.
std::string transactional_batch(int64_t producer_id, int16_t epoch) {
    const RecordInput record{std::nullopt, "v", 1000};
    std::string out;
    record_batch::encode(std::span<const RecordInput>(&record, 1), out);
    auto put = [&](std::size_t at, uint64_t value, int bytes) {
        for (int i = 0; i < bytes; ++i)
            out[at + i] = static_cast<char>(value >> (8 * (bytes - 1 - i)));
    };
    put(21, 0x10, 2);
    put(43, static_cast<uint64_t>(producer_id), 8);
    put(51, static_cast<uint16_t>(epoch), 2);
    put(53, 0, 4);
    put(17, crc32c(out.data() + 21, out.size() - 21), 4);
    return out;
}

class TransactionsTest : public ::testing::Test {
protected:
    void SetUp() override { open(); }
    void TearDown() override { close(); }

    void open() {
        auto opened = Log::open(dir_.path(), clock_);
        ASSERT_TRUE(opened.ok());
        log_ = std::move(opened).value();
        if (!log_->find_topic("orders")) {
            ASSERT_TRUE(log_->create_topic("orders", {}).ok());
        }
        producers_ = std::make_unique<ProducerStates>(log_->dir());
        ASSERT_TRUE(producers_->load().ok());
        coordinator_ =
            std::make_unique<TransactionCoordinator>(*log_, *producers_, clock_, logger_);
        auto loaded = coordinator_->load();
        ASSERT_TRUE(loaded.ok()) << loaded.error().to_string();
    }
    void close() {
        coordinator_.reset();
        producers_.reset();
        if (log_) log_->stop();
        log_.reset();
    }
    Partition& partition() { return *log_->find_topic("orders")->partition(0); }

    /// Begins a transaction of `id` on orders/0 with one record in it.
    TransactionalProducer begin(const std::string& id, int32_t timeout_ms = 60000) {
        TransactionalProducer producer = coordinator_->init_producer(id, timeout_ms);
        EXPECT_EQ(producer.error, KafkaError::kNone);
        const auto errors =
            coordinator_->add_partitions(id, producer.producer_id, producer.epoch, {{"orders", 0}});
        EXPECT_EQ(errors, std::vector<KafkaError>{KafkaError::kNone});
        std::string batch = transactional_batch(producer.producer_id, producer.epoch);
        const KafkaError produced =
            coordinator_->produce(id, producer.producer_id, producer.epoch, "orders", 0,
                                  [&] { EXPECT_TRUE(partition().append_encoded(batch).ok()); });
        EXPECT_EQ(produced, KafkaError::kNone);
        return producer;
    }

    LogTestDir dir_;
    ManualClock clock_{1'000'000'000};
    Logger logger_{[](std::string_view) {}};
    std::unique_ptr<Log> log_;
    std::unique_ptr<ProducerStates> producers_;
    std::unique_ptr<TransactionCoordinator> coordinator_;
};

}  // namespace

TEST_F(TransactionsTest, ARestartAbortsAnOpenTransactionAndFencesItsProducer) {
    const TransactionalProducer producer = begin("tx");
    std::vector<TransactionOffset> offsets = {{"billing", "orders", 0, 9}};
    ASSERT_EQ(coordinator_->txn_offset_commit("tx", producer.producer_id, producer.epoch, offsets),
              KafkaError::kNone);
    EXPECT_EQ(partition().stable_offset(), 0);
    close();
    open();
    // The ABORT marker is written: nothing holds readers back, the offsets were dropped.
    EXPECT_EQ(partition().end_offset(), 2);
    EXPECT_EQ(partition().stable_offset(), 2);
    EXPECT_EQ(partition().aborted_transactions(0, 2).size(), 1u);
    auto committed = log_->consumer_offsets().fetch("billing", "orders", 0);
    ASSERT_TRUE(committed.ok());
    EXPECT_FALSE(committed->has_value());
    EXPECT_EQ(coordinator_->end("tx", producer.producer_id, producer.epoch, true),
              KafkaError::kInvalidProducerEpoch);
    const TransactionalProducer next = coordinator_->init_producer("tx", 60000);
    EXPECT_EQ(next.producer_id, producer.producer_id);
    EXPECT_GT(next.epoch, producer.epoch);
}

TEST_F(TransactionsTest, ACommitDecidedBeforeACrashIsFinishedByTheRestart) {
    const TransactionalProducer producer = begin("tx");
    std::vector<TransactionOffset> offsets = {{"billing", "orders", 0, 1}};
    ASSERT_EQ(coordinator_->txn_offset_commit("tx", producer.producer_id, producer.epoch, offsets),
              KafkaError::kNone);
    close();
    // As if the process died after the decision was durable, before any marker was written.
    const std::string path = dir_.path() + "/log/_kafka/transactions";
    std::string text;
    {
        std::ifstream in(path);
        text.assign(std::istreambuf_iterator<char>(in), {});
    }
    const std::size_t at = text.find(" ongoing");
    ASSERT_NE(at, std::string::npos);
    text.replace(at, 8, " commit");
    {
        std::ofstream out(path, std::ios::trunc);
        out << text;
    }
    open();
    EXPECT_EQ(partition().stable_offset(), 2);
    EXPECT_TRUE(partition().aborted_transactions(0, 2).empty());
    auto committed = log_->consumer_offsets().fetch("billing", "orders", 0);
    ASSERT_TRUE(committed.ok() && committed->has_value());
    EXPECT_EQ(**committed, 1);
}

TEST_F(TransactionsTest, ATransactionPastItsTimeoutIsAbortedAndItsProducerFenced) {
    const TransactionalProducer producer = begin("tx", 5000);
    clock_.advance_micros(4'000'000);
    EXPECT_EQ(coordinator_->abort_expired(), 0);
    clock_.advance_micros(2'000'000);
    EXPECT_EQ(coordinator_->abort_expired(), 1);
    EXPECT_EQ(partition().stable_offset(), partition().end_offset());
    EXPECT_EQ(coordinator_->end("tx", producer.producer_id, producer.epoch, true),
              KafkaError::kInvalidProducerEpoch);
}

TEST_F(TransactionsTest, RefusesBadTimeoutsUnknownIdsAndADamagedStateFile) {
    EXPECT_EQ(coordinator_->init_producer("tx", 0).error, KafkaError::kInvalidTransactionTimeout);
    EXPECT_EQ(coordinator_->end("nobody", 1000, 0, true), KafkaError::kInvalidProducerIdMapping);
    const TransactionalProducer producer = coordinator_->init_producer("odd id/with spaces", 1000);
    ASSERT_EQ(producer.error, KafkaError::kNone);
    close();
    open();  // the id round-trips through the state file
    EXPECT_EQ(coordinator_->end("odd id/with spaces", producer.producer_id, producer.epoch, true),
              KafkaError::kNone);
    close();
    {
        std::ofstream out(dir_.path() + "/log/_kafka/transactions", std::ios::app);
        out << "txn broken\n";
    }
    auto reopened = Log::open(dir_.path(), clock_);
    ASSERT_TRUE(reopened.ok());
    ProducerStates producers((*reopened)->dir());
    TransactionCoordinator coordinator(**reopened, producers, clock_, logger_);
    auto loaded = coordinator.load();
    EXPECT_FALSE(loaded.ok());
    (*reopened)->stop();
}

}  // namespace millrace::kafka
