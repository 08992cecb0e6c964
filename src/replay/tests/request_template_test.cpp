#include "replay/request_template.h"

#include <gtest/gtest.h>
#include <simdjson.h>

namespace millrace {
namespace {

TEST(RequestTemplate, LiteralTextAndBracesPassThrough) {
    auto parsed = RequestTemplate::parse("{\"view\":\"u\",\"n\":{}}/x");
    ASSERT_TRUE(parsed.ok());
    EXPECT_TRUE(parsed->constant());
    RequestTemplate::Rng rng(1);
    EXPECT_EQ(parsed->expand(rng), "{\"view\":\"u\",\"n\":{}}/x");
}

TEST(RequestTemplate, RandomIntegersStayInRange) {
    auto parsed = RequestTemplate::parse("/v1/features/user_features?key={rand:10:12}");
    ASSERT_TRUE(parsed.ok());
    EXPECT_FALSE(parsed->constant());
    RequestTemplate::Rng rng(42);
    bool seen[3] = {false, false, false};
    for (int i = 0; i < 300; ++i) {
        const std::string out = parsed->expand(rng);
        ASSERT_TRUE(out.starts_with("/v1/features/user_features?key=1"));
        const int key = std::stoi(out.substr(out.find('=') + 1));
        ASSERT_GE(key, 10);
        ASSERT_LE(key, 12);
        seen[key - 10] = true;
    }
    EXPECT_TRUE(seen[0] && seen[1] && seen[2]);
}

TEST(RequestTemplate, KeysExpandToAJsonArray) {
    auto parsed = RequestTemplate::parse("{\"keys\": {keys:100:0:999999}}");
    ASSERT_TRUE(parsed.ok());
    RequestTemplate::Rng rng(3);
    const std::string out = parsed->expand(rng);
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    ASSERT_EQ(parser.parse(out).get(root), simdjson::SUCCESS) << out;
    simdjson::dom::array keys;
    ASSERT_EQ(root["keys"].get_array().get(keys), simdjson::SUCCESS);
    EXPECT_EQ(keys.size(), 100u);
    for (auto key : keys) {
        int64_t value = -1;
        ASSERT_EQ(key.get_int64().get(value), simdjson::SUCCESS);
        EXPECT_GE(value, 0);
        EXPECT_LE(value, 999999);
    }
}

TEST(RequestTemplate, SameSeedSameRequests) {
    auto parsed = RequestTemplate::parse("/k/{rand:0:1000000}/{keys:3:-5:5}");
    ASSERT_TRUE(parsed.ok());
    RequestTemplate::Rng a(9), b(9);
    for (int i = 0; i < 10; ++i) EXPECT_EQ(parsed->expand(a), parsed->expand(b));
}

TEST(RequestTemplate, MalformedPlaceholdersAreParseErrors) {
    for (const char* bad : {"{rand:5:1}", "{rand:1}", "{rand:a:b}", "{keys:0:1:2}", "{keys:1:2}",
                            "/x?{rand:1:2", "{keys:-1:0:9}"}) {
        auto parsed = RequestTemplate::parse(bad);
        ASSERT_FALSE(parsed.ok()) << bad;
        EXPECT_EQ(parsed.error().code(), ErrorCode::kParse);
    }
}

}  // namespace
}  // namespace millrace
