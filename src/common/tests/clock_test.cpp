#include "common/clock.h"

#include <gtest/gtest.h>

namespace millrace {
namespace {

TEST(ManualClock, MovesOnlyWhenTold) {
    ManualClock clock(1'000);
    EXPECT_EQ(clock.now_micros(), 1'000);
    clock.advance_micros(500);
    EXPECT_EQ(clock.now_micros(), 1'500);
    clock.set_micros(-7);
    EXPECT_EQ(clock.now_micros(), -7);
}

TEST(SystemClock, IsAfter2020) {
    SystemClock clock;
    EXPECT_GT(clock.now_micros(), int64_t{1'577'836'800'000'000});
}

TEST(UtcTimestamp, FormatsWithSixFractionDigits) {
    EXPECT_EQ(format_utc_timestamp(0), "1970-01-01T00:00:00.000000Z");
    EXPECT_EQ(format_utc_timestamp(1'795'460'181'123'456), "2026-11-23T18:56:21.123456Z");
    EXPECT_EQ(format_utc_timestamp(951'782'400'000'001), "2000-02-29T00:00:00.000001Z");
    EXPECT_EQ(format_utc_timestamp(253'402'300'799'999'999), "9999-12-31T23:59:59.999999Z");
}

TEST(UtcTimestamp, FloorsInstantsBeforeTheEpoch) {
    EXPECT_EQ(format_utc_timestamp(-1), "1969-12-31T23:59:59.999999Z");
    EXPECT_EQ(format_utc_timestamp(-86'400'000'000), "1969-12-31T00:00:00.000000Z");
    EXPECT_EQ(format_utc_timestamp(-62'135'596'800'000'000), "0001-01-01T00:00:00.000000Z");
}

TEST(UtcTimestamp, HandlesTheWholeInt64Range) {
    EXPECT_EQ(format_utc_timestamp(INT64_MAX), "294247-01-10T04:00:54.775807Z");
    EXPECT_EQ(format_utc_timestamp(INT64_MIN), "-290308-12-21T19:59:05.224192Z");
}

TEST(UtcTimestamp, Appends) {
    std::string out = "ts=";
    append_utc_timestamp(out, 1'500'000);
    EXPECT_EQ(out, "ts=1970-01-01T00:00:01.500000Z");
}

}  // namespace
}  // namespace millrace
