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

// Incremental checkpoints with a state TTL: a whole state, then changes at three barriers, the
// last after k0 expired at a watermark no row came with. Laid over the whole state they drop k0
// (a restore does not bring it back) and keep k1's and k2's values and last-update stamps: the
// restored plan drops k1 at the same watermark as the uninterrupted one, and keeps k2.
TEST_F(UpsertingStateTtlTest, IncrementalChangesRecordExpiredGroupsAndKeepTheStamps) {
    struct Run {
        testing::RowCollector rows;
        ExecContext context;
        std::unique_ptr<ExecutablePlan> plan;
    };
    auto start = [&](Run& run) {
        auto built = upserting_plan(run.rows, run.context);
        ASSERT_TRUE(built.ok()) << built.error().to_string();
        run.plan = std::move(built).value();
    };
    auto push = [&](Run& run, int key, std::size_t count) {
        const ScanInput& input = run.plan->inputs()[0];
        ASSERT_TRUE(input.entry->push(rows_of(key, count, input)).ok());
    };
    auto signal = [&](Run& run, const ControlSignal& s) {
        ASSERT_TRUE(run.plan->inputs()[0].entry->on_control(s).ok());
    };
    auto changes = [&](Run& run) {
        auto out = run.plan->serialize_state_changes();
        EXPECT_TRUE(out.ok());
        EXPECT_TRUE(std::any_of(out->changes.begin(), out->changes.end(),
                                [](uint8_t flag) { return flag != 0; }));
        EXPECT_FALSE(run.plan->state_changed_since_save());
        return std::move(out).value();
    };

    Run live;
    start(live);
    signal(live, ControlSignal::watermark(1000));
    push(live, 0, 2);
    push(live, 1, 1);
    push(live, 2, 1);
    signal(live, ControlSignal::watermark(1050));  // k0, k1, k2 at 1050
    signal(live, ControlSignal::barrier(1));
    auto whole = live.plan->serialize_state();
    ASSERT_TRUE(whole.ok());
    live.plan->mark_state_saved();
    std::vector<ExecutablePlan::StateChanges> saved;

    push(live, 1, 1);
    push(live, 2, 1);
    signal(live, ControlSignal::watermark(1100));  // k1, k2 at 1100
    signal(live, ControlSignal::barrier(2));
    saved.push_back(changes(live));

    push(live, 2, 1);
    signal(live, ControlSignal::barrier(3));  // k2's stamp still waits for a watermark
    saved.push_back(changes(live));
    // No row since: the stamp and the drop below are changes all the same.
    signal(live, ControlSignal::watermark(1120));  // k2 at 1120
    EXPECT_TRUE(live.plan->state_changed_since_save());
    saved.push_back(changes(live));
    signal(live, ControlSignal::watermark(1162));  // k0 (1050) expired; the pass runs at 1162
    EXPECT_EQ(live.plan->state_keys(), 2u);
    EXPECT_TRUE(live.plan->state_changed_since_save());
    signal(live, ControlSignal::barrier(4));
    saved.push_back(changes(live));

    Run restored;
    start(restored);
    ASSERT_TRUE(restored.plan->restore_state(*whole).ok());
    for (const auto& change : saved) {
        Status applied = restored.plan->apply_state_changes(change);
        ASSERT_TRUE(applied.ok()) << applied.error().to_string();
    }
    EXPECT_EQ(restored.plan->state_keys(), 2u);  // k0 stays dropped

    // The same from here on: k0 starts afresh; at 1212 k1 (1100) expires and k2 (1120) stays,
    // then k1 starts afresh and k2 counts on.
    for (Run* run : {&live, &restored}) {
        run->rows.rows.clear();
        push(*run, 0, 1);
        signal(*run, ControlSignal::barrier(5));
        EXPECT_THAT(run->rows.rows, ::testing::ElementsAre(::testing::StartsWith("k0|1|")));
        signal(*run, ControlSignal::watermark(1211));
        EXPECT_EQ(run->plan->state_keys(), 3u);
        signal(*run, ControlSignal::watermark(1212));
        EXPECT_EQ(run->plan->state_keys(), 2u);
        run->rows.rows.clear();
        push(*run, 1, 1);
        push(*run, 2, 1);
        signal(*run, ControlSignal::barrier(6));
        EXPECT_THAT(run->rows.rows, ::testing::ElementsAre(::testing::StartsWith("k1|1|"),
                                                           ::testing::StartsWith("k2|4|")));
    }
}

// State changes written by version 1 (exec/operator_state.h: no dropped groups, no TTL
// section) still apply; into a plan with a state TTL, their groups count as updated at the next
// watermark.
TEST_F(UpsertingStateTtlTest, VersionOneStateChangesStillApply) {
    testing::RowCollector rows;
    ExecContext context;
    auto live = upserting_plan(rows, context);
    ASSERT_TRUE(live.ok()) << live.error().to_string();
    const ScanInput& input = (*live)->inputs()[0];
    ASSERT_TRUE(input.entry->push(rows_of(0, 2, input)).ok());
    ASSERT_TRUE(input.entry->on_control(ControlSignal::barrier(1)).ok());
    auto whole = (*live)->serialize_state();
    ASSERT_TRUE(whole.ok());
    (*live)->mark_state_saved();
    ASSERT_TRUE(input.entry->push(rows_of(0, 1, input)).ok());
    ASSERT_TRUE(input.entry->push(rows_of(3, 1, input)).ok());
    ASSERT_TRUE(input.entry->on_control(ControlSignal::barrier(2)).ok());
    auto changes = (*live)->serialize_state_changes();
    ASSERT_TRUE(changes.ok());
    // Rewritten as version 1: after the envelope (7 bytes) and the 2 functions (4 + 2 bytes)
    // no dropped groups (u64 0), and at the end no TTL section (u8 flag, u8 has watermark,
    // i64 watermark, i64 next pass, an i64 stamp for each of the 2 groups).
    std::size_t with_changes = 0;
    for (std::size_t i = 0; i < changes->states.size(); ++i) {
        if (changes->changes[i] == 0) continue;
        ++with_changes;
        std::string& bytes = changes->states[i];
        ASSERT_EQ(bytes.substr(0, 4), "MRST");
        ASSERT_EQ(bytes[4], 2);
        bytes[4] = 1;
        ASSERT_EQ(bytes.substr(13, 8), std::string(8, '\0'));
        bytes.erase(13, 8);
        bytes.resize(bytes.size() - (1 + 1 + 8 + 8 + 2 * 8));
    }
    ASSERT_EQ(with_changes, 1u);

    testing::RowCollector restored_rows;
    ExecContext restored_context;
    auto restored = upserting_plan(restored_rows, restored_context);
    ASSERT_TRUE(restored.ok());
    ASSERT_TRUE((*restored)->restore_state(*whole).ok());
    Status applied = (*restored)->apply_state_changes(*changes);
    ASSERT_TRUE(applied.ok()) << applied.error().to_string();
    EXPECT_EQ((*restored)->state_keys(), 2u);
    const ScanInput& restored_input = (*restored)->inputs()[0];
    // Updated at the first watermark, so kept at 1100 and dropped past 1100 + the TTL.
    ASSERT_TRUE(restored_input.entry->on_control(ControlSignal::watermark(1000)).ok());
    ASSERT_TRUE(restored_input.entry->on_control(ControlSignal::watermark(1100)).ok());
    EXPECT_EQ((*restored)->state_keys(), 2u);
    ASSERT_TRUE(restored_input.entry->push(rows_of(0, 1, restored_input)).ok());
    ASSERT_TRUE(restored_input.entry->on_control(ControlSignal::barrier(1)).ok());
    EXPECT_THAT(restored_rows.rows, ::testing::ElementsAre(::testing::StartsWith("k0|4|")));
    ASSERT_TRUE(restored_input.entry->on_control(ControlSignal::watermark(1200)).ok());
    EXPECT_EQ((*restored)->state_keys(), 1u);  // k3 (1000) dropped, k0 (1200) kept
}

}  // namespace
}  // namespace millrace
