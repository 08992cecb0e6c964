#include "sketch/hyper_log_log.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "sketch/hash.h"

namespace millrace {
namespace {

std::span<const uint8_t> as_bytes(const std::string& s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

double relative_error(uint64_t estimate, uint64_t exact) {
    return std::fabs(static_cast<double>(estimate) - static_cast<double>(exact)) /
           static_cast<double>(exact);
}

TEST(HyperLogLogTest, EmptySketchEstimatesZero) {
    HyperLogLog sketch;
    EXPECT_TRUE(sketch.empty());
    EXPECT_EQ(sketch.estimate(), 0u);
    EXPECT_NEAR(sketch.standard_error(), 1.04 / 128.0, 1e-12);
}

TEST(HyperLogLogTest, SmallCardinalitiesAreExact) {
    HyperLogLog sketch;
    for (int round = 0; round < 3; ++round) {  // duplicates do not count
        for (int64_t i = 0; i < 2000; ++i) sketch.add_hash(hash_int64(i));
    }
    EXPECT_TRUE(sketch.is_sparse());
    EXPECT_EQ(sketch.estimate(), 2000u);
}

TEST(HyperLogLogTest, SparseUpToTheBudgetWhateverTheOrderOfAddsAndMerges) {
    // 2048 distinct hashes (m / 8 at p = 14) stay exact, one more turns the sketch dense; the
    // hash 0 counts like any other; sketches built in different orders serialize the same.
    std::vector<uint64_t> hashes{0};
    for (int64_t i = 1; i < 2048; ++i) hashes.push_back(hash_int64(i));
    HyperLogLog forward;
    HyperLogLog backward;
    for (uint64_t h : hashes) forward.add_hash(h);
    for (auto it = hashes.rbegin(); it != hashes.rend(); ++it) backward.add_hash(*it);
    HyperLogLog halves;
    HyperLogLog second;
    for (std::size_t i = 0; i < hashes.size(); ++i) (i % 2 ? second : halves).add_hash(hashes[i]);
    ASSERT_TRUE(halves.merge(second).ok());
    for (const HyperLogLog* sketch : {&forward, &backward, &halves}) {
        EXPECT_TRUE(sketch->is_sparse());
        EXPECT_EQ(sketch->estimate(), 2048u);
        EXPECT_EQ(sketch->serialize(), forward.serialize());
    }
    forward.add_hash(0);  // already there
    EXPECT_TRUE(forward.is_sparse());
    forward.add_hash(hash_int64(5000));
    EXPECT_FALSE(forward.is_sparse());
    Result<HyperLogLog> back = HyperLogLog::deserialize(as_bytes(backward.serialize()));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->estimate(), 2048u);
    EXPECT_EQ(back->serialize(), backward.serialize());
}

TEST(HyperLogLogTest, UniformDataWithinFourStandardErrors) {
    for (uint64_t n : {3'000ull, 20'000ull, 50'000ull, 200'000ull, 2'000'000ull}) {
        HyperLogLog sketch;
        for (uint64_t i = 0; i < n; ++i) sketch.add_hash(hash_int64(static_cast<int64_t>(i)));
        EXPECT_FALSE(sketch.is_sparse());
        EXPECT_LT(relative_error(sketch.estimate(), n), 4 * sketch.standard_error()) << n;
    }
}

TEST(HyperLogLogTest, SkewedStringDataWithinFourStandardErrors) {
    // Zipf-like repetition: value k appears about 1000 / k times; 100k distinct strings.
    HyperLogLog sketch;
    for (int64_t k = 1; k <= 100'000; ++k) {
        const int64_t repeats = std::max<int64_t>(1, 1000 / k);
        for (int64_t r = 0; r < repeats; ++r)
            sketch.add_hash(hash_string("user-" + std::to_string(k)));
    }
    EXPECT_LT(relative_error(sketch.estimate(), 100'000), 4 * sketch.standard_error());
}

TEST(HyperLogLogTest, LowerPrecisionHasLargerButBoundedError) {
    HyperLogLog sketch(10);
    for (int64_t i = 0; i < 100'000; ++i) sketch.add_hash(hash_int64(i));
    EXPECT_LT(relative_error(sketch.estimate(), 100'000), 4 * sketch.standard_error());
}

TEST(HyperLogLogTest, MergeEqualsSketchOfUnion) {
    for (int64_t split : {500, 1'500, 30'000}) {  // sparse+sparse, sparse->dense, dense+dense
        HyperLogLog left;
        HyperLogLog right;
        HyperLogLog both;
        for (int64_t i = 0; i < 2 * split; ++i) {
            // Overlapping halves: [0, 1.5 split) and [0.5 split, 2 split).
            if (i < split + split / 2) left.add_hash(hash_int64(i));
            if (i >= split / 2) right.add_hash(hash_int64(i));
            both.add_hash(hash_int64(i));
        }
        ASSERT_TRUE(left.merge(right).ok());
        EXPECT_EQ(left.estimate(), both.estimate()) << split;
        EXPECT_EQ(left.serialize(), both.serialize()) << split;
    }
}

TEST(HyperLogLogTest, MergeRejectsOtherPrecision) {
    HyperLogLog a(12);
    HyperLogLog b(14);
    Status status = a.merge(b);
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().code(), ErrorCode::kInvalidArgument);
}

TEST(HyperLogLogTest, SerializationRoundTrips) {
    for (int64_t n : {0, 10, 1'000, 100'000}) {
        HyperLogLog sketch;
        for (int64_t i = 0; i < n; ++i) sketch.add_hash(hash_int64(i * 7));
        const std::string bytes = sketch.serialize();
        Result<HyperLogLog> back = HyperLogLog::deserialize(as_bytes(bytes));
        ASSERT_TRUE(back.ok()) << back.error().to_string();
        EXPECT_EQ(back->estimate(), sketch.estimate());
        EXPECT_EQ(back->serialize(), bytes);
        EXPECT_EQ(back->is_sparse(), sketch.is_sparse());
    }
}

TEST(HyperLogLogTest, DeserializeRejectsGarbage) {
    HyperLogLog sketch;
    for (int64_t i = 0; i < 100'000; ++i) sketch.add_hash(hash_int64(i));
    std::string bytes = sketch.serialize();
    EXPECT_EQ(HyperLogLog::deserialize(as_bytes(bytes.substr(0, 100))).error().code(),
              ErrorCode::kCorruption);
    bytes[10] = static_cast<char>(200);  // register value out of range
    EXPECT_EQ(HyperLogLog::deserialize(as_bytes(bytes)).error().code(), ErrorCode::kCorruption);
    EXPECT_FALSE(HyperLogLog::deserialize(as_bytes("")).ok());
    EXPECT_FALSE(HyperLogLog::deserialize(as_bytes("H\x01\x0e\x00\x05\x00\x00\x00")).ok());
}

}  // namespace
}  // namespace millrace
