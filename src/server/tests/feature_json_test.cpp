#include "server/feature_json.h"

#include <gtest/gtest.h>

#include <cmath>

#include "types/value.h"

namespace millrace {
namespace {

std::string render(const Value& value) {
    std::string out;
    append_feature_value(out, value);
    return out;
}

std::string convert(const Value& value, DataType type) {
    std::string out;
    append_converted_value(out, value, type, Value());
    return out;
}

TEST(FeatureJson, Values) {
    EXPECT_EQ(render(Value()), "null");
    EXPECT_EQ(render(Value::boolean(true)), "true");
    EXPECT_EQ(render(Value::int64(-42)), "-42");
    EXPECT_EQ(render(Value::int32(7)), "7");
    EXPECT_EQ(render(Value::float64(2)), "2.0");
    EXPECT_EQ(render(Value::float64(0.1)), "0.1");
    EXPECT_EQ(render(Value::float64(1e300)), "1e+300");
    EXPECT_EQ(render(Value::float64(NAN)), "null");
    EXPECT_EQ(render(Value::string("a\"\n")), "\"a\\\"\\n\"");
    EXPECT_EQ(render(Value::timestamp(0)), "\"1970-01-01T00:00:00Z\"");
    EXPECT_EQ(render(Value::date(1)), "\"1970-01-02\"");
}

TEST(FeatureJson, Conversions) {
    EXPECT_EQ(convert(Value::int64(3), DataType::kFloat64), "3.0");
    EXPECT_EQ(convert(Value::boolean(true), DataType::kFloat64), "1.0");
    EXPECT_EQ(convert(Value::int32(3), DataType::kInt64), "3");
    EXPECT_EQ(convert(Value::int64(3), DataType::kString), "\"3\"");
    EXPECT_EQ(convert(Value(), DataType::kFloat64), "null");
}

TEST(FeatureJson, ETags) {
    const std::string etag = body_etag("{}");
    EXPECT_EQ(etag.size(), 18u);
    EXPECT_EQ(etag.front(), '"');
    EXPECT_EQ(etag.back(), '"');
    EXPECT_NE(etag, body_etag("{ }"));
    EXPECT_TRUE(etag_matches(etag, etag));
    EXPECT_TRUE(etag_matches("\"x\", W/" + etag, etag));
    EXPECT_TRUE(etag_matches("*", etag));
    EXPECT_FALSE(etag_matches("\"x\"", etag));
}

}  // namespace
}  // namespace millrace
