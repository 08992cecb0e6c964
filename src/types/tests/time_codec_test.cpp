#include "types/time_codec.h"

#include <gtest/gtest.h>

namespace millrace {
namespace {

TEST(TimeCodecTest, ParsesTimestampForms) {
    EXPECT_EQ(parse_timestamp("1970-01-01T00:00:00Z"), 0);
    EXPECT_EQ(parse_timestamp("1970-01-01 00:00:01"), 1'000'000);
    EXPECT_EQ(parse_timestamp("2024-03-05T14:07:09Z"), 1709647629'000'000LL);
    EXPECT_EQ(parse_timestamp("2024-03-05T14:07:09.5Z"), 1709647629'500'000LL);
    EXPECT_EQ(parse_timestamp("2024-03-05T14:07:09.123456789Z"), 1709647629'123'456LL);
    EXPECT_EQ(parse_timestamp("2024-03-05T22:07:09+08:00"), 1709647629'000'000LL);
    EXPECT_EQ(parse_timestamp("2024-03-05T09:07:09-0500"), 1709647629'000'000LL);
    EXPECT_EQ(parse_timestamp("2024-03-05T14:07"), 1709647620'000'000LL);
    EXPECT_EQ(parse_timestamp("2024-03-05"), 1709596800'000'000LL);
    EXPECT_EQ(parse_timestamp("1969-12-31T23:59:59.999999Z"), -1);
    EXPECT_EQ(parse_timestamp("2024-03-05 14:07:09 UTC"), 1709647629'000'000LL);
}

TEST(TimeCodecTest, RejectsBadTimestamps) {
    for (const char* text :
         {"", "2024", "2024-13-01", "2024-02-30", "2023-02-29T00:00:00", "2024-01-01T24:00:00",
          "2024-01-01T10:61", "2024-01-01T10:00:00.", "2024-01-01T10:00:00Zjunk",
          "2024-01-01X10:00", "abc", "2024-01-01T10:00:00+99:00", "0000-01-01"}) {
        EXPECT_EQ(parse_timestamp(text), std::nullopt) << text;
    }
}

TEST(TimeCodecTest, FormatsAndRoundTrips) {
    EXPECT_EQ(format_timestamp(0), "1970-01-01T00:00:00Z");
    EXPECT_EQ(format_timestamp(-1), "1969-12-31T23:59:59.999999Z");
    EXPECT_EQ(format_timestamp(1709647629'123'456LL), "2024-03-05T14:07:09.123456Z");
    EXPECT_EQ(format_date(0), "1970-01-01");
    EXPECT_EQ(format_date(-1), "1969-12-31");
    for (int64_t micros :
         {0LL, 1LL, -1LL, 951782400'000'000LL, 253402300799'999'999LL, -62135596800'000'000LL}) {
        EXPECT_EQ(parse_timestamp(format_timestamp(micros)), micros) << micros;
    }
    for (int32_t days = days_from_civil(1, 1, 1); days < 2900000; days += 997) {
        EXPECT_EQ(parse_date(format_date(days)), days) << days;
    }
    EXPECT_EQ(parse_date("2000-02-29"), days_from_civil(2000, 2, 29));
    EXPECT_EQ(parse_date("1900-02-29"), std::nullopt);
}

}  // namespace
}  // namespace millrace

namespace millrace {
namespace {

TEST(CachedTimestampParserTest, AgreesWithParseTimestamp) {
    CachedTimestampParser cached;
    const char* texts[] = {"2024-03-05T14:07:09Z",        "2024-03-05T14:07:10.5Z",
                           "2024-03-05T14:07:10.123Z",    "2024-03-05T14:07:10.123456Z",
                           "2024-03-05T24:07:10Z",        "2024-03-05T14:60:10Z",
                           "2024-03-05T1x:07:10Z",        "2024-03-05T14:07:10.12x456Z",
                           "2024-03-05 14:07:10Z",        "2024-03-05T14:07:10+01:00",
                           "2024-03-06T00:00:00Z",        "2024-03-06T00:00:00.000001Z",
                           "2024-02-30T00:00:00Z",        "2024-03-06",
                           "2024-03-06T23:59:59.999999Z", "garbage"};
    for (int round = 0; round < 2; ++round) {
        for (const char* text : texts) EXPECT_EQ(cached.parse(text), parse_timestamp(text)) << text;
    }
}

}  // namespace
}  // namespace millrace
