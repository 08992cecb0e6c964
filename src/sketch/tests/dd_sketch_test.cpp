#include "sketch/dd_sketch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace millrace {
namespace {

std::span<const uint8_t> as_bytes(const std::string& s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// PostgreSQL percentile_disc: the value of 1-based rank max(1, ceil(q n)) in ascending order.
double exact_quantile(std::vector<double> values, double q) {
    std::sort(values.begin(), values.end());
    auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(values.size())));
    rank = std::clamp<std::size_t>(rank, 1, values.size());
    return values[rank - 1];
}

void expect_within_guarantee(const DDSketch& sketch, const std::vector<double>& values) {
    for (double q : {0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0}) {
        const double exact = exact_quantile(values, q);
        const std::optional<double> got = sketch.quantile(q);
        ASSERT_TRUE(got.has_value());
        EXPECT_LE(std::fabs(*got - exact),
                  sketch.relative_accuracy() * std::fabs(exact) * (1 + 1e-12))
            << "q=" << q << " exact=" << exact << " got=" << *got;
    }
}

TEST(DDSketchTest, EmptySketchHasNoQuantile) {
    DDSketch sketch;
    EXPECT_TRUE(sketch.empty());
    EXPECT_FALSE(sketch.quantile(0.5).has_value());
    sketch.add(1.0);
    EXPECT_FALSE(sketch.quantile(1.5).has_value());
    EXPECT_FALSE(sketch.quantile(std::nan("")).has_value());
}

TEST(DDSketchTest, UniformDataWithinRelativeAccuracy) {
    std::mt19937_64 random(1);
    std::uniform_real_distribution<double> uniform(0.0, 1000.0);
    DDSketch sketch;
    std::vector<double> values;
    for (int i = 0; i < 100'000; ++i) {
        values.push_back(uniform(random));
        sketch.add(values.back());
    }
    expect_within_guarantee(sketch, values);
}

TEST(DDSketchTest, SkewedDataOfBothSignsWithinRelativeAccuracy) {
    std::mt19937_64 random(2);
    std::lognormal_distribution<double> heavy(0.0, 3.0);
    DDSketch sketch;
    std::vector<double> values;
    for (int i = 0; i < 50'000; ++i) {
        double v = heavy(random);
        if (i % 3 == 0) v = -v;
        if (i % 101 == 0) v = 0.0;
        values.push_back(v);
        sketch.add(v);
    }
    expect_within_guarantee(sketch, values);
}

TEST(DDSketchTest, SmallInputsAndRanks) {
    DDSketch sketch;
    std::vector<double> values = {5, 1, 4, 2, 3};
    for (double v : values) sketch.add(v);
    expect_within_guarantee(sketch, values);
    EXPECT_NEAR(*sketch.quantile(0.5), 3.0, 0.03);  // rank ceil(2.5) = 3
    EXPECT_NEAR(*sketch.quantile(0.0), 1.0, 0.01);
    EXPECT_NEAR(*sketch.quantile(1.0), 5.0, 0.05);
}

TEST(DDSketchTest, IgnoresNonFiniteValues) {
    DDSketch sketch;
    sketch.add(std::numeric_limits<double>::infinity());
    sketch.add(std::nan(""));
    EXPECT_TRUE(sketch.empty());
    EXPECT_EQ(sketch.ignored(), 2u);
}

TEST(DDSketchTest, MergeEqualsSketchOfUnion) {
    std::mt19937_64 random(3);
    std::exponential_distribution<double> exponential(0.01);
    DDSketch left;
    DDSketch right;
    DDSketch both;
    for (int i = 0; i < 20'000; ++i) {
        const double v = (i % 7 == 0 ? -1 : 1) * exponential(random);
        (i % 2 == 0 ? left : right).add(v);
        both.add(v);
    }
    ASSERT_TRUE(left.merge(right).ok());
    EXPECT_EQ(left.count(), both.count());
    for (double q = 0; q <= 1.0; q += 0.05) EXPECT_EQ(left.quantile(q), both.quantile(q)) << q;
    EXPECT_EQ(left.serialize(), both.serialize());
    DDSketch other(0.02);
    EXPECT_EQ(left.merge(other).error().code(), ErrorCode::kInvalidArgument);
}

TEST(DDSketchTest, SerializationRoundTrips) {
    DDSketch empty;
    Result<DDSketch> empty_back = DDSketch::deserialize(as_bytes(empty.serialize()));
    ASSERT_TRUE(empty_back.ok());
    EXPECT_TRUE(empty_back->empty());

    DDSketch sketch;
    for (int i = -500; i < 1000; ++i) sketch.add(i * 0.37);
    const std::string bytes = sketch.serialize();
    Result<DDSketch> back = DDSketch::deserialize(as_bytes(bytes));
    ASSERT_TRUE(back.ok()) << back.error().to_string();
    EXPECT_EQ(back->count(), sketch.count());
    EXPECT_EQ(back->serialize(), bytes);
    for (double q = 0; q <= 1.0; q += 0.1) EXPECT_EQ(back->quantile(q), sketch.quantile(q));

    EXPECT_EQ(DDSketch::deserialize(as_bytes(bytes.substr(0, bytes.size() - 1))).error().code(),
              ErrorCode::kCorruption);
    EXPECT_EQ(DDSketch::deserialize(as_bytes(bytes + "x")).error().code(), ErrorCode::kCorruption);
    EXPECT_FALSE(DDSketch::deserialize(as_bytes("")).ok());

    // A bucket offset no value can produce would overflow index arithmetic on the next add.
    std::string far = empty.serialize();
    far[26] = '\x00';
    far[27] = '\x00';
    far[28] = '\x00';
    far[29] = '\x80';  // offset INT32_MIN
    EXPECT_EQ(DDSketch::deserialize(as_bytes(far)).error().code(), ErrorCode::kCorruption);
}

TEST(DDSketchTest, CollapsesSmallestMagnitudesBeyondTheBucketBudget) {
    DDSketch sketch;
    // Magnitudes from 1e-200 to 1e200 need far more than kMaxBuckets buckets.
    for (int e = -200; e <= 200; ++e) sketch.add(std::pow(10.0, e));
    EXPECT_EQ(sketch.count(), 401u);
    EXPECT_NEAR(*sketch.quantile(1.0), 1e200, 1e198);  // the largest values keep the guarantee
    const std::string bytes = sketch.serialize();
    EXPECT_TRUE(DDSketch::deserialize(as_bytes(bytes)).ok());
}

}  // namespace
}  // namespace millrace
