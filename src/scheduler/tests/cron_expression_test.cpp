#include "scheduler/cron_expression.h"

#include <gtest/gtest.h>

#include "common/clock.h"

namespace millrace {
namespace {

int64_t utc(int year, unsigned month, unsigned day, int hour = 0, int minute = 0) {
    return (days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60) * 1'000'000;
}

std::string next(const char* expr, int64_t after, const TimeZone& zone = TimeZone::utc()) {
    auto cron = CronExpression::parse(expr);
    EXPECT_TRUE(cron.ok()) << cron.error().to_string();
    auto t = cron->next_after(after, zone);
    return t ? format_utc_timestamp(*t) : "none";
}

TEST(CronExpression, Basics) {
    const int64_t t = utc(2026, 11, 23, 22, 35);
    EXPECT_EQ(next("*/15 * * * *", t), "2026-11-23T22:45:00.000000Z");
    EXPECT_EQ(next("@hourly", t), "2026-11-23T23:00:00.000000Z");
    EXPECT_EQ(next("@daily", t), "2026-11-24T00:00:00.000000Z");
    EXPECT_EQ(next("0 2 * * mon-fri", t), "2026-11-24T02:00:00.000000Z");  // Tuesday
    EXPECT_EQ(next("30 9 1,15 jan,jul *", t), "2027-01-01T09:30:00.000000Z");
    EXPECT_EQ(next("0 0 * * 7", t), "2026-11-29T00:00:00.000000Z");     // 7 = Sunday
    EXPECT_EQ(next("0 0 13 * fri", t), "2026-11-27T00:00:00.000000Z");  // dom OR dow
    EXPECT_EQ(next("5/20 * * * *", t), "2026-11-23T22:45:00.000000Z");
    EXPECT_EQ(next("0 0 30 2 *", t), "none");
}

TEST(CronExpression, StrictlyAfter) {
    const int64_t t = utc(2026, 11, 24);
    EXPECT_EQ(next("@daily", t), "2026-11-25T00:00:00.000000Z");
    EXPECT_EQ(next("@daily", t - 1), "2026-11-24T00:00:00.000000Z");
}

TEST(CronExpression, TimeZones) {
    auto paris = TimeZone::load("Europe/Paris");
    ASSERT_TRUE(paris.ok()) << paris.error().to_string();
    // 02:00 Paris in winter is 01:00 UTC.
    EXPECT_EQ(next("0 2 * * *", utc(2026, 11, 23, 12), *paris), "2026-11-24T01:00:00.000000Z");
    // 2026-03-29: 02:00-03:00 does not exist in Paris; 02:30 does not fire that day.
    EXPECT_EQ(next("30 2 * * *", utc(2026, 3, 28, 12), *paris), "2026-03-30T00:30:00.000000Z");
    // 2026-10-25: 02:30 happens twice; fires once, at the first (00:30 UTC).
    EXPECT_EQ(next("30 2 * * *", utc(2026, 10, 24, 12), *paris), "2026-10-25T00:30:00.000000Z");
    EXPECT_EQ(next("30 2 * * *", utc(2026, 10, 25, 0, 30), *paris), "2026-10-26T01:30:00.000000Z");
    auto ny = TimeZone::load("America/New_York");
    ASSERT_TRUE(ny.ok());
    EXPECT_EQ(next("@daily", utc(2026, 7, 1, 12), *ny), "2026-07-02T04:00:00.000000Z");
}

TEST(CronExpression, LastAtOrBefore) {
    auto cron = CronExpression::parse("0 2 * * *");
    ASSERT_TRUE(cron.ok());
    auto t = cron->last_at_or_before(utc(2026, 11, 23, 22), TimeZone::utc(),
                                     int64_t{400} * 86400 * 1'000'000);
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(format_utc_timestamp(*t), "2026-11-23T02:00:00.000000Z");
}

TEST(CronExpression, ErrorsNameFieldAndPosition) {
    struct Case {
        const char* text;
        int column;
        const char* field;
    };
    for (const Case& c : {Case{"61 * * * *", 1, "minute"}, Case{"0 24 * * *", 3, "hour"},
                          Case{"0 0 0 * *", 5, "day-of-month"}, Case{"0 0 * foo *", 7, "month"},
                          Case{"0 0 * * 1-x", 11, "day-of-week"}, Case{"0 5-2 * * *", 3, "hour"},
                          Case{"*/0 * * * *", 3, "minute"}}) {
        auto cron = CronExpression::parse(c.text);
        ASSERT_FALSE(cron.ok()) << c.text;
        EXPECT_EQ(cron.error().code(), ErrorCode::kParse);
        EXPECT_EQ(cron.error().location().column, c.column) << c.text;
        EXPECT_NE(cron.error().message().find(c.field), std::string::npos)
            << cron.error().message();
    }
    EXPECT_FALSE(CronExpression::parse("* * * *").ok());
    EXPECT_FALSE(CronExpression::parse("@sometimes").ok());
}

TEST(TimeZone, LoadErrors) {
    EXPECT_EQ(TimeZone::load("Mars/Olympus").error().code(), ErrorCode::kNotFound);
    EXPECT_EQ(TimeZone::load("../etc/passwd").error().code(), ErrorCode::kInvalidArgument);
    // A folder of the tz database is no zone (found by fuzzing: reading it threw).
    EXPECT_EQ(TimeZone::load("Europe").error().code(), ErrorCode::kNotFound);
    auto paris = TimeZone::load("Europe/Paris");
    ASSERT_TRUE(paris.ok());
    EXPECT_EQ(paris->offset_at(utc(2026, 7, 1) / 1'000'000), 7200);
    EXPECT_EQ(paris->offset_at(utc(2026, 1, 1) / 1'000'000), 3600);
}

}  // namespace
}  // namespace millrace
