#include "kafka/broker.h"

#include <gtest/gtest.h>

#include <future>

#include "common/clock.h"
#include "kafka/apis.h"
#include "kafka/frame.h"
#include "kafka/message.h"
#include "log/crc32c.h"
#include "log/log.h"
#include "log/record_batch.h"
#include "log/tests/log_test_dir.h"

namespace millrace::kafka {

namespace {

const ApiSpec& api(ApiKey key) { return *find_api(static_cast<int16_t>(key)); }

/// A RecordBatch as a producer writes it, optionally idempotent.
std::string batch(int count, int64_t producer_id = -1, int32_t sequence = -1, int16_t epoch = 0) {
    std::vector<std::string> values;
    std::vector<RecordInput> records;
    for (int i = 0; i < count; ++i) values.push_back("v" + std::to_string(i));
    for (int i = 0; i < count; ++i) records.push_back({std::nullopt, values[i], 1000});
    std::string out;
    record_batch::encode(records, out);
    auto put = [&](std::size_t at, uint64_t value, int bytes) {
        for (int i = 0; i < bytes; ++i)
            out[at + i] = static_cast<char>(value >> (8 * (bytes - 1 - i)));
    };
    put(43, static_cast<uint64_t>(producer_id), 8);
    put(51, producer_id < 0 ? 0xffff : static_cast<uint16_t>(epoch), 2);
    put(53, static_cast<uint32_t>(sequence), 4);
    put(17, crc32c(out.data() + 21, out.size() - 21), 4);
    return out;
}

class BrokerTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto opened = Log::open(dir_.path(), clock_);
        ASSERT_TRUE(opened.ok());
        log_ = std::move(opened).value();
        TopicConfig config;
        config.partitions = 2;
        ASSERT_TRUE(log_->create_topic("orders", config).ok());
        broker_ = std::make_unique<Broker>(*log_, clock_, logger_, BrokerOptions{});
        ASSERT_TRUE(broker_->start().ok());
    }
    void TearDown() override {
        broker_->stop();
        log_->stop();
    }

    /// Sends a request and returns the response frame (nullopt: no response).
    std::optional<std::string> call(const RequestHeader& header, bool flexible,
                                    std::string_view body) {
        const std::string frame = frame_request(header, flexible, body);
        std::promise<std::optional<std::string>> promise;
        broker_->handle(
            std::string_view(frame).substr(kSizePrefix), "127.0.0.1",
            [&](std::optional<std::string> response) { promise.set_value(std::move(response)); });
        return promise.get_future().get();
    }

    /// Encodes `request` at `version`, sends it, decodes the response body.
    Struct roundtrip(ApiKey key, int16_t version, const Struct& request) {
        const ApiSpec& spec = api(key);
        WireWriter writer;
        MessageCodec::encode(request, version, spec.flexible(version), writer);
        auto response = call({static_cast<int16_t>(key), version, 7, std::string("test")},
                             spec.flexible(version), writer.buffer());
        EXPECT_TRUE(response.has_value());
        WireReader reader(std::string_view(*response).substr(kSizePrefix));
        EXPECT_EQ(reader.int32(), 7);
        if (spec.flexible(version) && key != ApiKey::kApiVersions) reader.skip_tagged_fields();
        auto decoded = MessageCodec::decode(spec.response, version, spec.flexible(version), reader);
        EXPECT_TRUE(decoded.ok());
        EXPECT_EQ(reader.remaining(), 0u);
        return decoded.ok() ? std::move(decoded).value() : Struct(spec.response);
    }

    Struct produce(const std::string& records, int16_t acks = -1, const char* topic = "orders") {
        Struct request(api(ApiKey::kProduce).request);
        request.set("Acks", acks).set("TimeoutMs", 1000);
        Struct& data = request.add("TopicData");
        data.set("Name", std::string(topic));
        data.add("PartitionData").set("Index", 0).set("Records", records);
        return roundtrip(ApiKey::kProduce, 7, request)
            .array("Responses")[0]
            .array("PartitionResponses")[0];
    }

    LogTestDir dir_;
    SystemClock clock_;
    Logger logger_{[](std::string_view) {}};
    std::unique_ptr<Log> log_;
    std::unique_ptr<Broker> broker_;
};

TEST_F(BrokerTest, ApiVersionsV3IsFlexibleWithResponseHeaderV0) {
    Struct request(api(ApiKey::kApiVersions).request);
    Struct response = roundtrip(ApiKey::kApiVersions, 3, request);
    EXPECT_EQ(response.integer("ErrorCode"), 0);
    EXPECT_EQ(response.array("ApiKeys").size(), supported_apis().size());
}

TEST_F(BrokerTest, ApiVersionsAboveOurMaxGetsError35WithAV0Body) {
    auto response = call({18, 9, 5, std::nullopt}, true, std::string("\x00\x00\x00", 3));
    ASSERT_TRUE(response.has_value());
    WireReader reader(std::string_view(*response).substr(kSizePrefix));
    EXPECT_EQ(reader.int32(), 5);
    auto body = MessageCodec::decode(api(ApiKey::kApiVersions).response, 0, false, reader);
    ASSERT_TRUE(body.ok());
    EXPECT_EQ(body->integer("ErrorCode"), 35);
    EXPECT_FALSE(body->array("ApiKeys").empty());
    EXPECT_EQ(reader.remaining(), 0u);
}

TEST_F(BrokerTest, UnknownApiAndUnsupportedVersionsAreAnsweredNotDropped) {
    auto unknown = call({999, 0, 11, std::nullopt}, false, "");
    ASSERT_TRUE(unknown.has_value());
    EXPECT_EQ(*unknown, std::string("\0\0\0\x06\0\0\0\x0b\0\x23", 10));
    auto fetch_v3 = call({1, 3, 12, std::nullopt}, false, "");
    ASSERT_TRUE(fetch_v3.has_value());
    WireReader reader(std::string_view(*fetch_v3).substr(kSizePrefix));
    EXPECT_EQ(reader.int32(), 12);
}

TEST_F(BrokerTest, ProduceStoresTheBatchAndAssignsOffsets) {
    Struct first = produce(batch(3));
    EXPECT_EQ(first.integer("ErrorCode"), 0);
    EXPECT_EQ(first.integer("BaseOffset"), 0);
    Struct second = produce(batch(2));
    EXPECT_EQ(second.integer("BaseOffset"), 3);
    EXPECT_EQ(log_->find_topic("orders")->partition(0)->end_offset(), 5);
}

TEST_F(BrokerTest, CorruptBatchIsRefusedAndNothingIsAppended) {
    std::string bad = batch(3);
    bad[bad.size() - 2] ^= 0x40;  // CRC no longer matches
    EXPECT_EQ(produce(bad).integer("ErrorCode"), 2);
    std::string bad_magic = batch(1);
    bad_magic[16] = 1;
    EXPECT_EQ(produce(bad_magic).integer("ErrorCode"), 2);
    std::string truncated = batch(2);
    truncated.resize(truncated.size() - 3);
    EXPECT_EQ(produce(truncated).integer("ErrorCode"), 2);
    // Two batches, the second corrupt: neither is stored.
    std::string pair = batch(1) + bad;
    EXPECT_EQ(produce(pair).integer("ErrorCode"), 2);
    EXPECT_EQ(log_->find_topic("orders")->partition(0)->end_offset(), 0);
    EXPECT_EQ(produce(batch(1), -1, "missing").integer("ErrorCode"), 3);
}

TEST_F(BrokerTest, RequireSchemaRefusesUnframedRecordsAndUnknownIds) {
    TopicConfig config;
    config.require_schema = true;
    ASSERT_TRUE(log_->create_topic("framed", config).ok());
    broker_->stop();
    BrokerOptions options;
    options.schema_exists = [](int64_t id) { return id == 1; };
    broker_ = std::make_unique<Broker>(*log_, clock_, logger_, options);
    ASSERT_TRUE(broker_->start().ok());
    auto records = [](std::vector<std::string> values) {
        std::vector<RecordInput> inputs;
        for (const std::string& value : values) inputs.push_back({std::nullopt, value, 1000});
        std::string out;
        record_batch::encode(inputs, out);
        return out;
    };
    const std::string id1 = std::string("\0\0\0\0\1", 5);
    const std::string id9 = std::string("\0\0\0\0\x09", 5);
    EXPECT_EQ(produce(records({id1 + "{}", id1 + "{\"a\":1}"}), -1, "framed").integer("ErrorCode"),
              0);
    // One record of the batch unframed, or of an unknown id: the whole batch is refused.
    EXPECT_EQ(produce(records({id1 + "{}", "{}"}), -1, "framed").integer("ErrorCode"), 87);
    EXPECT_EQ(produce(records({id9 + "{}"}), -1, "framed").integer("ErrorCode"), 87);
    EXPECT_EQ(produce(records({"\0\0"}), -1, "framed").integer("ErrorCode"), 87);
    EXPECT_EQ(log_->find_topic("framed")->partition(0)->end_offset(), 2);
    // Topics without the setting take anything.
    EXPECT_EQ(produce(records({"{}"})).integer("ErrorCode"), 0);
}

TEST_F(BrokerTest, AcksAllOnAnFsyncAlwaysTopicAnswersAfterTheFsync) {
    TopicConfig config;
    config.fsync = FsyncPolicy::kAlways;
    ASSERT_TRUE(log_->create_topic("ledger", config).ok());
    Struct answer = produce(batch(2), -1, "ledger");
    EXPECT_EQ(answer.integer("ErrorCode"), 0);
    EXPECT_EQ(log_->find_topic("ledger")->partition(0)->durable_offset(), 2);
}

TEST_F(BrokerTest, AcksZeroGetsNoResponse) {
    Struct request(api(ApiKey::kProduce).request);
    request.set("Acks", 0);
    Struct& data = request.add("TopicData");
    data.set("Name", std::string("orders"));
    data.add("PartitionData").set("Index", 1).set("Records", batch(4));
    WireWriter writer;
    MessageCodec::encode(request, 7, false, writer);
    EXPECT_FALSE(call({0, 7, 1, std::nullopt}, false, writer.buffer()).has_value());
    EXPECT_EQ(log_->find_topic("orders")->partition(1)->end_offset(), 4);
}

TEST_F(BrokerTest, IdempotentProducerDeduplicatesAndRefusesGaps) {
    EXPECT_EQ(produce(batch(2, 5000, 0)).integer("BaseOffset"), 0);
    EXPECT_EQ(produce(batch(3, 5000, 2)).integer("BaseOffset"), 2);
    // A retry of the first batch: the original offset, nothing written.
    Struct duplicate = produce(batch(2, 5000, 0));
    EXPECT_EQ(duplicate.integer("ErrorCode"), 0);
    EXPECT_EQ(duplicate.integer("BaseOffset"), 0);
    EXPECT_EQ(produce(batch(1, 5000, 9)).integer("ErrorCode"), 45);
    EXPECT_EQ(log_->find_topic("orders")->partition(0)->end_offset(), 5);
    // After a restart the state comes back from the batch headers.
    broker_->stop();
    broker_ = std::make_unique<Broker>(*log_, clock_, logger_, BrokerOptions{});
    ASSERT_TRUE(broker_->start().ok());
    EXPECT_EQ(produce(batch(3, 5000, 2)).integer("BaseOffset"), 2);
    EXPECT_EQ(produce(batch(1, 5000, 9)).integer("ErrorCode"), 45);
    EXPECT_EQ(produce(batch(1, 5000, 5)).integer("BaseOffset"), 5);
}

TEST_F(BrokerTest, InitProducerIdHandsOutIdsAndBumpsEpochs) {
    Struct request(api(ApiKey::kInitProducerId).request);
    request.set("TransactionTimeoutMs", 60000);
    Struct first = roundtrip(ApiKey::kInitProducerId, 4, request);  // flexible
    ASSERT_EQ(first.integer("ErrorCode"), 0);
    const int64_t id = first.integer("ProducerId");
    EXPECT_EQ(first.integer("ProducerEpoch"), 0);
    EXPECT_NE(roundtrip(ApiKey::kInitProducerId, 0, request).integer("ProducerId"), id);
    // KIP-360: the same id, the next epoch; the old epoch is fenced on the partitions.
    ASSERT_EQ(produce(batch(2, id, 0, 0)).integer("ErrorCode"), 0);
    request.set("ProducerId", id).set("ProducerEpoch", 0);
    Struct bumped = roundtrip(ApiKey::kInitProducerId, 4, request);
    EXPECT_EQ(bumped.integer("ProducerId"), id);
    EXPECT_EQ(bumped.integer("ProducerEpoch"), 1);
    EXPECT_EQ(produce(batch(1, id, 0, 1)).integer("ErrorCode"), 0);
    EXPECT_EQ(produce(batch(1, id, 2, 0)).integer("ErrorCode"), 47);
    // An id we never issued gets a fresh one.
    request.set("ProducerId", 5);
    EXPECT_NE(roundtrip(ApiKey::kInitProducerId, 4, request).integer("ProducerId"), 5);
    // A transactional id needs a valid transaction timeout.
    request.set("TransactionalId", std::string("tx")).set("TransactionTimeoutMs", 0);
    EXPECT_EQ(roundtrip(ApiKey::kInitProducerId, 4, request).integer("ErrorCode"), 50);
}

TEST_F(BrokerTest, TransactionsCommitAbortFenceAndReadCommitted) {
    auto init = [&] {
        Struct request(api(ApiKey::kInitProducerId).request);
        request.set("TransactionalId", std::string("tx")).set("TransactionTimeoutMs", 60000);
        return roundtrip(ApiKey::kInitProducerId, 1, request);
    };
    Struct first = init();
    ASSERT_EQ(first.integer("ErrorCode"), 0);
    const int64_t id = first.integer("ProducerId");
    EXPECT_EQ(first.integer("ProducerEpoch"), 0);
    auto add_partitions = [&](int16_t epoch, const char* topic_name) {
        Struct request(api(ApiKey::kAddPartitionsToTxn).request);
        request.set("TransactionalId", std::string("tx")).set("ProducerId", id);
        request.set("ProducerEpoch", epoch);
        Struct& topic = request.add("Topics");
        topic.set("Name", std::string(topic_name)).set("Partitions", std::vector<int64_t>{0});
        return roundtrip(ApiKey::kAddPartitionsToTxn, 1, request)
            .array("Results")[0]
            .array("Results")[0]
            .integer("ErrorCode");
    };
    auto transactional = [&](int count, int32_t sequence, int16_t epoch) {
        std::string out = batch(count, id, sequence, epoch);
        out[22] = static_cast<char>(out[22] | 0x10);
        const uint32_t crc = crc32c(out.data() + 21, out.size() - 21);
        for (int i = 0; i < 4; ++i) out[17 + i] = static_cast<char>(crc >> (8 * (3 - i)));
        return out;
    };
    auto produce_in_txn = [&](const std::string& records) {
        Struct request(api(ApiKey::kProduce).request);
        request.set("TransactionalId", std::string("tx")).set("Acks", -1).set("TimeoutMs", 1000);
        Struct& data = request.add("TopicData");
        data.set("Name", std::string("orders"));
        data.add("PartitionData").set("Index", 0).set("Records", records);
        return roundtrip(ApiKey::kProduce, 7, request)
            .array("Responses")[0]
            .array("PartitionResponses")[0]
            .integer("ErrorCode");
    };
    auto end = [&](int16_t epoch, bool commit) {
        Struct request(api(ApiKey::kEndTxn).request);
        request.set("TransactionalId", std::string("tx")).set("ProducerId", id);
        request.set("ProducerEpoch", epoch).set("Committed", commit ? 1 : 0);
        return roundtrip(ApiKey::kEndTxn, 1, request).integer("ErrorCode");
    };
    auto fetch = [&](int8_t isolation) {
        Struct request(api(ApiKey::kFetch).request);
        request.set("MaxWaitMs", 0).set("MinBytes", 1).set("MaxBytes", 1 << 20);
        request.set("IsolationLevel", isolation);
        Struct& topic = request.add("Topics");
        topic.set("Topic", std::string("orders"));
        topic.add("Partitions")
            .set("Partition", 0)
            .set("FetchOffset", 0)
            .set("PartitionMaxBytes", 1 << 20);
        return roundtrip(ApiKey::kFetch, 11, request).array("Responses")[0].array("Partitions")[0];
    };
    auto latest = [&](int8_t isolation) {
        Struct request(api(ApiKey::kListOffsets).request);
        request.set("ReplicaId", -1).set("IsolationLevel", isolation);
        Struct& topic = request.add("Topics");
        topic.set("Name", std::string("orders"));
        topic.add("Partitions").set("PartitionIndex", 0).set("Timestamp", -1);
        return roundtrip(ApiKey::kListOffsets, 5, request)
            .array("Topics")[0]
            .array("Partitions")[0]
            .integer("Offset");
    };

    // A partition not added to the transaction, and a plain batch in a transactional request.
    EXPECT_EQ(produce_in_txn(transactional(2, 0, 0)), 48);  // INVALID_TXN_STATE
    EXPECT_EQ(add_partitions(0, "nope"), 3);
    ASSERT_EQ(add_partitions(0, "orders"), 0);
    EXPECT_EQ(produce_in_txn(batch(1, id, 0, 0)), 87);  // INVALID_RECORD
    EXPECT_EQ(produce(transactional(1, 0, 0)).integer("ErrorCode"), 87);
    ASSERT_EQ(produce_in_txn(transactional(2, 0, 0)), 0);

    // Open: read_committed sees nothing and the last stable offset is its first record.
    Struct open = fetch(1);
    EXPECT_EQ(open.integer("HighWatermark"), 2);
    EXPECT_EQ(open.integer("LastStableOffset"), 0);
    EXPECT_TRUE(open.string("Records").empty());
    EXPECT_FALSE(fetch(0).string("Records").empty());
    EXPECT_EQ(latest(1), 0);
    EXPECT_EQ(latest(0), 2);

    // Aborted: the batch and its marker are served with the aborted transaction listed.
    ASSERT_EQ(end(0, false), 0);
    Struct aborted = fetch(1);
    EXPECT_EQ(aborted.integer("LastStableOffset"), 3);
    ASSERT_EQ(aborted.array("AbortedTransactions").size(), 1u);
    EXPECT_EQ(aborted.array("AbortedTransactions")[0].integer("ProducerId"), id);
    EXPECT_EQ(aborted.array("AbortedTransactions")[0].integer("FirstOffset"), 0);
    EXPECT_EQ(latest(1), 3);

    // A new incarnation fences the old epoch; its committed transaction carries group offsets.
    Struct second = init();
    EXPECT_EQ(second.integer("ProducerId"), id);
    EXPECT_EQ(second.integer("ProducerEpoch"), 1);
    EXPECT_EQ(add_partitions(0, "orders"), 47);  // INVALID_PRODUCER_EPOCH
    ASSERT_EQ(add_partitions(1, "orders"), 0);
    ASSERT_EQ(produce_in_txn(transactional(1, 0, 1)), 0);
    Struct offsets(api(ApiKey::kAddOffsetsToTxn).request);
    offsets.set("TransactionalId", std::string("tx")).set("ProducerId", id);
    offsets.set("ProducerEpoch", 1).set("GroupId", std::string("billing"));
    ASSERT_EQ(roundtrip(ApiKey::kAddOffsetsToTxn, 1, offsets).integer("ErrorCode"), 0);
    Struct commit(api(ApiKey::kTxnOffsetCommit).request);
    commit.set("TransactionalId", std::string("tx")).set("GroupId", std::string("billing"));
    commit.set("ProducerId", id).set("ProducerEpoch", 1);
    Struct& topic = commit.add("Topics");
    topic.set("Name", std::string("orders"));
    topic.add("Partitions").set("PartitionIndex", 1).set("CommittedOffset", 17);
    Struct committed = roundtrip(ApiKey::kTxnOffsetCommit, 2, commit);
    EXPECT_EQ(committed.array("Topics")[0].array("Partitions")[0].integer("ErrorCode"), 0);
    auto before = log_->consumer_offsets().fetch("billing", "orders", 1);
    ASSERT_TRUE(before.ok());
    EXPECT_FALSE(before->has_value());  // not before the transaction commits
    ASSERT_EQ(end(1, true), 0);
    auto after = log_->consumer_offsets().fetch("billing", "orders", 1);
    ASSERT_TRUE(after.ok() && after->has_value());
    EXPECT_EQ(**after, 17);
    EXPECT_EQ(latest(1), 5);
    EXPECT_EQ(log_->find_topic("orders")->partition(0)->stable_offset(), 5);
}

TEST_F(BrokerTest, FetchServesStoredBytesAsTheyAre) {
    const std::string sent = batch(3);
    ASSERT_EQ(produce(sent).integer("ErrorCode"), 0);
    Struct request(api(ApiKey::kFetch).request);
    request.set("MaxWaitMs", 0).set("MinBytes", 1).set("MaxBytes", 1 << 20);
    Struct& topic = request.add("Topics");
    topic.set("Topic", std::string("orders"));
    topic.add("Partitions")
        .set("Partition", 0)
        .set("FetchOffset", 1)
        .set("PartitionMaxBytes", 1 << 20);
    Struct response = roundtrip(ApiKey::kFetch, 11, request);
    const Struct& partition = response.array("Responses")[0].array("Partitions")[0];
    EXPECT_EQ(partition.integer("ErrorCode"), 0);
    EXPECT_EQ(partition.integer("HighWatermark"), 3);
    EXPECT_EQ(partition.integer("LastStableOffset"), 3);
    EXPECT_EQ(partition.string("Records"), sent);  // base offset 0 as assigned
}

TEST_F(BrokerTest, AWaitingFetchWakesOnAnAppendByAnyWriterNotOnATimer) {
    // The broker's clock stands still: only the append can wake the fetch (no polling timer
    // would ever be due), and the append goes through the log as HTTP ingestion's does.
    ManualClock frozen(1'000'000'000);
    Broker broker(*log_, frozen, logger_, BrokerOptions{});
    ASSERT_TRUE(broker.start().ok());
    Struct request(api(ApiKey::kFetch).request);
    request.set("MaxWaitMs", 30000).set("MinBytes", 1).set("MaxBytes", 1 << 20);
    Struct& topic = request.add("Topics");
    topic.set("Topic", std::string("orders"));
    topic.add("Partitions")
        .set("Partition", 0)
        .set("FetchOffset", 0)
        .set("PartitionMaxBytes", 1 << 20);
    WireWriter writer;
    MessageCodec::encode(request, 11, false, writer);
    const std::string frame =
        frame_request({1, 11, 9, std::string("test")}, false, writer.buffer());
    std::promise<std::optional<std::string>> answered;
    broker.handle(
        std::string_view(frame).substr(kSizePrefix), "127.0.0.1",
        [&](std::optional<std::string> response) { answered.set_value(std::move(response)); });
    auto future = answered.get_future();
    ASSERT_EQ(future.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
    const RecordInput record{std::nullopt, "{\"a\":1}", 1000};
    ASSERT_TRUE(log_->find_topic("orders")->partition(0)->append(std::span(&record, 1)).ok());
    ASSERT_EQ(future.wait_for(std::chrono::seconds(60)), std::future_status::ready);
    EXPECT_TRUE(future.get().has_value());
    broker.stop();
}

TEST_F(BrokerTest, FetchWaitsForDataAndKeepsToMaxBytesAfterTheFirstBatch) {
    auto fetch_request = [](int64_t wait_ms, int64_t max_bytes, int64_t offset) {
        Struct request(api(ApiKey::kFetch).request);
        request.set("MaxWaitMs", wait_ms).set("MinBytes", 1).set("MaxBytes", max_bytes);
        Struct& topic = request.add("Topics");
        topic.set("Topic", std::string("orders"));
        for (int32_t p = 0; p < 2; ++p) {
            topic.add("Partitions")
                .set("Partition", p)
                .set("FetchOffset", offset)
                .set("PartitionMaxBytes", 1 << 20);
        }
        return request;
    };
    // A long poll at the end of the log is answered when records arrive.
    auto waiting = std::async(std::launch::async, [&] {
        return roundtrip(ApiKey::kFetch, 11, fetch_request(30000, 1 << 20, 0));
    });
    ASSERT_EQ(waiting.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
    ASSERT_EQ(produce(batch(2)).integer("ErrorCode"), 0);
    Struct woken = waiting.get();
    EXPECT_FALSE(woken.array("Responses")[0].array("Partitions")[0].string("Records").empty());

    // Partition 1 gets a batch too; with MaxBytes 1 only the first partition's batch comes.
    Struct request(api(ApiKey::kProduce).request);
    request.set("Acks", 1);
    Struct& data = request.add("TopicData");
    data.set("Name", std::string("orders"));
    data.add("PartitionData").set("Index", 1).set("Records", batch(3));
    ASSERT_EQ(roundtrip(ApiKey::kProduce, 7, request)
                  .array("Responses")[0]
                  .array("PartitionResponses")[0]
                  .integer("ErrorCode"),
              0);
    Struct small = roundtrip(ApiKey::kFetch, 11, fetch_request(0, 1, 0));
    const auto& partitions = small.array("Responses")[0].array("Partitions");
    EXPECT_FALSE(partitions[0].string("Records").empty());
    EXPECT_TRUE(partitions[1].string("Records").empty());
    EXPECT_EQ(partitions[1].integer("HighWatermark"), 3);
    // Beyond the end: OFFSET_OUT_OF_RANGE.
    EXPECT_EQ(roundtrip(ApiKey::kFetch, 11, fetch_request(0, 1 << 20, 99))
                  .array("Responses")[0]
                  .array("Partitions")[0]
                  .integer("ErrorCode"),
              1);
}

TEST_F(BrokerTest, CreateAndDeleteTopicsNeverLeaveAStaleAnswer) {
    Struct create(api(ApiKey::kCreateTopics).request);
    create.add("Topics")
        .set("Name", std::string("fresh"))
        .set("NumPartitions", 3)
        .set("ReplicationFactor", 1);
    Struct created = roundtrip(ApiKey::kCreateTopics, 4, create);
    EXPECT_EQ(created.array("Topics")[0].integer("ErrorCode"), 0);
    EXPECT_EQ(roundtrip(ApiKey::kCreateTopics, 4, create).array("Topics")[0].integer("ErrorCode"),
              36);
    Struct metadata(api(ApiKey::kMetadata).request);
    metadata.add("Topics").set("Name", std::string("fresh"));
    Struct described = roundtrip(ApiKey::kMetadata, 8, metadata);
    EXPECT_EQ(described.array("Topics")[0].integer("ErrorCode"), 0);
    EXPECT_EQ(described.array("Topics")[0].array("Partitions").size(), 3u);
    EXPECT_EQ(produce(batch(1), -1, "fresh").integer("ErrorCode"), 0);

    Struct remove(api(ApiKey::kDeleteTopics).request);
    remove.set("TopicNames", std::vector<std::string>{"fresh"});
    EXPECT_EQ(
        roundtrip(ApiKey::kDeleteTopics, 3, remove).array("Responses")[0].integer("ErrorCode"), 0);
    EXPECT_EQ(roundtrip(ApiKey::kMetadata, 8, metadata).array("Topics")[0].integer("ErrorCode"), 3);
    EXPECT_EQ(produce(batch(1), -1, "fresh").integer("ErrorCode"), 3);
}

TEST_F(BrokerTest, AutoCreationIsOffByDefaultAndFollowsTheRequestWhenOn) {
    Struct metadata(api(ApiKey::kMetadata).request);
    metadata.add("Topics").set("Name", std::string("fresh"));
    metadata.set("AllowAutoTopicCreation", 1);
    EXPECT_EQ(roundtrip(ApiKey::kMetadata, 8, metadata).array("Topics")[0].integer("ErrorCode"), 3);
    EXPECT_EQ(produce(batch(1), -1, "fresh").integer("ErrorCode"), 3);
    EXPECT_EQ(log_->find_topic("fresh"), nullptr);

    broker_->stop();
    BrokerOptions options;
    options.auto_create_topics = true;
    options.default_partitions = 3;
    broker_ = std::make_unique<Broker>(*log_, clock_, logger_, options);
    ASSERT_TRUE(broker_->start().ok());
    metadata.set("AllowAutoTopicCreation", 0);  // a consumer's request: never creates
    EXPECT_EQ(roundtrip(ApiKey::kMetadata, 8, metadata).array("Topics")[0].integer("ErrorCode"), 3);
    metadata.set("AllowAutoTopicCreation", 1);
    Struct created = roundtrip(ApiKey::kMetadata, 8, metadata);
    EXPECT_EQ(created.array("Topics")[0].integer("ErrorCode"), 0);
    EXPECT_EQ(created.array("Topics")[0].array("Partitions").size(), 3u);
    EXPECT_EQ(produce(batch(1), -1, "other").integer("ErrorCode"), 0);  // Produce creates too
}

TEST_F(BrokerTest, ListOffsetsLatestEarliestAndByTimestamp) {
    ASSERT_EQ(produce(batch(3)).integer("ErrorCode"), 0);  // timestamps 1000
    auto list = [&](int64_t timestamp) {
        Struct request(api(ApiKey::kListOffsets).request);
        request.set("ReplicaId", -1);
        Struct& topic = request.add("Topics");
        topic.set("Name", std::string("orders"));
        topic.add("Partitions").set("PartitionIndex", 0).set("Timestamp", timestamp);
        return roundtrip(ApiKey::kListOffsets, 5, request)
            .array("Topics")[0]
            .array("Partitions")[0];
    };
    EXPECT_EQ(list(-1).integer("Offset"), 3);
    EXPECT_EQ(list(-2).integer("Offset"), 0);
    EXPECT_EQ(list(500).integer("Offset"), 0);
    EXPECT_EQ(list(500).integer("Timestamp"), 1000);
    EXPECT_EQ(list(5000).integer("Offset"), -1);  // no record at or after it
}

TEST_F(BrokerTest, OffsetCommitGoesToTheLogsConsumerOffsets) {
    Struct commit(api(ApiKey::kOffsetCommit).request);
    commit.set("GroupId", std::string("billing"));
    Struct& topic = commit.add("Topics");
    topic.set("Name", std::string("orders"));
    topic.add("Partitions").set("PartitionIndex", 1).set("CommittedOffset", 42);
    Struct committed = roundtrip(ApiKey::kOffsetCommit, 2, commit);
    EXPECT_EQ(committed.array("Topics")[0].array("Partitions")[0].integer("ErrorCode"), 0);
    auto stored = log_->consumer_offsets().fetch("billing", "orders", 1);
    ASSERT_TRUE(stored.ok() && stored->has_value());
    EXPECT_EQ(**stored, 42);

    Struct fetch(api(ApiKey::kOffsetFetch).request);
    fetch.set("GroupId", std::string("billing"));
    Struct& wanted = fetch.add("Topics");
    wanted.set("Name", std::string("orders"));
    wanted.set("PartitionIndexes", std::vector<int64_t>{0, 1});
    Struct fetched = roundtrip(ApiKey::kOffsetFetch, 1, fetch);
    const auto& partitions = fetched.array("Topics")[0].array("Partitions");
    ASSERT_EQ(partitions.size(), 2u);
    EXPECT_EQ(partitions[0].integer("CommittedOffset"), -1);  // none: -1, no error
    EXPECT_EQ(partitions[0].integer("ErrorCode"), 0);
    EXPECT_EQ(partitions[1].integer("CommittedOffset"), 42);
    // v7 is flexible: compact encoding, tagged fields, response header v1.
    Struct flexible = roundtrip(ApiKey::kOffsetFetch, 7, fetch);
    EXPECT_EQ(flexible.array("Topics")[0].array("Partitions")[1].integer("CommittedOffset"), 42);
    // v2+: a null topic list asks for every committed partition of the group.
    fetch.set_null("Topics");
    Struct all = roundtrip(ApiKey::kOffsetFetch, 5, fetch);
    ASSERT_EQ(all.array("Topics").size(), 1u);
    EXPECT_EQ(all.array("Topics")[0].array("Partitions").size(), 1u);
}

}  // namespace

}  // namespace millrace::kafka
