#include "exec/hash_aggregate_operator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>

#include "exec/operator_state.h"
#include "exec/tests/query_fixture.h"

namespace millrace {
namespace {

class HashAggregateOperatorTest : public ::testing::Test, public millrace::testing::QueryFixture {
protected:
    /// t(k string, v int64, d double, s string, b bool): 3000 rows over 7 keys, with nulls.
    void SetUp() override {
        std::vector<std::vector<Value>> rows;
        for (int i = 0; i < 3000; ++i) {
            rows.push_back({
                Value::string("k" + std::to_string(i % 7)),
                i % 11 == 0 ? Value::null() : Value::int64((int64_t{i} * 7919) % 1000 - 300),
                i % 13 == 0 ? Value::null() : Value::float64(static_cast<double>(i % 97) * 1.25),
                Value::string("s" + std::to_string((i * 31) % 401)),
                Value::boolean(i % 5 != 0),
            });
        }
        add_table("t",
                  {{"k", DataType::kString, false},
                   {"v", DataType::kInt64, true},
                   {"d", DataType::kFloat64, true},
                   {"s", DataType::kString, false},
                   {"b", DataType::kBool, false}},
                  rows);
    }
};

constexpr const char* kEveryAggregate =
    "SELECT k, count(*), count(v), count(DISTINCT s), sum(v), sum(d), avg(v), avg(d), min(s), "
    "max(s), min(d), max(v), bool_and(b), bool_or(b), approx_count_distinct(s), "
    "approx_percentile(d, 0.5), approx_percentile(v, 0.9) FROM t GROUP BY k";

TEST_F(HashAggregateOperatorTest, StateRoundTripMidInputEqualsAnUninterruptedRun) {
    const std::vector<std::string> uninterrupted = query(kEveryAggregate);
    ASSERT_EQ(uninterrupted.size(), 7u) << uninterrupted[0];
    // Cut after every step: before any input, after each batch, after the end of input.
    const std::size_t steps = steps_of(kEveryAggregate, 700);
    ASSERT_EQ(steps, 6u);
    for (std::size_t cut = 0; cut < steps; ++cut) {
        EXPECT_EQ(query_resumed(kEveryAggregate, 700, cut), uninterrupted) << "cut " << cut;
    }
}

TEST_F(HashAggregateOperatorTest, GlobalAggregateStateRoundTrips) {
    const std::string sql = "SELECT count(*), sum(v), avg(d), count(DISTINCT k) FROM t";
    const std::vector<std::string> uninterrupted = query(sql);
    for (std::size_t cut = 0; cut < steps_of(sql, 1000); ++cut)
        EXPECT_EQ(query_resumed(sql, 1000, cut), uninterrupted) << "cut " << cut;
    const std::string empty = "SELECT count(*), sum(v) FROM t WHERE v > 100000";
    EXPECT_EQ(query_resumed(empty, 1000, 1), query(empty));
}

TEST_F(HashAggregateOperatorTest, MergedPartialStatesEqualOneRunOverTheWholeInput) {
    const std::vector<std::string> uninterrupted = query(kEveryAggregate);
    const Batch& all = table("t");
    // Two "subtasks" aggregate disjoint rows; the second merges the first's state.
    std::vector<uint32_t> odd, even;
    for (uint32_t r = 0; r < all.num_rows(); ++r) (r % 2 ? odd : even).push_back(r);
    std::vector<std::string> partial;
    {
        testing::RowCollector rows;
        ExecContext context;
        auto planned = plan(kEveryAggregate, rows, context);
        ASSERT_TRUE(planned.ok()) << planned.error().to_string();
        const ScanInput& input = planned.value()->inputs()[0];
        ASSERT_TRUE(input.entry->push(all.take(odd).project(input.columns)).ok());
        auto saved = planned.value()->serialize_state();
        ASSERT_TRUE(saved.ok());
        partial = saved.value();
    }
    testing::RowCollector rows;
    ExecContext context;
    auto planned = plan(kEveryAggregate, rows, context);
    ASSERT_TRUE(planned.ok());
    const ScanInput& input = planned.value()->inputs()[0];
    ASSERT_TRUE(input.entry->push(all.take(even).project(input.columns)).ok());
    ASSERT_TRUE(planned.value()->merge_state(partial).ok());
    ASSERT_TRUE(input.entry->finish().ok());
    std::vector<std::string> merged = rows.rows;
    std::vector<std::string> expected = uninterrupted;
    std::sort(merged.begin(), merged.end());
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(merged, expected);
}

TEST_F(HashAggregateOperatorTest, CorruptStateIsRefusedNeverACrash) {
    std::string state;
    {
        testing::RowCollector rows;
        ExecContext context;
        auto planned = plan(kEveryAggregate, rows, context);
        ASSERT_TRUE(planned.ok()) << planned.error().to_string();
        const ScanInput& input = planned.value()->inputs()[0];
        ASSERT_TRUE(input.entry->push(table("t").project(input.columns)).ok());
        auto saved = planned.value()->serialize_state();
        ASSERT_TRUE(saved.ok());
        for (const std::string& s : saved.value()) {
            if (!s.empty()) state = s;
        }
    }
    ASSERT_FALSE(state.empty());
    auto restore = [&](const std::string& bytes) -> Status {
        testing::RowCollector rows;
        ExecContext context;
        MILLRACE_ASSIGN_OR_RETURN(auto planned, plan(kEveryAggregate, rows, context));
        std::vector<std::string> states;
        MILLRACE_ASSIGN_OR_RETURN(states, planned->serialize_state());
        for (std::string& s : states) {
            if (s.starts_with("MRST")) s = bytes;
        }
        return planned->restore_state(states);
    };
    ASSERT_TRUE(restore(state).ok());
    // Every truncation, and a flipped kind, is a corruption error.
    for (std::size_t length = 0; length < state.size(); length += 1 + length / 64) {
        Status status = restore(state.substr(0, length));
        ASSERT_FALSE(status.ok()) << length;
        EXPECT_EQ(status.error().code(), ErrorCode::kCorruption);
    }
    std::string other_kind = state;
    other_kind[6] = static_cast<char>(OperatorStateKind::kSort);
    EXPECT_EQ(restore(other_kind).error().code(), ErrorCode::kCorruption);
    EXPECT_EQ(restore(state + "x").error().code(), ErrorCode::kCorruption);
}

}  // namespace
}  // namespace millrace

namespace millrace {
namespace {

TEST_F(HashAggregateOperatorTest, UpsertingEmitsOnlyTheGroupsChangedSinceTheLastEmit) {
    const std::string sql = "SELECT k, count(*), sum(v), max(s) FROM t GROUP BY k";
    auto stmt = sql::parse_select(sql);
    ASSERT_TRUE(stmt.ok());
    auto plan = sql::bind_select(**stmt, sql, *this);
    ASSERT_TRUE(plan.ok()) << plan.error().to_string();
    sql::optimize(*plan);
    testing::RowCollector rows;
    ExecContext context;
    auto built = build_plan(**plan, rows, context, "test", PlanMode::kStreamingUpsert);
    ASSERT_TRUE(built.ok()) << built.error().to_string();
    const ScanInput& input = (*built)->inputs()[0];
    const Batch& all = table("t");
    auto push_rows = [&](std::size_t begin, std::size_t end) {
        std::vector<uint32_t> take;
        for (std::size_t r = begin; r < end; ++r) take.push_back(static_cast<uint32_t>(r));
        return input.entry->push(all.take(take).project(input.columns));
    };
    // Rows 0..2 touch k0, k1, k2: a barrier emits those three groups, nothing before it.
    ASSERT_TRUE(push_rows(0, 3).ok());
    EXPECT_TRUE(rows.rows.empty());
    ASSERT_TRUE(input.entry->on_control(ControlSignal::barrier(1)).ok());
    EXPECT_THAT(rows.rows, ::testing::ElementsAre(::testing::StartsWith("k0|1|"),
                                                  ::testing::StartsWith("k1|1|"),
                                                  ::testing::StartsWith("k2|1|")));
    // Nothing changed since: a second barrier emits nothing.
    rows.rows.clear();
    ASSERT_TRUE(input.entry->on_control(ControlSignal::barrier(2)).ok());
    EXPECT_TRUE(rows.rows.empty());
    // Row 8 is k1 again: only k1, with its running total (state kept), comes out.
    ASSERT_TRUE(push_rows(8, 9).ok());
    ASSERT_TRUE(input.entry->on_control(ControlSignal::barrier(3)).ok());
    EXPECT_THAT(rows.rows, ::testing::ElementsAre(::testing::StartsWith("k1|2|")));
    // The rest, then the end: every group ends at the batch GROUP BY's value, and the state
    // survives finish() so that a later run can go on from it.
    rows.rows.clear();
    ASSERT_TRUE(push_rows(3, 8).ok());
    ASSERT_TRUE(push_rows(9, all.num_rows()).ok());
    ASSERT_TRUE(input.entry->finish().ok());
    std::vector<std::string> upserted = rows.rows;
    std::sort(upserted.begin(), upserted.end());
    std::vector<std::string> batch = query(sql);
    std::sort(batch.begin(), batch.end());
    EXPECT_EQ(upserted, batch);
    auto state = (*built)->serialize_state();
    ASSERT_TRUE(state.ok());
    EXPECT_FALSE(
        std::all_of(state->begin(), state->end(), [](const std::string& s) { return s.empty(); }));
}

TEST_F(HashAggregateOperatorTest, UpsertingNeedsOnlyProjectionsAboveTheGroupBy) {
    const std::string sql = "SELECT k, count(*) AS n FROM t GROUP BY k HAVING count(*) > 2";
    auto stmt = sql::parse_select(sql);
    ASSERT_TRUE(stmt.ok());
    auto plan = sql::bind_select(**stmt, sql, *this);
    ASSERT_TRUE(plan.ok()) << plan.error().to_string();
    testing::RowCollector rows;
    ExecContext context;
    auto built = build_plan(**plan, rows, context, "test", PlanMode::kStreamingUpsert);
    ASSERT_FALSE(built.ok());
    EXPECT_THAT(built.error().message(), ::testing::HasSubstr("only a projection may follow it"));
}

/// An upserting `SELECT k, count(*), sum(v) FROM t GROUP BY k` with a state TTL of 100 (time
/// units of the watermarks sent below), and a helper for rows of one key.
class UpsertingStateTtlTest : public HashAggregateOperatorTest {
protected:
    static constexpr int64_t kTtl = 100;
    static constexpr const char* kSql = "SELECT k, count(*), sum(v) FROM t GROUP BY k";

    Result<std::unique_ptr<ExecutablePlan>> upserting_plan(BatchSink& sink, ExecContext& context) {
        MILLRACE_ASSIGN_OR_RETURN(auto stmt, sql::parse_select(kSql));
        MILLRACE_ASSIGN_OR_RETURN(sql::LogicalPlan plan, sql::bind_select(*stmt, kSql, *this));
        sql::optimize(plan);
        PlanOptions options;
        options.state_ttl_micros = kTtl;
        return build_plan(*plan, sink, context, "test", PlanMode::kStreamingUpsert, options);
    }
    /// The first `count` rows of `t` whose key is k<key> (row i has key k(i % 7)).
    Batch rows_of(int key, std::size_t count, const ScanInput& input) {
        std::vector<uint32_t> take;
        for (uint32_t r = static_cast<uint32_t>(key); take.size() < count; r += 7)
            take.push_back(r);
        return table("t").take(take).project(input.columns);
    }
};

TEST_F(UpsertingStateTtlTest, GroupsNotUpdatedForTheTtlAreDroppedAndStartAfresh) {
    testing::RowCollector rows;
    ExecContext context;
    auto plan = upserting_plan(rows, context);
    ASSERT_TRUE(plan.ok()) << plan.error().to_string();
    const ScanInput& input = (*plan)->inputs()[0];
    auto watermark = [&](int64_t w) {
        return input.entry->on_control(ControlSignal::watermark(w));
    };
    ASSERT_TRUE(watermark(1000).ok());
    ASSERT_TRUE(input.entry->push(rows_of(0, 2, input)).ok());
    ASSERT_TRUE(input.entry->push(rows_of(1, 1, input)).ok());
    // The watermark after the rows is their groups' last update: k0 and k1 at 1050.
    ASSERT_TRUE(watermark(1050).ok());
    ASSERT_TRUE(input.entry->push(rows_of(1, 2, input)).ok());  // k1 again: at 1100
    ASSERT_TRUE(watermark(1100).ok());
    EXPECT_EQ((*plan)->state_keys(), 2u);
    // k0 expired past 1150; the pass runs up to an eighth of the TTL later, at 1162.
    ASSERT_TRUE(watermark(1151).ok());
    ASSERT_TRUE(watermark(1161).ok());
    EXPECT_EQ((*plan)->state_keys(), 2u);
    EXPECT_TRUE(rows.rows.empty());
    // Dropped; its update (and k1's, both not sent yet) goes out first: none is lost.
    ASSERT_TRUE(watermark(1162).ok());
    EXPECT_EQ((*plan)->state_keys(), 1u);
    EXPECT_THAT(rows.rows, ::testing::UnorderedElementsAre(::testing::StartsWith("k0|2|"),
                                                           ::testing::StartsWith("k1|3|")));
    rows.rows.clear();
    // k0 comes back and starts from nothing; k1 (updated at 1050) counts on.
    ASSERT_TRUE(input.entry->push(rows_of(0, 1, input)).ok());
    ASSERT_TRUE(input.entry->push(rows_of(1, 1, input)).ok());
    ASSERT_TRUE(input.entry->on_control(ControlSignal::barrier(1)).ok());
    EXPECT_THAT(rows.rows, ::testing::UnorderedElementsAre(::testing::StartsWith("k0|1|"),
                                                           ::testing::StartsWith("k1|4|")));
    // The end of input is no passing of time: it drops nothing.
    ASSERT_TRUE(watermark(std::numeric_limits<int64_t>::max()).ok());
    EXPECT_EQ((*plan)->state_keys(), 2u);
}

TEST_F(UpsertingStateTtlTest, ASavedAndRestoredStateDropsWhatAnUninterruptedOneDrops) {
    // Once straight through, once with the state saved after the second watermark (k2's last
    // update still waiting for its stamp) and restored into a fresh plan: the same upserts and
    // the same keys.
    auto run = [&](bool cut) {
        testing::RowCollector rows;
        std::vector<std::size_t> keys;
        ExecContext first_context;
        auto first = upserting_plan(rows, first_context);
        EXPECT_TRUE(first.ok());
        const ScanInput* input = &(*first)->inputs()[0];
        EXPECT_TRUE(input->entry->on_control(ControlSignal::watermark(1000)).ok());
        EXPECT_TRUE(input->entry->push(rows_of(0, 3, *input)).ok());
        EXPECT_TRUE(input->entry->push(rows_of(2, 1, *input)).ok());
        EXPECT_TRUE(input->entry->on_control(ControlSignal::watermark(1080)).ok());
        EXPECT_TRUE(input->entry->push(rows_of(2, 2, *input)).ok());
        ExecContext second_context;
        std::unique_ptr<ExecutablePlan> second;
        ExecutablePlan* plan = first->get();
        if (cut) {
            auto state = (*first)->serialize_state();
            EXPECT_TRUE(state.ok());
            auto restored = upserting_plan(rows, second_context);
            EXPECT_TRUE(restored.ok());
            second = std::move(restored).value();
            EXPECT_TRUE(second->restore_state(*state).ok());
            plan = second.get();
            input = &plan->inputs()[0];
        }
        keys.push_back(plan->state_keys());
        // k0 (last updated at 1080) dropped, k2 (updated since, so at 1200) kept.
        EXPECT_TRUE(input->entry->on_control(ControlSignal::watermark(1200)).ok());
        keys.push_back(plan->state_keys());
        EXPECT_TRUE(input->entry->push(rows_of(0, 1, *input)).ok());
        EXPECT_TRUE(input->entry->push(rows_of(2, 1, *input)).ok());
        EXPECT_TRUE(input->entry->finish().ok());
        keys.push_back(plan->state_keys());
        return std::make_pair(rows.rows, keys);
    };
    const auto uninterrupted = run(false);
    EXPECT_EQ(uninterrupted.second, (std::vector<std::size_t>{2, 1, 2}));
    EXPECT_THAT(uninterrupted.first,
                ::testing::UnorderedElementsAre(
                    ::testing::StartsWith("k0|3|"), ::testing::StartsWith("k2|3|"),
                    ::testing::StartsWith("k0|1|"), ::testing::StartsWith("k2|4|")));
    EXPECT_EQ(run(true), uninterrupted);
}

}  // namespace
}  // namespace millrace
