#include "exec/hash_aggregate_operator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

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

// Incremental checkpoints: a whole state, then the changes of each later step laid over it,
// restore what an uninterrupted run holds; changes hold only the groups updated since.
TEST_F(HashAggregateOperatorTest, StateChangesLaidOverASavedStateEqualAnUninterruptedRun) {
    const std::vector<std::string> uninterrupted = query(kEveryAggregate);
    const Batch& all = table("t");
    auto rows_of = [&](uint32_t from, uint32_t to, int only_key) {
        std::vector<uint32_t> rows;
        for (uint32_t r = from; r < to; ++r)
            if (only_key < 0 || static_cast<int>(r % 7) == only_key) rows.push_back(r);
        return all.take(rows);
    };
    std::vector<std::string> saved;
    std::vector<ExecutablePlan::StateChanges> changes;
    {
        testing::RowCollector rows;
        ExecContext context;
        auto planned = plan(kEveryAggregate, rows, context);
        ASSERT_TRUE(planned.ok()) << planned.error().to_string();
        ExecutablePlan& executable = *planned.value();
        const ScanInput& input = executable.inputs()[0];
        // Before the first save nothing tracks changes: the whole state comes back.
        auto untracked = executable.serialize_state_changes();
        ASSERT_TRUE(untracked.ok());
        for (uint8_t flag : untracked->changes) EXPECT_EQ(flag, 0);
        ASSERT_TRUE(input.entry->push(rows_of(0, 1000, -1).project(input.columns)).ok());
        auto whole = executable.serialize_state();
        ASSERT_TRUE(whole.ok());
        saved = *whole;
        executable.mark_state_saved();
        // Rows of one key of seven: its changes are a fraction of the whole state.
        ASSERT_TRUE(input.entry->push(rows_of(1000, 2000, 3).project(input.columns)).ok());
        auto one_key = executable.serialize_state_changes();
        ASSERT_TRUE(one_key.ok());
        std::size_t whole_bytes = 0, changed_bytes = 0;
        for (const std::string& state : saved) whole_bytes += state.size();
        for (const std::string& state : one_key->states) changed_bytes += state.size();
        EXPECT_LT(changed_bytes * 3, whole_bytes);
        changes.push_back(std::move(*one_key));
        // Nothing since: changes of no group.
        auto nothing = executable.serialize_state_changes();
        ASSERT_TRUE(nothing.ok());
        changes.push_back(std::move(*nothing));
        ASSERT_TRUE(input.entry->push(rows_of(1000, 2000, -1).project(input.columns)).ok());
        auto more = executable.serialize_state_changes();
        ASSERT_TRUE(more.ok());
        changes.push_back(std::move(*more));
    }
    // The rows of key 3 in [1000, 2000) were pushed twice above: push them twice here too.
    testing::RowCollector rows;
    ExecContext context;
    auto planned = plan(kEveryAggregate, rows, context);
    ASSERT_TRUE(planned.ok());
    ExecutablePlan& restored = *planned.value();
    ASSERT_TRUE(restored.restore_state(saved).ok());
    for (const auto& change : changes) {
        Status applied = restored.apply_state_changes(change);
        ASSERT_TRUE(applied.ok()) << applied.error().to_string();
    }
    const ScanInput& input = restored.inputs()[0];
    ASSERT_TRUE(input.entry->push(rows_of(2000, 3000, -1).project(input.columns)).ok());
    ASSERT_TRUE(input.entry->finish().ok());

    testing::RowCollector expected_rows;
    ExecContext expected_context;
    auto expected = plan(kEveryAggregate, expected_rows, expected_context);
    ASSERT_TRUE(expected.ok());
    const ScanInput& whole_input = expected.value()->inputs()[0];
    // The same rows in the same order (sums of doubles depend on it).
    ASSERT_TRUE(whole_input.entry->push(rows_of(0, 1000, -1).project(whole_input.columns)).ok());
    ASSERT_TRUE(whole_input.entry->push(rows_of(1000, 2000, 3).project(whole_input.columns)).ok());
    ASSERT_TRUE(whole_input.entry->push(rows_of(1000, 2000, -1).project(whole_input.columns)).ok());
    ASSERT_TRUE(whole_input.entry->push(rows_of(2000, 3000, -1).project(whole_input.columns)).ok());
    ASSERT_TRUE(whole_input.entry->finish().ok());
    std::vector<std::string> got = rows.rows, want = expected_rows.rows;
    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
    EXPECT_EQ(got, want);
    EXPECT_EQ(want.size(), uninterrupted.size());
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
    // A publish sends the changed groups without a checkpoint, and the barrier after it finds
    // nothing more to send.
    rows.rows.clear();
    ASSERT_TRUE(push_rows(15, 16).ok());  // k1
    ASSERT_TRUE(input.entry->on_control(ControlSignal::publish()).ok());
    EXPECT_THAT(rows.rows, ::testing::ElementsAre(::testing::StartsWith("k1|3|")));
    rows.rows.clear();
    ASSERT_TRUE(input.entry->on_control(ControlSignal::barrier(4)).ok());
    EXPECT_TRUE(rows.rows.empty());
    // The rest, then the end: every group ends at the batch GROUP BY's value, and the state
    // survives finish() so that a later run can go on from it.
    rows.rows.clear();
    ASSERT_TRUE(push_rows(3, 8).ok());
    ASSERT_TRUE(push_rows(9, 15).ok());
    ASSERT_TRUE(push_rows(16, all.num_rows()).ok());
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

}  // namespace
}  // namespace millrace
