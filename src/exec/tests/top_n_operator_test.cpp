#include "exec/top_n_operator.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "exec/tests/query_fixture.h"

namespace millrace {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

std::shared_ptr<const Schema> two_columns() {
    return std::make_shared<const Schema>(
        std::vector<Field>{{"k", DataType::kInt64, true}, {"tag", DataType::kString, false}});
}

Batch make_batch(const std::shared_ptr<const Schema>& schema,
                 const std::vector<std::pair<std::optional<int64_t>, std::string>>& rows) {
    BatchBuilder builder(schema);
    for (const auto& [k, tag] : rows) {
        if (k) {
            builder.column(0).append_int64(*k);
        } else {
            builder.column(0).append_null();
        }
        builder.column(1).append_string(tag);
        builder.commit_row();
    }
    return builder.finish();
}

TEST(TopNOperatorTest, KeepsAtMostNRowsAndEmitsThemSorted) {
    auto schema = two_columns();
    ExecContext context;
    TopNOperator top({sql::SortKey{0, true, false}}, schema, 5, context, "test");
    millrace::testing::RowCollector out;
    top.set_output(&out);
    std::mt19937_64 random(42);
    std::vector<int64_t> all;
    for (int b = 0; b < 200; ++b) {
        std::vector<std::pair<std::optional<int64_t>, std::string>> rows;
        for (int i = 0; i < 1000; ++i) {
            int64_t k = static_cast<int64_t>(random() % 1'000'000);
            all.push_back(k);
            rows.emplace_back(k, "x");
        }
        ASSERT_TRUE(top.push(make_batch(schema, rows)).ok());
        EXPECT_LE(top.rows_held(), 5u);
    }
    ASSERT_TRUE(top.finish().ok());
    std::sort(all.rbegin(), all.rend());
    std::vector<std::string> expected;
    for (int i = 0; i < 5; ++i) expected.push_back(std::to_string(all[i]) + "|x");
    EXPECT_THAT(out.rows, ElementsAreArray(expected));
    EXPECT_EQ(out.finished, 1);
    EXPECT_EQ(context.memory_used_bytes, 0u);
}

TEST(TopNOperatorTest, TiesKeepInputOrderAndNullsFollowPostgres) {
    auto schema = two_columns();
    ExecContext context;
    // ORDER BY k ASC (nulls last) LIMIT 4
    TopNOperator top({sql::SortKey{0, false, false}}, schema, 4, context, "test");
    millrace::testing::RowCollector out;
    top.set_output(&out);
    ASSERT_TRUE(top.push(make_batch(schema, {{std::nullopt, "n1"}, {2, "a"}, {1, "b"}})).ok());
    ASSERT_TRUE(top.push(make_batch(schema, {{2, "c"}, {1, "d"}, {2, "e"}, {0, "f"}})).ok());
    ASSERT_TRUE(top.finish().ok());
    EXPECT_THAT(out.rows, ElementsAre("0|f", "1|b", "1|d", "2|a"));
}

class TopNQueryTest : public ::testing::Test, public millrace::testing::QueryFixture {};

TEST_F(TopNQueryTest, OrderByLimitOverALargeJoinHoldsOnlyTheLimit) {
    std::vector<std::vector<Value>> rows;
    for (int i = 0; i < 1000; ++i)
        rows.push_back({Value::int64(i), Value::int64((int64_t{i} * 7919) % 1009)});
    add_table("a", {{"id", DataType::kInt64, false}, {"v", DataType::kInt64, false}}, rows);
    add_table("b", {{"id", DataType::kInt64, false}, {"v", DataType::kInt64, false}}, rows);
    // 1M joined rows (~32 MB) under a 256 KiB limit: a full sort cannot hold them, the top-N
    // keeps five.
    memory_limit = 256 * 1024;
    auto top = query(
        "SELECT a.id, b.id, a.v + b.v AS s FROM a CROSS JOIN b ORDER BY s DESC, a.id, b.id "
        "LIMIT 5 OFFSET 2");
    ASSERT_FALSE(last_error.has_value()) << top[0];
    // The answer computed directly.
    std::vector<std::tuple<int64_t, int64_t, int64_t>> all;
    for (int i = 0; i < 1000; ++i) {
        for (int j = 0; j < 1000; ++j) {
            int64_t s = (int64_t{i} * 7919) % 1009 + (int64_t{j} * 7919) % 1009;
            all.emplace_back(-s, i, j);
        }
    }
    std::sort(all.begin(), all.end());
    std::vector<std::string> expected;
    for (std::size_t k = 2; k < 7; ++k) {
        auto [s, i, j] = all[k];
        expected.push_back(fmt::format("{}|{}|{}", i, j, -s));
    }
    EXPECT_THAT(top, ElementsAreArray(expected));
    // Without the LIMIT the same query must sort everything: a clear error naming ORDER BY.
    auto sorted = query("SELECT a.id, b.id, a.v + b.v AS s FROM a CROSS JOIN b ORDER BY s DESC");
    EXPECT_EQ(last_error, ErrorCode::kResourceExhausted);
    EXPECT_THAT(sorted, ElementsAre(HasSubstr("ORDER BY in `test`")));
}

class TopNStateTest : public ::testing::Test, public millrace::testing::QueryFixture {};

TEST_F(TopNStateTest, StateRoundTripsAndKeepsTiesInArrivalOrder) {
    std::vector<std::vector<Value>> rows;
    for (int i = 0; i < 1000; ++i) {
        rows.push_back({i % 9 == 0 ? Value::null() : Value::int64((i * 37) % 50),
                        Value::string(fmt::format("r{}", i))});
    }
    add_table("t", {{"k", DataType::kInt64, true}, {"tag", DataType::kString, false}}, rows);
    for (const char* sql : {"SELECT k, tag FROM t ORDER BY k LIMIT 25",
                            "SELECT k, tag FROM t ORDER BY k DESC NULLS LAST LIMIT 7 OFFSET 3"}) {
        const std::vector<std::string> uninterrupted = query(sql);
        ASSERT_FALSE(uninterrupted.empty());
        for (std::size_t cut = 0; cut < steps_of(sql, 150); ++cut)
            EXPECT_EQ(query_resumed(sql, 150, cut), uninterrupted) << sql << ", cut " << cut;
    }
}

}  // namespace
}  // namespace millrace
