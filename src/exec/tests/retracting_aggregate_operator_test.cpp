#include "exec/retracting_aggregate_operator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "exec/operator_state.h"
#include "exec/tests/query_fixture.h"
#include "sql/optimizer.h"

namespace millrace {
namespace {

class RetractingAggregateOperatorTest : public ::testing::Test,
                                        public millrace::testing::QueryFixture {
protected:
    /// t(k string, v int64, d double): 2000 rows over 40 keys (unevenly), with nulls.
    void SetUp() override {
        std::vector<std::vector<Value>> rows;
        for (int i = 0; i < 2000; ++i) {
            rows.push_back({
                Value::string("k" + std::to_string((i * i + i / 7) % 40)),
                i % 11 == 0 ? Value::null() : Value::int64((int64_t{i} * 7919) % 1000 - 300),
                i % 17 == 0 ? Value::null() : Value::float64(static_cast<double>(i % 97) * 0.5),
            });
        }
        add_table("t",
                  {{"k", DataType::kString, false},
                   {"v", DataType::kInt64, true},
                   {"d", DataType::kFloat64, true}},
                  rows);
    }

    Result<std::unique_ptr<ExecutablePlan>> upserting_plan(const std::string& sql, BatchSink& sink,
                                                           ExecContext& context) {
        MILLRACE_ASSIGN_OR_RETURN(auto stmt, sql::parse_select(sql));
        MILLRACE_ASSIGN_OR_RETURN(auto plan, sql::bind_select(*stmt, sql, *this));
        sql::optimize(plan);
        return build_plan(*plan, sink, context, "test", PlanMode::kStreamingUpsert);
    }

    /// The newest row of each outer group (the first column), as a table of upserts ends up,
    /// without the groups left empty (emitted with a count of 0 in the second column).
    static std::vector<std::string> newest(const std::vector<std::string>& upserts) {
        std::map<std::string, std::string> last;
        for (const std::string& row : upserts) last[row.substr(0, row.find('|'))] = row;
        std::vector<std::string> out;
        for (const auto& [key, row] : last) {
            if (row.substr(row.find('|') + 1, 2) != "0|") out.push_back(row);
        }
        return out;
    }
};

// The outer key is computed from the inner aggregate (a bucket of each key's running count), so
// inner groups move between outer groups as rows arrive: each move takes the old contribution
// back out of one group and adds the new one to another.
constexpr const char* kOverUpserting =
    "SELECT bucket, count(*) AS keys, count(m) AS counted, sum(m) AS total, avg(m) AS mean, "
    "avg(md) AS mean_d, min(m) AS lo, max(m) AS hi "
    "FROM (SELECT k, n % 4 AS bucket, m, md FROM "
    "(SELECT k, count(*) AS n, max(v) AS m, max(d) AS md FROM t GROUP BY k) AS inner_q) AS q "
    "GROUP BY bucket";

TEST_F(RetractingAggregateOperatorTest, NewestUpsertPerGroupEqualsTheBatchResult) {
    std::vector<std::string> batch = query(kOverUpserting);
    std::sort(batch.begin(), batch.end());
    ASSERT_GE(batch.size(), 3u);
    testing::RowCollector rows;
    ExecContext context;
    auto built = upserting_plan(kOverUpserting, rows, context);
    ASSERT_TRUE(built.ok()) << built.error().to_string();
    const ScanInput& input = (*built)->inputs()[0];
    const Batch& all = table("t");
    std::size_t emitted_before_end = 0;
    for (uint32_t from = 0; from < all.num_rows(); from += 150) {
        std::vector<uint32_t> take;
        for (uint32_t r = from; r < std::min<uint32_t>(from + 150, all.num_rows()); ++r)
            take.push_back(r);
        ASSERT_TRUE(input.entry->push(all.take(take).project(input.columns)).ok());
        ASSERT_TRUE(input.entry->on_control(ControlSignal::barrier(from + 1)).ok());
        emitted_before_end = rows.rows.size();
    }
    EXPECT_GT(emitted_before_end, 4u) << "barriers emit the groups as they change";
    // A barrier with nothing new emits nothing.
    ASSERT_TRUE(input.entry->on_control(ControlSignal::barrier(99999)).ok());
    EXPECT_EQ(rows.rows.size(), emitted_before_end);
    ASSERT_TRUE(input.entry->finish().ok());
    EXPECT_EQ(newest(rows.rows), batch);
    // Groups moved between buckets on the way: some bucket was emptied and emitted as such.
    const bool emptied = std::any_of(rows.rows.begin(), rows.rows.end(), [](const auto& row) {
        return row.substr(row.find('|') + 1, 2) == "0|";
    });
    EXPECT_TRUE(emptied || rows.rows.size() > batch.size());
}

TEST_F(RetractingAggregateOperatorTest, StateRestoredMidInputEndsAtTheSameTable) {
    std::vector<std::string> batch = query(kOverUpserting);
    std::sort(batch.begin(), batch.end());
    const Batch& all = table("t");
    auto push = [&](ExecutablePlan& plan, uint32_t from, uint32_t to) {
        std::vector<uint32_t> take;
        for (uint32_t r = from; r < to; ++r) take.push_back(r);
        const ScanInput& input = plan.inputs()[0];
        return input.entry->push(all.take(take).project(input.columns));
    };
    testing::RowCollector rows;
    std::vector<std::string> state;
    {
        ExecContext context;
        auto first = upserting_plan(kOverUpserting, rows, context);
        ASSERT_TRUE(first.ok()) << first.error().to_string();
        ASSERT_TRUE(push(**first, 0, 900).ok());
        ASSERT_TRUE((*first)->inputs()[0].entry->on_control(ControlSignal::barrier(1)).ok());
        auto saved = (*first)->serialize_state();
        ASSERT_TRUE(saved.ok()) << saved.error().to_string();
        state = *saved;
    }
    ExecContext context;
    auto second = upserting_plan(kOverUpserting, rows, context);
    ASSERT_TRUE(second.ok());
    ASSERT_TRUE((*second)->restore_state(state).ok());
    ASSERT_TRUE(push(**second, 900, all.num_rows()).ok());
    ASSERT_TRUE((*second)->inputs()[0].entry->finish().ok());
    EXPECT_EQ(newest(rows.rows), batch);
}

TEST_F(RetractingAggregateOperatorTest, CorruptStateIsRefused) {
    testing::RowCollector rows;
    ExecContext context;
    auto built = upserting_plan(kOverUpserting, rows, context);
    ASSERT_TRUE(built.ok());
    const Batch& all = table("t");
    const ScanInput& input = (*built)->inputs()[0];
    ASSERT_TRUE(input.entry->push(all.project(input.columns)).ok());
    ASSERT_TRUE(input.entry->on_control(ControlSignal::barrier(1)).ok());
    auto saved = (*built)->serialize_state();
    ASSERT_TRUE(saved.ok());
    // The outer aggregate's entry is the one with its kind.
    std::size_t index = saved->size();
    for (std::size_t i = 0; i < saved->size(); ++i) {
        const std::string& s = (*saved)[i];
        if (s.size() > 6 && s[6] == static_cast<char>(OperatorStateKind::kRetractingAggregate))
            index = i;
    }
    ASSERT_LT(index, saved->size());
    const std::string whole = (*saved)[index];
    for (std::size_t length = 1; length < whole.size(); length += 1 + length / 16) {
        testing::RowCollector other_rows;
        ExecContext other_context;
        auto fresh = upserting_plan(kOverUpserting, other_rows, other_context);
        ASSERT_TRUE(fresh.ok());
        std::vector<std::string> cut = *saved;
        cut[index] = whole.substr(0, length);
        Status status = (*fresh)->restore_state(cut);
        ASSERT_FALSE(status.ok()) << length;
        EXPECT_EQ(status.error().code(), ErrorCode::kCorruption);
    }
}

TEST_F(RetractingAggregateOperatorTest, AggregatesThatCannotBeTakenBackAreRefused) {
    testing::RowCollector rows;
    ExecContext context;
    auto built = upserting_plan(
        "SELECT m % 3 AS b, count(DISTINCT k) AS keys FROM "
        "(SELECT k, max(v) AS m FROM t GROUP BY k) AS q GROUP BY m % 3",
        rows, context);
    ASSERT_FALSE(built.ok());
    EXPECT_EQ(built.error().code(), ErrorCode::kUnsupported);
    EXPECT_THAT(built.error().message(), ::testing::HasSubstr("only count, sum, avg, min and max"));
    // A filter between the two aggregates (HAVING on the inner one) still cannot be updated.
    auto having = upserting_plan(
        "SELECT m % 3 AS b, count(*) AS keys FROM "
        "(SELECT k, max(v) AS m FROM t GROUP BY k HAVING count(*) > 3) AS q GROUP BY m % 3",
        rows, context);
    ASSERT_FALSE(having.ok());
    EXPECT_THAT(having.error().message(), ::testing::HasSubstr("only a projection may follow it"));
}

}  // namespace
}  // namespace millrace
