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

}  // namespace millrace
