#include "project/duration.h"

#include <gtest/gtest.h>

namespace millrace {
namespace {

using std::chrono::microseconds;

int64_t micros(std::string_view text) {
    auto parsed = parse_duration(text);
    EXPECT_TRUE(parsed.ok()) << text << ": " << parsed.error().to_string();
    return parsed.ok() ? parsed->count() : -1;
}

Error failure(std::string_view text) {
    auto parsed = parse_duration(text);
    EXPECT_FALSE(parsed.ok()) << text;
    return parsed.ok() ? Error(ErrorCode::kInternal, "parsed") : parsed.error();
}

TEST(Duration, ParsesEveryUnit) {
    EXPECT_EQ(micros("250us"), 250);
    EXPECT_EQ(micros("100ms"), 100'000);
    EXPECT_EQ(micros("5s"), 5'000'000);
    EXPECT_EQ(micros("1m"), 60'000'000);
    EXPECT_EQ(micros("2h"), 7'200'000'000);
    EXPECT_EQ(micros("1d"), 86'400'000'000);
    EXPECT_EQ(micros("0"), 0);
    EXPECT_EQ(micros("0s"), 0);
}

TEST(Duration, ParsesCompoundDurations) {
    EXPECT_EQ(micros("1m30s"), 90'000'000);
    EXPECT_EQ(micros("1h1m1s1ms1us"), 3'661'001'001);
}

TEST(Duration, ErrorsPointAtTheBadCharacter) {
    Error missing_unit = failure("5");
    EXPECT_EQ(missing_unit.code(), ErrorCode::kParse);
    EXPECT_EQ(missing_unit.location().column, 2);
    EXPECT_EQ(failure("5sec").location().column, 2);
    EXPECT_EQ(failure("1m30x").location().column, 5);
    EXPECT_EQ(failure("").location().column, 1);
    EXPECT_EQ(failure("s").location().column, 1);
    EXPECT_EQ(failure("-5s").location().column, 1);
    EXPECT_EQ(failure("1.5s").location().column, 2);
    EXPECT_EQ(failure("5 s").location().column, 2);
    EXPECT_EQ(failure("5S").code(), ErrorCode::kParse);
}

TEST(Duration, RefusesOverflow) {
    EXPECT_EQ(micros("9223372036854775807us"), INT64_MAX);
    EXPECT_EQ(failure("9223372036854775808us").code(), ErrorCode::kOutOfRange);
    EXPECT_EQ(micros("106751991d"), int64_t{106'751'991} * 86'400'000'000);
    EXPECT_EQ(failure("106751992d").code(), ErrorCode::kOutOfRange);
    Error sum = failure("106751991d1d");
    EXPECT_EQ(sum.code(), ErrorCode::kOutOfRange);
    EXPECT_EQ(sum.location().column, 11);
    EXPECT_EQ(failure("99999999999999999999999999s").code(), ErrorCode::kOutOfRange);
}

TEST(Duration, FormatsShortestForm) {
    EXPECT_EQ(format_duration(microseconds(0)), "0s");
    EXPECT_EQ(format_duration(microseconds(5'000'000)), "5s");
    EXPECT_EQ(format_duration(microseconds(90'000'000)), "1m30s");
    EXPECT_EQ(format_duration(microseconds(100'000)), "100ms");
    EXPECT_EQ(format_duration(microseconds(86'400'000'001)), "1d1us");
    EXPECT_EQ(format_duration(microseconds(-1'500'000)), "-1s500ms");
    EXPECT_EQ(format_duration(microseconds(INT64_MIN)), "-106751991d4h54s775ms808us");
    for (int64_t value : {int64_t{1}, int64_t{61'000'001}, int64_t{7'200'000'000}, INT64_MAX}) {
        EXPECT_EQ(micros(format_duration(microseconds(value))), value);
    }
}

}  // namespace
}  // namespace millrace
