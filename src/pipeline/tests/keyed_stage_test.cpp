#include "pipeline/keyed_stage.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "exec/tests/query_fixture.h"
#include "pipeline/key_groups.h"

namespace millrace {
namespace {

constexpr int64_t kSecond = 1'000'000;
constexpr int64_t kBase = 1'767'225'600 * kSecond;  // 2026-01-01T00:00:00Z
constexpr int64_t kDelay = 30 * kSecond;
constexpr std::size_t kBatch = 100;

constexpr const char* kTumble =
    "SELECT k, window_start, window_end, count(*), sum(v), approx_count_distinct(s) "
    "FROM tumble(ev, ts, INTERVAL '1 minute') GROUP BY k, window_start, window_end";
constexpr const char* kHop =
    "SELECT k, window_end, count(*), max(v) "
    "FROM hop(ev, ts, INTERVAL '30 seconds', INTERVAL '2 minutes') "
    "GROUP BY k, window_start, window_end";
constexpr const char* kSession =
    "SELECT k, window_start, window_end, count(*), sum(v) "
    "FROM session(ev, ts, INTERVAL '20 seconds') GROUP BY k, window_start, window_end";

/// Collects rows as text; optionally slow, as a sink that cannot keep up.
class Rows final : public BatchSink {
public:
    Status push(Batch batch) override {
        if (delay.count() > 0) std::this_thread::sleep_for(delay);
        return collector.push(std::move(batch));
    }
    Status finish() override { return collector.finish(); }
    std::vector<std::string> sorted() const {
        std::vector<std::string> out = collector.rows;
        std::sort(out.begin(), out.end());
        return out;
    }
    testing::RowCollector collector;
    std::chrono::milliseconds delay{0};
};

/// A streaming sink plan cut at its exchange point: the prefix plan pushing into a stage.
struct Staged {
    sql::LogicalPlan logical;
    std::unique_ptr<KeyedStage> stage;
    std::unique_ptr<ExecutablePlan> prefix;
};

class KeyedStageTest : public ::testing::Test, public testing::QueryFixture {
protected:
    /// ev(k, ts, v, s): 3000 events a second apart over 40 keys (with gaps, so sessions
    /// close), up to 20 s out of order.
    void SetUp() override {
        std::vector<std::vector<Value>> rows;
        for (int i = 0; i < 3000; ++i) {
            const int64_t jitter = (int64_t{i} * 7919) % 20;
            const int64_t gap = (i / 200) * 45;  // a 45 s pause every 200 events
            rows.push_back({Value::string("k" + std::to_string((i * 7) % 40)),
                            Value::timestamp(kBase + (i + gap - jitter) * kSecond),
                            Value::int64((int64_t{i} * 31) % 1000),
                            Value::string("s" + std::to_string((i * 13) % 301))});
        }
        add_table("ev",
                  {{"k", DataType::kString, false},
                   {"ts", DataType::kTimestamp, false},
                   {"v", DataType::kInt64, false},
                   {"s", DataType::kString, false}},
                  rows);
    }

    Result<sql::LogicalPlan> logical(const std::string& sql) {
        MILLRACE_ASSIGN_OR_RETURN(auto stmt, sql::parse_select(sql));
        MILLRACE_ASSIGN_OR_RETURN(sql::LogicalPlan plan, sql::bind_select(*stmt, sql, *this));
        sql::optimize(plan);
        return plan;
    }

    Result<Staged> staged(const std::string& sql, BatchSink& output, ExecContext& context,
                          uint32_t parallelism, std::size_t queue_capacity = 8,
                          PlanMode mode = PlanMode::kStreaming,
                          const PlanOptions& plan_options = {}) {
        Staged out;
        MILLRACE_ASSIGN_OR_RETURN(out.logical, logical(sql));
        std::optional<ExchangePoint> point = find_exchange_point(*out.logical);
        if (!point) return Error(ErrorCode::kInternal, "no exchange point");
        KeyedStage::Options options;
        options.parallelism = parallelism;
        options.queue_capacity = queue_capacity;
        options.plan_options = plan_options;
        MILLRACE_ASSIGN_OR_RETURN(out.stage, KeyedStage::create(*out.logical, *point, output,
                                                                context, "test", mode, options));
        MILLRACE_ASSIGN_OR_RETURN(
            out.prefix, build_plan(*point->keyed->children[0], *out.stage, context, "test", mode));
        return out;
    }

    /// Pushes steps [from, to) of the events (kBatch each, then the watermark) into `plan`;
    /// the last step finishes it.
    Status feed(ExecutablePlan& plan, std::size_t from, std::size_t to) {
        const Batch& all = table("ev");
        for (std::size_t step = from; step < to; ++step) {
            const std::size_t begin = step * kBatch;
            const std::size_t end = std::min(all.num_rows(), begin + kBatch);
            std::vector<uint32_t> rows;
            int64_t greatest = 0;
            for (std::size_t r = begin; r < end; ++r) rows.push_back(static_cast<uint32_t>(r));
            for (std::size_t r = 0; r < end; ++r)
                greatest = std::max(greatest, all.column(1).values<int64_t>()[r]);
            Batch batch = all.take(rows);
            for (const ScanInput& input : plan.inputs()) {
                MILLRACE_TRY(input.entry->push(batch.project(input.columns)));
                MILLRACE_TRY(input.entry->on_control(ControlSignal::watermark(greatest - kDelay)));
            }
        }
        if (to == steps()) {
            for (const ScanInput& input : plan.inputs()) MILLRACE_TRY(input.entry->finish());
        }
        return {};
    }
    std::size_t steps() { return (table("ev").num_rows() + kBatch - 1) / kBatch; }

    /// The rows of `sql` over all events through one unpartitioned streaming plan.
    std::vector<std::string> whole(const std::string& sql) {
        Rows rows;
        ExecContext context;
        auto plan = logical(sql);
        EXPECT_TRUE(plan.ok());
        auto executable = build_plan(**plan, rows, context, "test", PlanMode::kStreaming);
        EXPECT_TRUE(executable.ok());
        EXPECT_TRUE(feed(**executable, 0, steps()).ok());
        return rows.sorted();
    }
};

TEST(KeyGroupsTest, RangesCoverEveryKeyGroupOnceAndInvertSubtaskOf) {
    for (uint32_t max : {1u, 7u, 32u, 128u}) {
        for (uint32_t parallelism = 1; parallelism <= max && parallelism <= 40; ++parallelism) {
            uint32_t next = 0;
            for (uint32_t t = 0; t < parallelism; ++t) {
                const KeyGroupRange range = key_group_range(t, parallelism, max);
                EXPECT_EQ(range.begin, next);
                EXPECT_GE(range.size(), max / parallelism);
                EXPECT_LE(range.size(), max / parallelism + 1);
                for (uint32_t g = range.begin; g < range.end; ++g)
                    EXPECT_EQ(subtask_of(g, parallelism, max), t);
                next = range.end;
            }
            EXPECT_EQ(next, max);
        }
    }
}

TEST(KeyGroupsTest, AKeysGroupDependsOnlyOnItsValues) {
    auto schema = std::make_shared<const Schema>(
        std::vector<Field>{{"k", DataType::kString, true}, {"n", DataType::kInt64, false}});
    BatchBuilder builder(schema);
    for (int i = 0; i < 200; ++i) {
        if (i % 50 == 0) {
            builder.column(0).append_null();
        } else {
            builder.column(0).append_value(Value::string("key" + std::to_string(i % 20)));
        }
        builder.column(1).append_value(Value::int64(i));
        builder.commit_row();
    }
    Batch batch = builder.finish();
    std::vector<uint32_t> groups;
    const std::vector<std::size_t> key{0};
    assign_key_groups(batch, key, 32, groups);
    std::set<uint32_t> seen;
    for (std::size_t r = 0; r < batch.num_rows(); ++r) {
        EXPECT_LT(groups[r], 32u);
        seen.insert(groups[r]);
        if (r >= 20 && r % 50 != 0 && (r - 20) % 50 != 0) {
            EXPECT_EQ(groups[r], groups[r - 20]);
        }
    }
    EXPECT_GT(seen.size(), 5u);  // spread, not all in one
    std::vector<uint32_t> again;
    assign_key_groups(batch.take(std::vector<uint32_t>{5, 25}), key, 32, again);
    EXPECT_EQ(again[0], groups[5]);
    EXPECT_EQ(again[1], groups[25]);
    // The integer column (fixed width) takes the other path.
    assign_key_groups(batch, std::vector<std::size_t>{1}, 32, again);
    EXPECT_EQ(again.size(), batch.num_rows());
}

TEST_F(KeyedStageTest, WindowsAtAnyParallelismEqualOneUnpartitionedPlan) {
    for (const char* sql : {kTumble, kHop, kSession}) {
        const std::vector<std::string> expected = whole(sql);
        ASSERT_GT(expected.size(), 100u) << sql;
        for (uint32_t parallelism : {1u, 2u, 3u}) {
            Rows rows;
            ExecContext context;
            auto plan = staged(sql, rows, context, parallelism);
            ASSERT_TRUE(plan.ok()) << plan.error().to_string();
            ASSERT_TRUE(feed(*plan->prefix, 0, steps()).ok());
            EXPECT_EQ(rows.sorted(), expected) << sql << " at parallelism " << parallelism;
            EXPECT_EQ(rows.collector.finished, 1);  // the sink is finished once
            EXPECT_EQ(plan->stage->stats().records_out.load(), expected.size());
        }
    }
}

TEST_F(KeyedStageTest, AStateSavedAtOneParallelismRestoresAtAnother) {
    for (const char* sql : {kTumble, kSession}) {
        const std::vector<std::string> expected = whole(sql);
        for (auto [before, after] : {std::pair{1u, 2u}, std::pair{2u, 1u}, std::pair{3u, 2u}}) {
            Rows rows;
            std::vector<KeyGroupSnapshot> saved;
            std::vector<std::string> prefix_state;
            {
                ExecContext context;
                auto plan = staged(sql, rows, context, before);
                ASSERT_TRUE(plan.ok()) << plan.error().to_string();
                ASSERT_TRUE(feed(*plan->prefix, 0, steps() / 2).ok());
                for (const ScanInput& input : plan->prefix->inputs())
                    ASSERT_TRUE(input.entry->on_control(ControlSignal::barrier(7)).ok());
                auto snapshot = plan->stage->snapshot(7);
                ASSERT_TRUE(snapshot.ok()) << snapshot.error().to_string();
                saved = std::move(*snapshot);
                auto state = plan->prefix->serialize_state();
                ASSERT_TRUE(state.ok());
                prefix_state = *state;
            }
            ASSERT_EQ(saved.size(), kDefaultMaxKeyGroups);
            ExecContext context;
            auto plan = staged(sql, rows, context, after);
            ASSERT_TRUE(plan.ok());
            ASSERT_TRUE(plan->prefix->restore_state(prefix_state).ok());
            for (const KeyGroupSnapshot& group : saved) {
                ASSERT_TRUE(group.states.has_value());  // a first snapshot has every key group
                ASSERT_TRUE(plan->stage->restore(group.key_group, *group.states).ok());
            }
            ASSERT_TRUE(feed(*plan->prefix, steps() / 2, steps()).ok());
            EXPECT_EQ(rows.sorted(), expected) << sql << ": " << before << " -> " << after;
        }
    }
}

TEST_F(KeyedStageTest, AnUnchangedKeyGroupIsNotSerializedAgainUntilItsTurnToBeRewritten) {
    Rows rows;
    ExecContext context;
    auto plan = staged(kTumble, rows, context, 2);
    ASSERT_TRUE(plan.ok()) << plan.error().to_string();
    ASSERT_TRUE(feed(*plan->prefix, 0, 3).ok());
    auto first = plan->stage->snapshot(1);
    ASSERT_TRUE(first.ok());
    for (const KeyGroupSnapshot& group : *first) EXPECT_TRUE(group.states) << group.key_group;
    // One more row, of one key, in an open window: only its key group changes.
    const ScanInput& input = plan->prefix->inputs()[0];
    BatchBuilder builder(input.schema);
    builder.column(0).append_value(Value::string("k3"));
    builder.column(1).append_value(Value::timestamp(kBase + 330 * kSecond));
    builder.column(2).append_value(Value::int64(5));
    builder.column(3).append_value(Value::string("x"));
    builder.commit_row();
    Batch one = builder.finish();
    ASSERT_TRUE(input.entry->push(one.project(input.columns)).ok());
    std::vector<uint32_t> group_of;
    assign_key_groups(one, std::vector<std::size_t>{0}, kDefaultMaxKeyGroups, group_of);
    auto second = plan->stage->snapshot(2);
    ASSERT_TRUE(second.ok());
    ASSERT_EQ(second->size(), kDefaultMaxKeyGroups);
    // The second snapshot (round 1) also rewrites, whole, the key groups whose turn it is.
    const auto turn = [](const KeyGroupSnapshot& group, uint64_t round) {
        return group.key_group % KeyedStage::kRollingRewrite == round % KeyedStage::kRollingRewrite;
    };
    for (const KeyGroupSnapshot& group : *second) {
        EXPECT_EQ(group.states.has_value(), group.key_group == group_of[0] || turn(group, 1))
            << group.key_group;
    }
    auto third = plan->stage->snapshot(3);
    ASSERT_TRUE(third.ok());
    for (const KeyGroupSnapshot& group : *third) {
        EXPECT_EQ(group.states.has_value(), turn(group, 2)) << group.key_group;
        EXPECT_TRUE(group.changes.empty()) << group.key_group;  // a turn's rewrite is whole
    }
}

// Incremental checkpoints of an upserting GROUP BY: after the first snapshot a changed key
// group gives only its changed groups, and its whole state followed by those changes restores
// what an uninterrupted stage holds.
TEST_F(KeyedStageTest, ChangesLaidOverAWholeStateRestoreAnUpsertingAggregate) {
    const std::string sql = "SELECT k, count(*), sum(v), count(DISTINCT s) FROM ev GROUP BY k";
    for (uint32_t parallelism : {1u, 2u}) {
        auto whole_states = [&](Staged& plan, uint64_t id) {
            for (const ScanInput& input : plan.prefix->inputs())
                EXPECT_TRUE(input.entry->on_control(ControlSignal::barrier(id)).ok());
            plan.stage->request_full_snapshot();
            auto snapshot = plan.stage->snapshot(id);
            EXPECT_TRUE(snapshot.ok());
            return snapshot.ok() ? *snapshot : std::vector<KeyGroupSnapshot>();
        };
        // Uninterrupted, to step 20.
        Rows expected_rows;
        ExecContext expected_context;
        auto expected = staged(sql, expected_rows, expected_context, parallelism, 8,
                               PlanMode::kStreamingUpsert);
        ASSERT_TRUE(expected.ok()) << expected.error().to_string();
        ASSERT_TRUE(feed(*expected->prefix, 0, 20).ok());
        const std::vector<KeyGroupSnapshot> want = whole_states(*expected, 1);

        // Snapshots at steps 10 (whole), 15 and 18 (changes), then steps 18-20 after restore.
        std::vector<std::vector<KeyGroupSnapshot>> saved;
        {
            Rows rows;
            ExecContext context;
            auto plan = staged(sql, rows, context, parallelism, 8, PlanMode::kStreamingUpsert);
            ASSERT_TRUE(plan.ok());
            std::size_t step = 0;
            uint64_t id = 0;
            for (std::size_t until : {10u, 15u, 18u}) {
                ASSERT_TRUE(feed(*plan->prefix, step, until).ok());
                step = until;
                ++id;
                for (const ScanInput& input : plan->prefix->inputs())
                    ASSERT_TRUE(input.entry->on_control(ControlSignal::barrier(id)).ok());
                auto snapshot = plan->stage->snapshot(id);
                ASSERT_TRUE(snapshot.ok()) << snapshot.error().to_string();
                saved.push_back(std::move(*snapshot));
            }
        }
        for (const KeyGroupSnapshot& group : saved[0]) EXPECT_TRUE(group.changes.empty());
        std::size_t with_changes = 0;
        for (const KeyGroupSnapshot& group : saved[1]) {
            // Round 1 rewrites these whole (KeyedStage::kRollingRewrite).
            if (!group.states || group.key_group % KeyedStage::kRollingRewrite == 1) continue;
            EXPECT_FALSE(group.changes.empty()) << group.key_group;
            ++with_changes;
        }
        EXPECT_GT(with_changes, 0u);

        Rows rows;
        ExecContext context;
        auto plan = staged(sql, rows, context, parallelism, 8, PlanMode::kStreamingUpsert);
        ASSERT_TRUE(plan.ok());
        for (const auto& snapshot : saved) {
            for (const KeyGroupSnapshot& group : snapshot) {
                if (!group.states) continue;
                Status restored =
                    group.changes.empty()
                        ? plan->stage->restore(group.key_group, *group.states)
                        : plan->stage->apply_changes(group.key_group, *group.states, group.changes);
                ASSERT_TRUE(restored.ok()) << restored.error().to_string();
            }
        }
        ASSERT_TRUE(feed(*plan->prefix, 18, 20).ok());
        const std::vector<KeyGroupSnapshot> got = whole_states(*plan, 9);
        ASSERT_EQ(got.size(), want.size());
        for (std::size_t g = 0; g < got.size(); ++g) {
            ASSERT_TRUE(got[g].states && want[g].states);
            EXPECT_EQ(*got[g].states, *want[g].states)
                << "key group " << g << " at parallelism " << parallelism;
        }
    }
}

// With a state TTL, a watermark alone (no row reaches any key group) can drop every group: the
// next incremental snapshot still writes each key group's changes, so that the whole state
// followed by them restores no dropped group.
TEST_F(KeyedStageTest, GroupsDroppedByTheStateTtlAtAWatermarkStayDroppedAfterARestore) {
    const std::string sql = "SELECT k, count(*), sum(v) FROM ev GROUP BY k";
    PlanOptions ttl;
    ttl.state_ttl_micros = 60 * kSecond;
    for (uint32_t parallelism : {1u, 2u}) {
        auto snapshot = [&](Staged& plan, uint64_t id) {
            for (const ScanInput& input : plan.prefix->inputs())
                EXPECT_TRUE(input.entry->on_control(ControlSignal::barrier(id)).ok());
            auto out = plan.stage->snapshot(id);
            EXPECT_TRUE(out.ok()) << out.error().to_string();
            return out.ok() ? *out : std::vector<KeyGroupSnapshot>();
        };
        Rows rows;
        ExecContext context;
        auto live = staged(sql, rows, context, parallelism, 8, PlanMode::kStreamingUpsert, ttl);
        ASSERT_TRUE(live.ok()) << live.error().to_string();
        ASSERT_TRUE(feed(*live->prefix, 0, 10).ok());
        const std::vector<KeyGroupSnapshot> whole_state = snapshot(*live, 1);
        // An hour of event time later, with no row: every group is past the TTL.
        for (const ScanInput& input : live->prefix->inputs()) {
            ASSERT_TRUE(
                input.entry->on_control(ControlSignal::watermark(kBase + 3600 * kSecond)).ok());
        }
        const std::vector<KeyGroupSnapshot> changes = snapshot(*live, 2);
        std::size_t with_changes = 0;
        for (const KeyGroupSnapshot& group : changes) {
            if (group.states && !group.changes.empty()) ++with_changes;
        }
        EXPECT_GT(with_changes, 0u) << "parallelism " << parallelism;
        EXPECT_EQ(live->stage->state_keys_now(), 0u);

        Rows restored_rows;
        ExecContext restored_context;
        auto restored = staged(sql, restored_rows, restored_context, parallelism, 8,
                               PlanMode::kStreamingUpsert, ttl);
        ASSERT_TRUE(restored.ok());
        for (const auto* saved : {&whole_state, &changes}) {
            for (const KeyGroupSnapshot& group : *saved) {
                if (!group.states) continue;
                Status status = group.changes.empty()
                                    ? restored->stage->restore(group.key_group, *group.states)
                                    : restored->stage->apply_changes(group.key_group, *group.states,
                                                                     group.changes);
                ASSERT_TRUE(status.ok()) << status.error().to_string();
            }
        }
        // Whole states of both: a key group that wrote changes is as the live one (no group
        // left), the others as saved whole (only the watermark they keep moved since).
        live->stage->request_full_snapshot();
        restored->stage->request_full_snapshot();
        std::map<uint32_t, std::vector<std::string>> want, unchanged, got;
        for (const KeyGroupSnapshot& group : snapshot(*live, 3)) {
            ASSERT_TRUE(group.states);
            want[group.key_group] = *group.states;
        }
        for (const KeyGroupSnapshot& group : whole_state) {
            ASSERT_TRUE(group.states);
            unchanged[group.key_group] = *group.states;
        }
        for (const KeyGroupSnapshot& group : changes) {
            if (group.states) unchanged.erase(group.key_group);
        }
        for (const KeyGroupSnapshot& group : snapshot(*restored, 3)) {
            ASSERT_TRUE(group.states);
            got[group.key_group] = *group.states;
        }
        ASSERT_EQ(got.size(), want.size());
        for (const auto& [g, states] : got) {
            const auto& expected = unchanged.count(g) != 0 ? unchanged[g] : want[g];
            EXPECT_EQ(states, expected) << "key group " << g << " at parallelism " << parallelism;
        }
        EXPECT_EQ(restored->stage->state_keys_now(), 0u);  // as of the barrier
    }
}

TEST_F(KeyedStageTest, ASlowSinkHoldsTheQueuesAtTheirCapacity) {
    Rows rows;
    rows.delay = std::chrono::milliseconds(2);
    ExecContext context;
    auto plan = staged(kTumble, rows, context, 2, /*queue_capacity=*/2);
    ASSERT_TRUE(plan.ok()) << plan.error().to_string();
    ASSERT_TRUE(feed(*plan->prefix, 0, steps()).ok());
    const KeyedStageStats& stats = plan->stage->stats();
    EXPECT_LE(stats.queue_peak.load(), 2u);
    EXPECT_EQ(rows.sorted(), whole(kTumble));
}

// A barrier, snapshot or finish goes to every subtask; while one subtask's full queue waits,
// another may already have answered, and that answer must count (it once was drained and
// lost, and the stage waited forever). One-batch queues make full queues the rule.
TEST_F(KeyedStageTest, BarriersThroughFullQueuesAreAnsweredByEverySubtask) {
    const std::vector<std::string> expected = whole(kSession);
    Rows rows;
    ExecContext context;
    auto plan = staged(kSession, rows, context, 3, /*queue_capacity=*/1);
    ASSERT_TRUE(plan.ok()) << plan.error().to_string();
    for (std::size_t step = 0; step < steps(); ++step) {
        ASSERT_TRUE(feed(*plan->prefix, step, step + 1).ok());
        if (step + 1 == steps()) break;
        for (const ScanInput& input : plan->prefix->inputs())
            ASSERT_TRUE(input.entry->on_control(ControlSignal::barrier(step + 1)).ok());
        auto snapshot = plan->stage->snapshot(step + 1);
        ASSERT_TRUE(snapshot.ok()) << snapshot.error().to_string();
        ASSERT_EQ(snapshot->size(), kDefaultMaxKeyGroups) << "every key group answers";
    }
    EXPECT_EQ(rows.sorted(), expected);
    EXPECT_LE(plan->stage->stats().queue_peak.load(), 1u);
}

TEST_F(KeyedStageTest, PlansWithoutAKeyedOperatorAtTheTopHaveNoExchangePoint) {
    auto filter_only = logical("SELECT k, v FROM ev WHERE v > 3");
    ASSERT_TRUE(filter_only.ok());
    EXPECT_FALSE(find_exchange_point(**filter_only));
    auto computed_key = logical(
        "SELECT upper(k), window_end, count(*) FROM tumble(ev, ts, INTERVAL '1 minute') "
        "GROUP BY upper(k), window_start, window_end");
    ASSERT_TRUE(computed_key.ok()) << computed_key.error().to_string();
    auto tumble = logical(kTumble);
    ASSERT_TRUE(tumble.ok());
    auto point = find_exchange_point(**tumble);
    ASSERT_TRUE(point);
    EXPECT_EQ(point->key_columns.size(), 1u);  // k, not the window bounds
}

TEST_F(KeyedStageTest, EarlyFiresReachEveryKeyGroupAndTheFinalRowsComeLast) {
    // Early-fire ticks between the steps go through the queues to every key group; applied as
    // upserts by (k, window_start, window_end), what the sink got equals the windows' final
    // rows, at any parallelism.
    const std::vector<std::string> expected = whole(kTumble);
    for (uint32_t parallelism : {1u, 2u}) {
        Rows rows;
        ExecContext context;
        PlanOptions early;
        early.emit_early = true;
        auto plan = staged(kTumble, rows, context, parallelism, 8, PlanMode::kStreaming, early);
        ASSERT_TRUE(plan.ok()) << plan.error().to_string();
        for (std::size_t step = 0; step < steps(); ++step) {
            ASSERT_TRUE(feed(*plan->prefix, step, step + 1).ok());
            if (step + 1 == steps()) break;
            for (const ScanInput& input : plan->prefix->inputs())
                ASSERT_TRUE(input.entry->on_control(ControlSignal::early_fire()).ok());
            ASSERT_TRUE(plan->stage->poll().ok());
        }
        // Rows of one key keep their order through the stage: the last per key is the final.
        std::map<std::string, std::string> by_key;
        for (const std::string& row : rows.collector.rows) {
            std::size_t at = 0;
            for (int k = 0; k < 3; ++k) at = row.find('|', at) + 1;
            by_key[row.substr(0, at)] = row;
        }
        std::vector<std::string> upserted;
        for (auto& [key, row] : by_key) upserted.push_back(row);
        std::sort(upserted.begin(), upserted.end());
        EXPECT_EQ(upserted, expected) << "parallelism " << parallelism;
        EXPECT_GT(rows.collector.rows.size(), expected.size() + 100)
            << "parallelism " << parallelism;
    }
}

}  // namespace
}  // namespace millrace
