#include "log/batch_compression.h"

#include <gtest/gtest.h>

#include "log/crc32c.h"
#include "log/partition.h"
#include "log/record_batch.h"
#include "log/tests/log_test_dir.h"

namespace millrace {

namespace {

constexpr BatchCodec kCodecs[] = {BatchCodec::kGzip, BatchCodec::kSnappy, BatchCodec::kLz4,
                                  BatchCodec::kZstd};

/// A batch as a Kafka client sends it: the records section compressed, the codec in the
/// attributes, the CRC over the compressed bytes.
std::string compressed_batch(BatchCodec codec, int count) {
    std::vector<std::string> values;
    std::vector<RecordInput> records;
    for (int i = 0; i < count; ++i) values.push_back("value-" + std::to_string(i));
    for (int i = 0; i < count; ++i) records.push_back({std::nullopt, values[i], 1000 + i});
    std::string plain;
    record_batch::encode(records, plain);
    std::string blob;
    batch_compression::compress(codec, std::string_view(plain).substr(record_batch::kHeaderSize),
                                blob);
    std::string batch = plain.substr(0, record_batch::kHeaderSize) + blob;
    const auto length = static_cast<uint32_t>(batch.size() - record_batch::kLengthPrefix);
    for (int i = 0; i < 4; ++i) batch[8 + i] = static_cast<char>(length >> (24 - 8 * i));
    batch[22] = static_cast<char>(codec);
    const uint32_t crc = crc32c(batch.data() + 21, batch.size() - 21);
    for (int i = 0; i < 4; ++i) batch[17 + i] = static_cast<char>(crc >> (24 - 8 * i));
    return batch;
}

TEST(BatchCompression, RoundTripsEveryCodec) {
    const std::string input(10000, 'a');
    for (BatchCodec codec : kCodecs) {
        std::string compressed;
        batch_compression::compress(codec, input, compressed);
        std::string out;
        ASSERT_TRUE(batch_compression::decompress(codec, compressed, 1 << 20, out).ok());
        EXPECT_EQ(out, input);
    }
}

TEST(BatchCompression, RefusesGarbageAndBombs) {
    const std::string input(100000, 'a');
    for (BatchCodec codec : kCodecs) {
        std::string compressed;
        batch_compression::compress(codec, input, compressed);
        std::string out;
        EXPECT_FALSE(batch_compression::decompress(codec, compressed, 1000, out).ok());
        out.clear();
        const std::string truncated = compressed.substr(0, compressed.size() / 2);
        EXPECT_FALSE(batch_compression::decompress(codec, truncated, 1 << 20, out).ok());
        out.clear();
        EXPECT_FALSE(batch_compression::decompress(codec, "garbage!garbage!", 1 << 20, out).ok());
    }
}

TEST(BatchCompression, CompressedClientBatchValidatesAndReadsBack) {
    for (BatchCodec codec : kCodecs) {
        std::string batch = compressed_batch(codec, 5);
        ASSERT_TRUE(record_batch::validate(batch).ok()) << static_cast<int>(codec);
        std::string broken = batch;
        broken.back() ^= 0x55;
        EXPECT_FALSE(record_batch::validate(broken).ok());

        LogTestDir dir;
        auto partition = Partition::open(dir.path(), 0, TopicConfig{});
        ASSERT_TRUE(partition.ok());
        std::string first = compressed_batch(codec, 3);
        ASSERT_TRUE((*partition)->append_encoded(first).ok());
        auto appended = (*partition)->append_encoded(batch);
        ASSERT_TRUE(appended.ok());
        EXPECT_EQ(appended->first, 3);
        EXPECT_EQ(appended->last, 7);
        std::string buffer;
        std::vector<RecordView> views;
        auto next = (*partition)->read(4, 100, 100, 1 << 20, buffer, views);
        ASSERT_TRUE(next.ok()) << next.error().to_string();
        ASSERT_EQ(views.size(), 4u);
        EXPECT_EQ(views[0].offset, 4);
        EXPECT_EQ(views[0].value, "value-1");
        EXPECT_EQ(*next, 8);
        // Fetch serves the stored bytes as they are: still compressed.
        std::string raw;
        auto any = (*partition)->read_batches(4, 1, raw);
        ASSERT_TRUE(any.ok() && *any);
        EXPECT_EQ(record_batch::read_header(raw.data()).codec(), static_cast<int8_t>(codec));
        EXPECT_EQ(record_batch::read_header(raw.data()).base_offset, 3);
    }
}

}  // namespace

}  // namespace millrace
