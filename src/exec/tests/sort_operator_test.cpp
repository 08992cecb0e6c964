#include "exec/sort_operator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "exec/tests/query_fixture.h"

namespace millrace {
namespace {

class SortOperatorTest : public ::testing::Test, public millrace::testing::QueryFixture {};

TEST_F(SortOperatorTest, StateRoundTripsAtEveryPointOfTheInput) {
    std::vector<std::vector<Value>> rows;
    for (int i = 0; i < 800; ++i) {
        rows.push_back({i % 7 == 0 ? Value::null() : Value::int64((i * 53) % 40),
                        i % 5 == 0 ? Value::null() : Value::float64(i * 0.5),
                        Value::string("row" + std::to_string(i)),
                        Value::timestamp(int64_t{i} * 1'000'000), Value::date(i % 30),
                        Value::boolean(i % 2 == 0)});
    }
    add_table("t",
              {{"k", DataType::kInt64, true},
               {"d", DataType::kFloat64, true},
               {"s", DataType::kString, false},
               {"ts", DataType::kTimestamp, false},
               {"day", DataType::kDate, false},
               {"b", DataType::kBool, false}},
              rows);
    const std::string sql = "SELECT * FROM t ORDER BY k NULLS FIRST, d DESC";
    const std::vector<std::string> uninterrupted = query(sql);
    ASSERT_EQ(uninterrupted.size(), 800u);
    for (std::size_t cut = 0; cut < steps_of(sql, 100); ++cut)
        EXPECT_EQ(query_resumed(sql, 100, cut), uninterrupted) << "cut " << cut;
}

TEST_F(SortOperatorTest, LimitCountsWhatItLetThrough) {
    add_table("t", {{"k", DataType::kInt64, false}},
              {{Value::int64(3)}, {Value::int64(1)}, {Value::int64(2)}, {Value::int64(0)}});
    EXPECT_THAT(query("SELECT k FROM t LIMIT 2 OFFSET 1"), ::testing::ElementsAre("1", "2"));
    EXPECT_THAT(query("SELECT k FROM t LIMIT 0"), ::testing::ElementsAre());
}

}  // namespace
}  // namespace millrace
