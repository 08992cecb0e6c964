#include "exec/key_encoder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <optional>

namespace millrace {
namespace {

Column make_ints(std::vector<std::optional<int32_t>> values) {
    ColumnBuilder b(DataType::kInt32);
    for (auto v : values) {
        if (v)
            b.append_int32(*v);
        else
            b.append_null();
    }
    return b.finish();
}

Column make_doubles(std::vector<double> values) {
    ColumnBuilder b(DataType::kFloat64);
    for (double v : values) b.append_double(v);
    return b.finish();
}

TEST(KeyEncoder, FixedBatchEncodingEqualsRowEncoding) {
    Column ints = make_ints({1, std::nullopt, -7});
    Column doubles = make_doubles({-0.0, 2.5, std::numeric_limits<double>::quiet_NaN()});
    std::vector<const Column*> columns{&ints, &doubles};
    std::size_t stride = KeyEncoder::fixed_row_width(columns);
    ASSERT_EQ(stride, 1u + 4 + 1 + 8);
    std::string batch(3 * stride, '\0');
    KeyEncoder::encode_fixed(columns, 3, stride, batch.data());
    for (std::size_t row = 0; row < 3; ++row) {
        std::string one;
        KeyEncoder::encode(columns, row, one);
        EXPECT_EQ(one, batch.substr(row * stride, stride)) << "row " << row;
    }
}

TEST(KeyEncoder, NegativeZeroAndNanGroupTogether) {
    Column a = make_doubles({0.0, -0.0, std::nan("1"), std::nan("2")});
    std::vector<const Column*> columns{&a};
    std::string k0, k1, k2, k3;
    KeyEncoder::encode(columns, 0, k0);
    KeyEncoder::encode(columns, 1, k1);
    KeyEncoder::encode(columns, 2, k2);
    KeyEncoder::encode(columns, 3, k3);
    EXPECT_EQ(k0, k1);
    EXPECT_EQ(k2, k3);
}

TEST(KeyEncoder, RoundTripWithNullsAndStrings) {
    ColumnBuilder s(DataType::kString);
    s.append_string("x");
    s.append_null();
    Column strings = s.finish();
    Column ints = make_ints({std::nullopt, 5});
    std::vector<const Column*> columns{&strings, &ints};
    std::vector<ColumnBuilder> builders;
    builders.emplace_back(DataType::kString);
    builders.emplace_back(DataType::kInt32);
    for (std::size_t row = 0; row < 2; ++row) {
        std::string key;
        EXPECT_FALSE(KeyEncoder::encode(columns, row, key));  // each row has a null
        KeyEncoder::decode(key, builders);
    }
    Column out_s = builders[0].finish();
    Column out_i = builders[1].finish();
    EXPECT_EQ(out_s.string_at(0), "x");
    EXPECT_TRUE(out_s.is_null(1));
    EXPECT_TRUE(out_i.is_null(0));
    EXPECT_EQ(out_i.value<int32_t>(1), 5);
}

}  // namespace
}  // namespace millrace
