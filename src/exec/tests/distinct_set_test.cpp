#include "exec/distinct_set.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace millrace {
namespace {

std::vector<std::string> values_of(const DistinctSet& set) {
    std::vector<std::string> out;
    set.for_each([&](std::string_view v) { out.emplace_back(v); });
    return out;
}

TEST(DistinctSetTest, EmptyHoldsNothingAndAllocatesNothing) {
    DistinctSet set;
    EXPECT_TRUE(set.empty());
    EXPECT_EQ(set.memory_bytes(), 0u);
    EXPECT_FALSE(set.contains(""));
    EXPECT_TRUE(set.canonical_order().empty());
}

TEST(DistinctSetTest, KeepsOneOfEachValueInInsertionOrder) {
    DistinctSet set;
    EXPECT_EQ(set.insert("b"), DistinctSet::Inserted::kNew);
    EXPECT_EQ(set.insert(""), DistinctSet::Inserted::kNew);
    EXPECT_EQ(set.insert(std::string("a\0z", 3)), DistinctSet::Inserted::kNew);
    EXPECT_EQ(set.insert("b"), DistinctSet::Inserted::kPresent);
    EXPECT_EQ(set.insert(std::string("a\0y", 3)), DistinctSet::Inserted::kNew);
    EXPECT_EQ(set.size(), 4u);
    EXPECT_TRUE(set.contains(""));
    EXPECT_FALSE(set.contains("a"));
    EXPECT_EQ(values_of(set),
              (std::vector<std::string>{"b", "", std::string("a\0z", 3), std::string("a\0y", 3)}));
    EXPECT_GT(set.memory_bytes(), 0u);
    set.clear();
    EXPECT_TRUE(set.empty());
    EXPECT_EQ(set.memory_bytes(), 0u);
    EXPECT_FALSE(set.contains("b"));
    EXPECT_EQ(set.insert("b"), DistinctSet::Inserted::kNew);
}

// Against std::set through growth: random values of random lengths, many repeated.
TEST(DistinctSetTest, MatchesAStdSetThroughGrowth) {
    std::mt19937_64 random(7);
    DistinctSet set;
    std::set<std::string> expected;
    for (int i = 0; i < 50000; ++i) {
        std::string value(random() % 24, '\0');
        for (char& c : value) c = static_cast<char>('a' + random() % 3);
        const bool fresh = expected.insert(value).second;
        EXPECT_EQ(set.insert(value),
                  fresh ? DistinctSet::Inserted::kNew : DistinctSet::Inserted::kPresent);
    }
    ASSERT_EQ(set.size(), expected.size());
    for (const std::string& value : expected) EXPECT_TRUE(set.contains(value)) << value;
    std::vector<std::string> all = values_of(set);
    std::sort(all.begin(), all.end());
    EXPECT_EQ(all, std::vector<std::string>(expected.begin(), expected.end()));
}

// Equal sets give the same canonical order whatever order they were built in, including
// values whose hashes share their upper half (a few among 200,000 values).
TEST(DistinctSetTest, CanonicalOrderDependsOnlyOnTheValues) {
    std::vector<std::string> values;
    for (int i = 0; i < 200000; ++i) values.push_back("value-" + std::to_string(i));
    DistinctSet forward;
    for (const std::string& v : values) forward.insert(v);
    std::mt19937_64 random(11);
    std::shuffle(values.begin(), values.end(), random);
    DistinctSet shuffled;
    for (const std::string& v : values) {
        shuffled.insert(v);
        shuffled.insert(v);
    }
    const std::vector<std::string_view> a = forward.canonical_order();
    const std::vector<std::string_view> b = shuffled.canonical_order();
    ASSERT_EQ(a.size(), values.size());
    EXPECT_TRUE(std::equal(a.begin(), a.end(), b.begin(), b.end()));
    const std::set<std::string_view> distinct(a.begin(), a.end());
    EXPECT_EQ(distinct.size(), values.size());
}

}  // namespace
}  // namespace millrace
