#include "replay/load_schedule.h"

#include <gtest/gtest.h>

namespace millrace {
namespace {

TEST(LoadSchedule, FixedRateSpacesRequestsEvenly) {
    const auto schedule = LoadSchedule::fixed_rate(20000);
    EXPECT_TRUE(schedule.open_loop());
    EXPECT_EQ(schedule.due_ns(0), 0);
    EXPECT_EQ(schedule.due_ns(1), 50'000);
    EXPECT_EQ(schedule.due_ns(20000), 1'000'000'000);
    // Far into a long run the schedule does not drift: request i is due at exactly i / rate.
    EXPECT_EQ(schedule.due_ns(20000ull * 86400), 86400ll * 1'000'000'000);
}

TEST(LoadSchedule, FractionalRates) {
    const auto schedule = LoadSchedule::fixed_rate(3);
    EXPECT_EQ(schedule.due_ns(1), 333'333'333);
    EXPECT_EQ(schedule.due_ns(3), 1'000'000'000);
    const auto slow = LoadSchedule::fixed_rate(0.5);
    EXPECT_EQ(slow.due_ns(1), 2'000'000'000);
}

TEST(LoadSchedule, DueCountIsTheInverseOfDue) {
    for (double rate : {1.0, 3.0, 1000.0, 20000.0, 123457.0}) {
        const auto schedule = LoadSchedule::fixed_rate(rate);
        for (uint64_t i = 0; i < 2000; i += 37) {
            const int64_t due = schedule.due_ns(i);
            EXPECT_EQ(schedule.due_count(due), i + 1) << rate << " " << i;
            if (due > 0) {
                EXPECT_EQ(schedule.due_count(due - 1), i) << rate << " " << i;
            }
        }
    }
    EXPECT_EQ(LoadSchedule::fixed_rate(10).due_count(-1), 0u);
}

TEST(LoadSchedule, AsFastAsPossibleIsClosedLoop) {
    const auto schedule = LoadSchedule::as_fast_as_possible();
    EXPECT_FALSE(schedule.open_loop());
    EXPECT_EQ(schedule.due_ns(12345), 0);
}

TEST(LoadSchedule, RecordedOffsetsAreScaledBySpeedup) {
    const auto schedule = LoadSchedule::recorded_offsets(4);
    EXPECT_TRUE(schedule.open_loop());
    EXPECT_EQ(schedule.due_ns(7, 4'000'000'000), 1'000'000'000);
    EXPECT_EQ(schedule.due_ns(0, 0), 0);
    EXPECT_EQ(schedule.due_ns(1, -5), 0);  // out-of-order captures are due at once
}

}  // namespace
}  // namespace millrace
