#include "exec/watermark_tracker.h"

#include <gtest/gtest.h>

namespace millrace {
namespace {

constexpr int64_t kSecond = 1'000'000;

TEST(WatermarkTracker, IsTheMinimumOverPartitionsMinusDelayAndLateness) {
    WatermarkTracker tracker(2, 5 * kSecond, 1 * kSecond, 60 * kSecond, 0);
    EXPECT_EQ(tracker.advance(0), std::nullopt);
    tracker.observe(0, 100 * kSecond, 0);
    // Partition 1 has not delivered: it may still hold anything, so nothing is known yet.
    EXPECT_EQ(tracker.advance(0), std::nullopt);
    EXPECT_FALSE(tracker.is_late(0));
    tracker.observe(1, 50 * kSecond, 0);
    EXPECT_EQ(tracker.advance(0), 44 * kSecond);
    tracker.observe(1, 200 * kSecond, 0);
    EXPECT_EQ(tracker.advance(0), 94 * kSecond);
    // An older record does not move a partition's maximum back.
    tracker.observe(0, 10 * kSecond, 0);
    EXPECT_EQ(tracker.advance(0), 94 * kSecond);
    EXPECT_TRUE(tracker.is_late(93 * kSecond));
    EXPECT_FALSE(tracker.is_late(94 * kSecond));
}

TEST(WatermarkTracker, AnIdlePartitionStopsHoldingItBackUntilItDeliversAgain) {
    WatermarkTracker tracker(2, 0, 0, 10 * kSecond, 0);
    tracker.observe(0, 100 * kSecond, 1 * kSecond);
    EXPECT_EQ(tracker.advance(5 * kSecond), std::nullopt);  // partition 1 silent, not yet idle
    EXPECT_EQ(tracker.idle_partitions(10 * kSecond), 1u);
    EXPECT_EQ(tracker.advance(10 * kSecond), 100 * kSecond);
    tracker.observe(0, 150 * kSecond, 12 * kSecond);
    EXPECT_EQ(tracker.advance(12 * kSecond), 150 * kSecond);
    // Partition 1 wakes up behind the watermark: its records are late, and the watermark
    // never moves back.
    EXPECT_TRUE(tracker.is_late(120 * kSecond));
    tracker.observe(1, 160 * kSecond, 13 * kSecond);
    EXPECT_EQ(tracker.advance(13 * kSecond), 150 * kSecond);
    tracker.observe(0, 170 * kSecond, 14 * kSecond);
    EXPECT_EQ(tracker.advance(14 * kSecond), 160 * kSecond);
}

TEST(WatermarkTracker, EveryPartitionIdleHoldsNothingBack) {
    WatermarkTracker tracker(3, 0, 0, 1 * kSecond, 0);
    tracker.observe(0, 100 * kSecond, 0);
    tracker.observe(1, 80 * kSecond, 0);
    EXPECT_EQ(tracker.advance(0), std::nullopt);  // partition 2 may still deliver
    // Whether a poll saw the moment when only partition 1 was idle or not, the result is the
    // same once all are.
    EXPECT_EQ(tracker.advance(5 * kSecond), 100 * kSecond);
}

TEST(WatermarkTracker, NoIdleTimeoutWaitsForEveryPartition) {
    WatermarkTracker tracker(2, 0, 0, 0, 0);
    tracker.observe(0, 100 * kSecond, 0);
    EXPECT_EQ(tracker.advance(1000 * kSecond), std::nullopt);
}

TEST(WatermarkTracker, ProcessingTimeAndFinish) {
    WatermarkTracker tracker(1, 0, 0, 0, 0);
    tracker.advance_to(7 * kSecond);
    tracker.advance_to(3 * kSecond);
    EXPECT_EQ(tracker.watermark(), 7 * kSecond);
    tracker.finish();
    EXPECT_EQ(tracker.watermark(), WatermarkTracker::kEndOfTime);
    EXPECT_EQ(tracker.advance(8 * kSecond), WatermarkTracker::kEndOfTime);
    EXPECT_TRUE(tracker.is_late(8 * kSecond));
}

}  // namespace
// A checkpoint saves the watermark and each partition's greatest event time; a tracker
// restored from it judges the next records as the saved one would have.
TEST(WatermarkTracker, RestoredStateJudgesLatenessAsTheSavedTracker) {
    WatermarkTracker saved(2, 10, 0, 0, 0);
    saved.observe(0, 1000, 0);
    saved.observe(1, 500, 0);
    saved.advance(0);
    ASSERT_EQ(saved.watermark(), 490);
    WatermarkTracker restored(2, 10, 0, 0, 99);
    restored.restore(saved.state(), 99);
    EXPECT_EQ(restored.watermark(), 490);
    EXPECT_TRUE(restored.is_late(489));
    EXPECT_FALSE(restored.is_late(490));
    restored.observe(1, 2000, 100);
    saved.observe(1, 2000, 100);
    EXPECT_EQ(restored.advance(100), saved.advance(100));
    EXPECT_EQ(restored.watermark(), 990);
}

}  // namespace millrace
