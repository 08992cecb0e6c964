#include "kafka/wire.h"

#include <gtest/gtest.h>

namespace millrace::kafka {

namespace {

TEST(WireReader, RoundTripsEveryPrimitive) {
    WireWriter writer;
    writer.int8(-3);
    writer.int16(-2);
    writer.int32(123456789);
    writer.int64(-9876543210);
    writer.unsigned_varint(300);
    writer.varint(-64);
    writer.varlong(int64_t{1} << 40);
    writer.string("abc", false);
    writer.string(std::nullopt, false);
    writer.string("compact", true);
    writer.string(std::nullopt, true);
    writer.bytes("xyz", false);
    writer.bytes("", true);
    writer.array_length(2, true);
    writer.array_length(std::nullopt, false);
    writer.empty_tagged_fields();
    const std::string bytes = writer.take();
    WireReader reader(bytes);
    EXPECT_EQ(reader.int8(), -3);
    EXPECT_EQ(reader.int16(), -2);
    EXPECT_EQ(reader.int32(), 123456789);
    EXPECT_EQ(reader.int64(), -9876543210);
    EXPECT_EQ(reader.unsigned_varint(), 300u);
    EXPECT_EQ(reader.varint(), -64);
    EXPECT_EQ(reader.varlong(), int64_t{1} << 40);
    EXPECT_EQ(reader.string(false), "abc");
    EXPECT_EQ(reader.string(false), std::nullopt);
    EXPECT_EQ(reader.string(true), "compact");
    EXPECT_EQ(reader.string(true), std::nullopt);
    EXPECT_EQ(reader.bytes(false), "xyz");
    EXPECT_EQ(reader.bytes(true), "");
    // An array count the remaining bytes cannot hold fails the reader (checked below).
    EXPECT_TRUE(reader.ok());
    EXPECT_EQ(reader.remaining(), 6u);
}

TEST(WireReader, CompactLengthsAreUnsignedVarintsOfLengthPlusOne) {
    WireWriter writer;
    writer.string(std::string(200, 'a'), true);
    const std::string bytes = writer.take();
    // 201 = 0xC9 0x01 as an unsigned varint (not zig-zag).
    ASSERT_GE(bytes.size(), 2u);
    EXPECT_EQ(static_cast<unsigned char>(bytes[0]), 0xC9);
    EXPECT_EQ(static_cast<unsigned char>(bytes[1]), 0x01);
}

TEST(WireReader, TruncatedAndHostileInputFailsWithoutCrashing) {
    WireReader short_int(std::string_view("\x01", 1));
    short_int.int32();
    EXPECT_FALSE(short_int.ok());
    EXPECT_EQ(short_int.int64(), 0);

    const std::string huge_string("\x7f\xff", 2);
    WireReader string_reader(huge_string);
    EXPECT_EQ(string_reader.string(false), std::nullopt);
    EXPECT_FALSE(string_reader.ok());

    const std::string huge_array("\x7f\xff\xff\xff", 4);
    WireReader array_reader(huge_array);
    EXPECT_EQ(array_reader.array_length(false), std::nullopt);
    EXPECT_FALSE(array_reader.ok());

    const std::string negative("\xff\xfe", 2);  // length -2
    WireReader negative_reader(negative);
    negative_reader.string(false);
    EXPECT_FALSE(negative_reader.ok());

    const std::string endless_varint(10, '\xff');
    WireReader varint_reader(endless_varint);
    varint_reader.unsigned_varint();
    EXPECT_FALSE(varint_reader.ok());

    const std::string tags("\x01\x05\x7f", 3);  // one tag claiming 127 bytes
    WireReader tag_reader(tags);
    tag_reader.skip_tagged_fields();
    EXPECT_FALSE(tag_reader.ok());
}

}  // namespace

}  // namespace millrace::kafka
