#include "log/record_batch.h"

#include <gtest/gtest.h>

#include <vector>

namespace millrace {

TEST(RecordBatch, EncodesKafkaV2Header) {
    std::vector<RecordInput> records = {{std::string_view("k1"), "hello", 1000},
                                        {std::nullopt, "world!", 1005}};
    std::string batch;
    record_batch::encode(records, batch);
    record_batch::set_base_offset(batch.data(), 42);
    const record_batch::Header header = record_batch::read_header(batch.data());
    EXPECT_EQ(header.base_offset, 42);
    EXPECT_EQ(header.total_size(), batch.size());
    EXPECT_EQ(header.magic, 2);
    EXPECT_EQ(header.record_count, 2);
    EXPECT_EQ(header.last_offset_delta, 1);
    EXPECT_EQ(header.base_timestamp, 1000);
    EXPECT_EQ(header.max_timestamp, 1005);
    ASSERT_TRUE(record_batch::validate(batch).ok());

    std::vector<RecordView> views;
    ASSERT_TRUE(record_batch::decode(batch, 0, views).ok());
    ASSERT_EQ(views.size(), 2u);
    EXPECT_EQ(views[0].offset, 42);
    EXPECT_EQ(*views[0].key, "k1");
    EXPECT_EQ(views[0].value, "hello");
    EXPECT_EQ(views[0].timestamp_ms, 1000);
    EXPECT_FALSE(views[1].key.has_value());
    EXPECT_EQ(views[1].value, "world!");
    EXPECT_EQ(views[1].offset, 43);

    views.clear();
    ASSERT_TRUE(record_batch::decode(batch, 43, views).ok());
    ASSERT_EQ(views.size(), 1u);
    EXPECT_EQ(views[0].offset, 43);
}

TEST(RecordBatch, BaseOffsetIsOutsideTheCrc) {
    std::vector<RecordInput> records = {{std::nullopt, "x", 1}};
    std::string batch;
    record_batch::encode(records, batch);
    record_batch::set_base_offset(batch.data(), 123456789);
    EXPECT_TRUE(record_batch::validate(batch).ok());
}

TEST(RecordBatch, DetectsCorruption) {
    const std::string value(300, 'a');
    std::vector<RecordInput> records = {{std::nullopt, value, 1}};
    std::string batch;
    record_batch::encode(records, batch);
    for (std::size_t at : {std::size_t{16}, std::size_t{22}, std::size_t{70}, batch.size() - 1}) {
        std::string broken = batch;
        broken[at] = static_cast<char>(broken[at] ^ 0x5a);
        Status status = record_batch::validate(broken);
        ASSERT_FALSE(status.ok()) << at;
        EXPECT_EQ(status.error().code(), ErrorCode::kCorruption);
    }
    EXPECT_FALSE(record_batch::validate(std::string_view(batch).substr(0, batch.size() - 1)).ok());
}

// Multi-byte varints everywhere (200 records, keys of 200 bytes, a timestamp before the base),
// empty values, and a batch encoded after bytes already in the buffer: every field decodes back.
TEST(RecordBatch, RoundTripsLongKeysAndVarints) {
    const std::string long_key(200, 'k');
    const std::string value(1000, 'v');
    std::vector<RecordInput> records;
    for (int i = 0; i < 200; ++i) {
        records.push_back({i % 3 == 0 ? std::optional<std::string_view>(long_key) : std::nullopt,
                           i % 5 == 0 ? std::string_view() : std::string_view(value),
                           100000 + (i % 7) * 1000 - 3000});
    }
    std::string buffer = "previous bytes";
    record_batch::encode(records, buffer);
    const std::string_view batch = std::string_view(buffer).substr(14);
    ASSERT_TRUE(record_batch::validate(batch).ok());
    const record_batch::Header header = record_batch::read_header(batch.data());
    EXPECT_EQ(header.base_timestamp, 97000);
    EXPECT_EQ(header.max_timestamp, 103000);
    std::vector<RecordView> views;
    ASSERT_TRUE(record_batch::decode(batch, 0, views).ok());
    ASSERT_EQ(views.size(), records.size());
    for (std::size_t i = 0; i < records.size(); ++i) {
        EXPECT_EQ(views[i].offset, static_cast<Offset>(i));
        EXPECT_EQ(views[i].timestamp_ms, records[i].timestamp_ms);
        EXPECT_EQ(views[i].key.has_value(), records[i].key.has_value());
        if (records[i].key) {
            EXPECT_EQ(*views[i].key, *records[i].key);
        }
        EXPECT_EQ(views[i].value, records[i].value);
    }
}

// The batch is sized before it is written: encoding into an empty buffer allocates once, exactly
// the batch (growing while appending copied the batch again at every doubling).
TEST(RecordBatch, EncodesWithOneAllocation) {
    const std::string value(1024, 'a');
    std::vector<RecordInput> records(100, RecordInput{std::nullopt, value, 5});
    std::string batch;
    record_batch::encode(records, batch);
    EXPECT_EQ(batch.capacity(), batch.size());
    EXPECT_TRUE(record_batch::validate(batch).ok());
}

TEST(RecordBatch, TransactionMarkersAreValidControlBatchesThatYieldNoRecords) {
    for (const bool commit : {true, false}) {
        std::string batch;
        record_batch::encode_control(4242, 3, commit, 5000, batch);
        ASSERT_TRUE(record_batch::validate(batch).ok());
        const record_batch::Header header = record_batch::read_header(batch.data());
        EXPECT_TRUE(header.control());
        EXPECT_TRUE(header.transactional());
        EXPECT_EQ(header.producer_id, 4242);
        EXPECT_EQ(header.producer_epoch, 3);
        EXPECT_EQ(header.record_count, 1);
        // The key is Kafka's control record key: version 0, type 1 = COMMIT, 0 = ABORT.
        EXPECT_EQ(batch.substr(batch.size() - 12, 4),
                  std::string("\0\0\0", 3) + (commit ? "\x01" : std::string(1, '\0')));
        std::vector<RecordView> views;
        ASSERT_TRUE(record_batch::decode(batch, 0, views).ok());
        EXPECT_TRUE(views.empty());
    }
}

}  // namespace millrace
