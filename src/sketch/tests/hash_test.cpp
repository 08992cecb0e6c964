#include "sketch/hash.h"

#include <gtest/gtest.h>

#include <bit>
#include <limits>
#include <set>
#include <string>

namespace millrace {
namespace {

TEST(HashTest, IsDeterministicAndSeeded) {
    EXPECT_EQ(hash_int64(42), hash_int64(42));
    EXPECT_NE(hash_int64(42), hash_int64(43));
    EXPECT_NE(hash_int64(42, 1), hash_int64(42, 2));
    EXPECT_EQ(hash_string("millrace"), hash_string("millrace"));
    EXPECT_NE(hash_string("millrace", 1), hash_string("millrace", 2));
}

TEST(HashTest, SqlEqualValuesCollide) {
    EXPECT_EQ(hash_double(0.0), hash_double(-0.0));
    EXPECT_EQ(hash_double(std::numeric_limits<double>::quiet_NaN()),
              hash_double(-std::numeric_limits<double>::quiet_NaN()));
    EXPECT_EQ(hash_double(7.0), hash_int64(7));
    EXPECT_EQ(hash_double(-123456.0), hash_int64(-123456));
    EXPECT_NE(hash_double(7.5), hash_double(7.25));
    EXPECT_EQ(hash_bool(true), hash_int64(1));
}

TEST(HashTest, StringsOfEveryLengthDiffer) {
    // Every prefix length goes through a different load path (0, 1-3, 4-7, 8-16, 17-32, >32).
    const std::string text(200, 'x');
    std::set<uint64_t> seen;
    for (std::size_t n = 0; n <= text.size(); ++n) seen.insert(hash_string({text.data(), n}));
    EXPECT_EQ(seen.size(), text.size() + 1);
}

TEST(HashTest, NoCollisionsOnSequentialKeys) {
    std::set<uint64_t> ints;
    std::set<uint64_t> strings;
    for (int64_t i = 0; i < 100'000; ++i) {
        ints.insert(hash_int64(i));
        strings.insert(hash_string("key-" + std::to_string(i)));
    }
    EXPECT_EQ(ints.size(), 100'000u);
    EXPECT_EQ(strings.size(), 100'000u);
}

TEST(HashTest, FlippingOneInputBitFlipsAboutHalfTheOutputBits) {
    double total = 0;
    int trials = 0;
    for (int64_t i = 0; i < 1000; ++i) {
        for (int bit = 0; bit < 64; ++bit) {
            const int64_t flipped = i ^ (int64_t{1} << bit);
            total += std::popcount(hash_int64(i) ^ hash_int64(flipped));
            ++trials;
        }
    }
    EXPECT_NEAR(total / trials, 32.0, 1.0);
    total = 0;
    trials = 0;
    std::string text = "a string of some length, 40 bytes long.";
    const uint64_t base = hash_string(text);
    for (std::size_t byte = 0; byte < text.size(); ++byte) {
        for (int bit = 0; bit < 8; ++bit) {
            std::string copy = text;
            copy[byte] = static_cast<char>(copy[byte] ^ (1 << bit));
            total += std::popcount(base ^ hash_string(copy));
            ++trials;
        }
    }
    EXPECT_NEAR(total / trials, 32.0, 2.0);
}

TEST(HashTest, CombineIsOrderSensitive) {
    EXPECT_NE(hash_combine(hash_int64(1), hash_int64(2)),
              hash_combine(hash_int64(2), hash_int64(1)));
}

}  // namespace
}  // namespace millrace
