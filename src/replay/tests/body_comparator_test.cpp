#include "replay/body_comparator.h"

#include <gtest/gtest.h>

namespace millrace {
namespace {

BodyComparator comparator(std::vector<std::string> fields) {
    Result<BodyComparator> made = BodyComparator::create(fields);
    EXPECT_TRUE(made.ok());
    return std::move(made).value();
}

TEST(BodyComparator, BytesWithoutIgnoredFields) {
    BodyComparator bodies = comparator({});
    EXPECT_TRUE(bodies.equal("{\"a\":1}", "{\"a\":1}"));
    EXPECT_FALSE(bodies.equal("{\"a\":1}", "{\"a\": 1}"));
}

TEST(BodyComparator, BareKeyAtAnyDepth) {
    BodyComparator bodies = comparator({"event_timestamp"});
    EXPECT_TRUE(bodies.ignores_fields());
    EXPECT_TRUE(bodies.equal(
        R"({"key":{"uid":1},"event_timestamp":"2026-11-23T01:00:00Z","features":{"a":1.0}})",
        R"({"key":{"uid":1},"event_timestamp":"2026-11-24T01:00:00Z","features":{"a":1.0}})"));
    EXPECT_TRUE(bodies.equal(R"({"results":[{"event_timestamp":1,"v":2}]})",
                             R"({"results":[{"event_timestamp":3,"v":2}]})"));
    // Present on one side only: still equal; other differences still count.
    EXPECT_TRUE(bodies.equal(R"({"v":1,"event_timestamp":1})", R"({"v":1})"));
    EXPECT_FALSE(bodies.equal(R"({"v":1,"event_timestamp":1})", R"({"v":2,"event_timestamp":1})"));
    EXPECT_FALSE(bodies.equal(R"({"v":1})", R"({"v":1,"w":2})"));
    // Numbers by value, keys in any order.
    EXPECT_TRUE(bodies.equal(R"({"a":1,"b":[1,2]})", R"({"b":[1.0,2],"a":1})"));
    // Not JSON: bytes.
    EXPECT_FALSE(bodies.equal("not json", "not json either"));
}

TEST(BodyComparator, DottedPathsFromTheTopThroughArrays) {
    BodyComparator bodies = comparator({"metadata.event_timestamp", "results.statuses"});
    EXPECT_TRUE(bodies.equal(R"({"metadata":{"event_timestamp":1,"n":2},"event_timestamp":5})",
                             R"({"metadata":{"event_timestamp":9,"n":2},"event_timestamp":5})"));
    // Only at that path: the top-level field still counts.
    EXPECT_FALSE(bodies.equal(R"({"metadata":{"event_timestamp":1},"event_timestamp":5})",
                              R"({"metadata":{"event_timestamp":1},"event_timestamp":6})"));
    EXPECT_TRUE(bodies.equal(R"({"results":[{"values":[1],"statuses":["PRESENT"]}]})",
                             R"({"results":[{"values":[1],"statuses":["NOT_FOUND"]}]})"));
    EXPECT_FALSE(bodies.equal(R"({"results":[{"values":[1],"statuses":["PRESENT"]}]})",
                              R"({"results":[{"values":[2],"statuses":["PRESENT"]}]})"));
}

TEST(BodyComparator, RefusesEmptyNames) {
    for (std::string bad : {"", "a..b", ".a", "a."}) {
        Result<BodyComparator> made = BodyComparator::create({bad});
        ASSERT_FALSE(made.ok()) << bad;
        EXPECT_EQ(made.error().code(), ErrorCode::kInvalidArgument);
    }
}

}  // namespace
}  // namespace millrace
