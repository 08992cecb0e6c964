#include "replay/latency_histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace millrace {
namespace {

TEST(LatencyHistogram, EmptyReportsZero) {
    LatencyHistogram histogram;
    EXPECT_EQ(histogram.count(), 0u);
    EXPECT_EQ(histogram.value_at_percentile(50), 0u);
    EXPECT_EQ(histogram.max(), 0u);
    EXPECT_EQ(histogram.min(), 0u);
}

TEST(LatencyHistogram, SmallValuesAreExact) {
    LatencyHistogram histogram;
    for (uint64_t v = 0; v < 128; ++v) histogram.record(v);
    EXPECT_EQ(histogram.value_at_percentile(50), 63u);
    EXPECT_EQ(histogram.value_at_percentile(100), 127u);
    EXPECT_EQ(histogram.min(), 0u);
}

TEST(LatencyHistogram, BucketsAreContiguousAndNarrow) {
    // Every bucket starts right after the previous one ends and is at most 1/128 of its values
    // wide, over the whole range.
    uint64_t previous_high = 0;
    for (std::size_t index = 1; index < 58 * 128; ++index) {
        const uint64_t high = LatencyHistogram::bucket_highest_value(index);
        const uint64_t low = previous_high + 1;
        ASSERT_EQ(LatencyHistogram::bucket_index(low), index) << low;
        ASSERT_EQ(LatencyHistogram::bucket_index(high), index) << high;
        ASSERT_LE(static_cast<double>(high - low), static_cast<double>(low) / 128.0) << index;
        previous_high = high;
    }
    EXPECT_EQ(previous_high, UINT64_MAX);
}

TEST(LatencyHistogram, PercentilesWithinOnePercentOfExact) {
    std::mt19937_64 rng(7);
    std::lognormal_distribution<double> latency(11.0, 1.2);  // ~60 µs median, long tail, in ns
    std::vector<uint64_t> values;
    LatencyHistogram histogram;
    for (int i = 0; i < 200000; ++i) {
        const auto v = static_cast<uint64_t>(latency(rng));
        values.push_back(v);
        histogram.record(v);
    }
    std::sort(values.begin(), values.end());
    for (double p : {1.0, 10.0, 50.0, 90.0, 99.0, 99.9, 99.99}) {
        const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * values.size())) - 1;
        const double exact = static_cast<double>(values[rank]);
        const double reported = static_cast<double>(histogram.value_at_percentile(p));
        EXPECT_GE(reported, exact) << "p" << p;
        EXPECT_LE(reported, exact * 1.01) << "p" << p;
    }
    EXPECT_EQ(histogram.max(), values.back());
    EXPECT_EQ(histogram.min(), values.front());
    EXPECT_EQ(histogram.count(), values.size());
}

TEST(LatencyHistogram, MergeEqualsRecordingEverything) {
    LatencyHistogram a, b, all;
    for (uint64_t v = 1; v < 100000; v += 7) {
        (v % 2 == 0 ? a : b).record(v);
        all.record(v);
    }
    a.merge(b);
    EXPECT_EQ(a.count(), all.count());
    EXPECT_EQ(a.max(), all.max());
    EXPECT_EQ(a.min(), all.min());
    EXPECT_DOUBLE_EQ(a.mean(), all.mean());
    for (double p : {50.0, 99.0, 99.9}) {
        EXPECT_EQ(a.value_at_percentile(p), all.value_at_percentile(p));
    }
    a.reset();
    EXPECT_EQ(a.count(), 0u);
}

TEST(LatencyHistogram, HugeValuesAndCounts) {
    LatencyHistogram histogram;
    histogram.record(UINT64_MAX);
    histogram.record(5, 1000);
    EXPECT_EQ(histogram.count(), 1001u);
    EXPECT_EQ(histogram.value_at_percentile(99.9), 5u);
    EXPECT_EQ(histogram.value_at_percentile(100), UINT64_MAX);
}

}  // namespace
}  // namespace millrace
