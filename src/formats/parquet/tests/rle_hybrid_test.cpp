#include "formats/parquet/rle_hybrid.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace millrace::parquet {
namespace {

std::vector<uint32_t> round_trip(const std::vector<uint32_t>& values, int width) {
    std::string encoded;
    encode_rle_hybrid(values.data(), values.size(), width, encoded);
    std::vector<uint32_t> decoded(values.size());
    RleHybridDecoder decoder(reinterpret_cast<const uint8_t*>(encoded.data()), encoded.size(),
                             width);
    EXPECT_TRUE(decoder.get(decoded.data(), decoded.size()));
    return decoded;
}

TEST(RleHybrid, RoundTripsRunsAndLiterals) {
    std::mt19937 random(7);
    for (int width : {1, 2, 3, 7, 8, 13, 20, 31, 32}) {
        const uint64_t limit = width == 32 ? 0xFFFFFFFFull : (1ull << width) - 1;
        std::vector<uint32_t> values;
        for (int i = 0; i < 5000; ++i) {
            const uint32_t v = static_cast<uint32_t>(random() % (limit + 1));
            const int repeat = random() % 4 == 0 ? static_cast<int>(random() % 40) : 1;
            for (int r = 0; r < repeat; ++r) values.push_back(v);
        }
        EXPECT_EQ(round_trip(values, width), values) << width;
    }
}

TEST(RleHybrid, ShortInputsAndBitWidths) {
    EXPECT_EQ(bit_width_for(0), 0);
    EXPECT_EQ(bit_width_for(1), 1);
    EXPECT_EQ(bit_width_for(255), 8);
    EXPECT_EQ(round_trip({1, 0, 1}, 1), (std::vector<uint32_t>{1, 0, 1}));
    EXPECT_EQ(round_trip(std::vector<uint32_t>(100, 1), 1), std::vector<uint32_t>(100, 1));
}

TEST(RleHybrid, MalformedInputFailsInsteadOfOverreading) {
    const uint8_t truncated_run[] = {0x10};  // an RLE run header without its value
    RleHybridDecoder decoder(truncated_run, sizeof(truncated_run), 8);
    uint32_t out[8];
    EXPECT_FALSE(decoder.get(out, 8));
    const uint8_t empty_runs[] = {0x00, 0x00};
    RleHybridDecoder zero(empty_runs, sizeof(empty_runs), 1);
    EXPECT_FALSE(zero.get(out, 1));
}

}  // namespace
}  // namespace millrace::parquet
