#include "exec/session_window_aggregate_operator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "exec/operator_state.h"
#include "exec/tests/query_fixture.h"

namespace millrace {
namespace {

constexpr int64_t kSecond = 1'000'000;
constexpr int64_t kBase = 1'767'225'600 * kSecond;  // 2026-01-01T00:00:00Z
constexpr int64_t kDelay = 30 * kSecond;
constexpr int64_t kGap = 8 * kSecond;

constexpr const char* kSessions =
    "SELECT k, window_start, window_end, count(*), sum(v), max(d), approx_count_distinct(s) "
    "FROM session(ev, ts, INTERVAL '8 seconds') GROUP BY k, window_start, window_end";

class SessionWindowAggregateOperatorTest : public ::testing::Test,
                                           public millrace::testing::QueryFixture {
public:  // testing::expect_state_round_trip calls the plan helpers
    /// ev(k, ts, v, d, s): events about a second apart over 5 keys (so each key's events are
    /// ~5 s apart, inside the 8 s gap), a 90 s pause every 100 events that ends every session,
    /// and holes in key k3 that split its sessions more often; each event up to 20 s out of
    /// order (within the 30 s the watermarks lag behind).
    void SetUp() override {
        std::vector<std::vector<Value>> rows;
        for (int i = 0; i < 3000; ++i) {
            if (i % 5 == 3 && (i / 10) % 4 == 0) continue;
            const int64_t jitter = (int64_t{i} * 7919) % 20;
            const int64_t seconds = i + (i / 100) * 90 - jitter;
            rows.push_back({
                Value::string("k" + std::to_string(i % 5)),
                Value::timestamp(kBase + seconds * kSecond),
                i % 11 == 0 ? Value::null() : Value::int64((int64_t{i} * 31) % 1000 - 300),
                Value::float64(static_cast<double>(i % 97) * 1.25),
                Value::string("s" + std::to_string((i * 13) % 301)),
            });
        }
        add_table("ev",
                  {{"k", DataType::kString, false},
                   {"ts", DataType::kTimestamp, false},
                   {"v", DataType::kInt64, true},
                   {"d", DataType::kFloat64, false},
                   {"s", DataType::kString, false}},
                  rows);
    }

    Result<std::unique_ptr<ExecutablePlan>> streaming_plan(const std::string& sql, BatchSink& sink,
                                                           ExecContext& context,
                                                           bool emit_early = false) {
        MILLRACE_ASSIGN_OR_RETURN(auto stmt, sql::parse_select(sql));
        MILLRACE_ASSIGN_OR_RETURN(sql::LogicalPlan plan, sql::bind_select(*stmt, sql, *this));
        sql::optimize(plan);
        PlanOptions options;
        options.emit_early = emit_early;
        return build_plan(*plan, sink, context, "test", PlanMode::kStreaming, options);
    }

    /// Steps [from, to): step i pushes rows [i * kBatch, (i + 1) * kBatch), then the watermark
    /// (greatest event time so far minus kDelay). The last step finishes the inputs.
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

    static std::vector<std::string> sorted(std::vector<std::string> rows) {
        std::sort(rows.begin(), rows.end());
        return rows;
    }

    static constexpr std::size_t kBatch = 128;
};

TEST_F(SessionWindowAggregateOperatorTest, SessionsEqualAHandComputedOracleAndTheBatchRun) {
    // The oracle: per key, the sorted event times split where two are a gap or more apart.
    const Batch& all = table("ev");
    std::map<std::string, std::vector<int64_t>> times;
    for (std::size_t r = 0; r < all.num_rows(); ++r)
        times[all.value_at(r, 0).to_string()].push_back(all.column(1).values<int64_t>()[r]);
    std::vector<std::string> expected;
    for (auto& [key, list] : times) {
        std::sort(list.begin(), list.end());
        std::size_t first = 0;
        for (std::size_t i = 1; i <= list.size(); ++i) {
            if (i < list.size() && list[i] - list[i - 1] < kGap) continue;
            expected.push_back(key + "|" + Value::timestamp(list[first]).to_string() + "|" +
                               Value::timestamp(list[i - 1] + kGap).to_string() + "|" +
                               std::to_string(i - first));
            first = i;
        }
    }
    std::sort(expected.begin(), expected.end());
    ASSERT_GT(expected.size(), 100u);  // the holes of k3 split its sessions more often

    const std::string counts =
        "SELECT k, window_start, window_end, count(*) FROM session(ev, ts, INTERVAL '8 seconds') "
        "GROUP BY k, window_start, window_end";
    testing::RowCollector batch_rows;
    ExecContext batch_context;
    ASSERT_TRUE(run(counts, batch_rows, batch_context).ok());
    EXPECT_EQ(sorted(batch_rows.rows), expected);

    for (const std::string& sql : {counts, std::string(kSessions)}) {
        testing::RowCollector rows;
        ExecContext context;
        std::vector<std::string> dead;
        context.dead_letter = [&](DeadLetterRow row) { dead.push_back(row.reason); };
        auto plan = streaming_plan(sql, rows, context);
        ASSERT_TRUE(plan.ok()) << plan.error().to_string();
        ASSERT_TRUE(feed(**plan, 0, steps()).ok());
        EXPECT_TRUE(dead.empty()) << sql;
        testing::RowCollector once;
        ExecContext once_context;
        ASSERT_TRUE(run(sql, once, once_context).ok());
        EXPECT_EQ(sorted(rows.rows), sorted(once.rows)) << sql;
        if (sql == counts) {
            EXPECT_EQ(sorted(rows.rows), expected);
        }
    }
}

TEST_F(SessionWindowAggregateOperatorTest, ARowBetweenTwoSessionsMergesThemAndTheWatermarkEmits) {
    testing::RowCollector rows;
    ExecContext context;
    std::vector<DeadLetterRow> dead;
    context.dead_letter = [&](DeadLetterRow row) { dead.push_back(std::move(row)); };
    auto plan = streaming_plan(
        "SELECT k, window_start, window_end, count(*), sum(v) FROM session(ev, ts, INTERVAL '10 "
        "seconds') GROUP BY k, window_start, window_end",
        rows, context);
    ASSERT_TRUE(plan.ok()) << plan.error().to_string();
    const ScanInput& input = (*plan)->inputs()[0];
    auto event = [&](const std::string& key, int64_t seconds, int64_t v) {
        BatchBuilder builder(input.schema);
        for (std::size_t c = 0; c < input.schema->size(); ++c) {
            const std::string& name = input.schema->field(c).name;
            if (name == "k") {
                builder.column(c).append_value(Value::string(key));
            } else if (name == "ts") {
                builder.column(c).append_value(Value::timestamp(kBase + seconds * kSecond));
            } else if (name == "v") {
                builder.column(c).append_value(Value::int64(v));
            } else if (name == "d") {
                builder.column(c).append_value(Value::float64(0));
            } else {
                builder.column(c).append_value(Value::string("x"));
            }
        }
        builder.commit_row();
        return builder.finish();
    };
    ASSERT_TRUE(input.entry->push(event("a", 0, 1)).ok());
    ASSERT_TRUE(input.entry->push(event("a", 15, 2)).ok());  // 15 s later: a second session
    ASSERT_TRUE(input.entry->push(event("b", 5, 4)).ok());   // another key: its own session
    ASSERT_TRUE(input.entry->push(event("a", 8, 8)).ok());   // overlaps both: one session
    ASSERT_TRUE(input.entry->on_control(ControlSignal::watermark(kBase + 15 * kSecond)).ok());
    EXPECT_EQ(rows.rows,
              std::vector<std::string>{"b|2026-01-01T00:00:05Z|2026-01-01T00:00:15Z|1|4"});
    ASSERT_TRUE(input.entry->on_control(ControlSignal::watermark(kBase + 25 * kSecond)).ok());
    ASSERT_EQ(rows.rows.size(), 2u);
    EXPECT_EQ(rows.rows[1], "a|2026-01-01T00:00:00Z|2026-01-01T00:00:25Z|3|11");
    // A row whose own window ended before the watermark is late, not a new result.
    ASSERT_TRUE(input.entry->push(event("a", 14, 16)).ok());
    ASSERT_EQ(dead.size(), 1u);
    EXPECT_EQ(dead[0].reason, "late");
    // Exactly a gap after the last row: touching windows stay two sessions.
    ASSERT_TRUE(input.entry->push(event("c", 30, 1)).ok());
    ASSERT_TRUE(input.entry->push(event("c", 40, 1)).ok());
    ASSERT_TRUE(input.entry->finish().ok());
    ASSERT_EQ(rows.rows.size(), 4u);
    EXPECT_EQ(rows.rows[2], "c|2026-01-01T00:00:30Z|2026-01-01T00:00:40Z|1|1");
    EXPECT_EQ(rows.rows[3], "c|2026-01-01T00:00:40Z|2026-01-01T00:00:50Z|1|1");
    EXPECT_EQ(rows.finished, 1);
}

TEST_F(SessionWindowAggregateOperatorTest, StateRoundTripMidInputEqualsAnUninterruptedRun) {
    EXPECT_GT(testing::expect_state_round_trip(*this, kSessions).size(), 100u);
}

TEST_F(SessionWindowAggregateOperatorTest, CorruptStateIsRefusedNeverACrash) {
    testing::RowCollector rows;
    ExecContext context;
    auto plan = streaming_plan(kSessions, rows, context);
    ASSERT_TRUE(plan.ok());
    ASSERT_TRUE(feed(**plan, 0, 5).ok());
    auto state = (*plan)->serialize_state();
    ASSERT_TRUE(state.ok());
    std::vector<std::string> saved = std::move(state).value();
    std::size_t with_state = 0;
    for (std::size_t i = 0; i < saved.size(); ++i) {
        if (saved[i].size() > 40) with_state = i;
    }
    for (std::size_t cut = 0; cut < saved[with_state].size(); cut += 7) {
        std::vector<std::string> broken = saved;
        broken[with_state].resize(cut);
        testing::RowCollector other;
        ExecContext fresh;
        auto restored = streaming_plan(kSessions, other, fresh);
        ASSERT_TRUE(restored.ok());
        EXPECT_FALSE((*restored)->restore_state(broken).ok()) << "cut at " << cut;
    }
}

TEST_F(SessionWindowAggregateOperatorTest, SessionNeedsAnIntervalGap) {
    testing::RowCollector rows;
    ExecContext context;
    EXPECT_FALSE(
        streaming_plan("SELECT count(*) FROM session(ev, ts) GROUP BY window_end", rows, context)
            .ok());
    EXPECT_FALSE(
        streaming_plan("SELECT count(*) FROM session(ev, ts, 5) GROUP BY window_end", rows, context)
            .ok());
    // window_start alone would group every row by its own time: refused, in batch runs too.
    testing::RowCollector batch_rows;
    ExecContext batch_context;
    EXPECT_FALSE(run("SELECT window_start, count(*) FROM session(ev, ts, INTERVAL '5 seconds') "
                     "GROUP BY window_start",
                     batch_rows, batch_context)
                     .ok());
    EXPECT_FALSE(streaming_plan("SELECT count(*) FROM session(ev, v, INTERVAL '5 seconds') GROUP "
                                "BY window_end",
                                rows, context)
                     .ok());
}

TEST_F(SessionWindowAggregateOperatorTest, EarlyFiringEmitsChangedSessionsWithTheirCurrentBounds) {
    testing::RowCollector rows;
    ExecContext context;
    auto plan = streaming_plan(
        "SELECT k, window_start, window_end, count(*), sum(v) FROM session(ev, ts, INTERVAL '10 "
        "seconds') GROUP BY k, window_start, window_end",
        rows, context, true);
    ASSERT_TRUE(plan.ok()) << plan.error().to_string();
    const ScanInput& input = (*plan)->inputs()[0];
    auto event = [&](const std::string& key, int64_t seconds, int64_t v) {
        BatchBuilder builder(input.schema);
        for (std::size_t c = 0; c < input.schema->size(); ++c) {
            const std::string& name = input.schema->field(c).name;
            if (name == "k") {
                builder.column(c).append_value(Value::string(key));
            } else if (name == "ts") {
                builder.column(c).append_value(Value::timestamp(kBase + seconds * kSecond));
            } else if (name == "v") {
                builder.column(c).append_value(Value::int64(v));
            } else if (name == "d") {
                builder.column(c).append_value(Value::float64(0));
            } else {
                builder.column(c).append_value(Value::string("x"));
            }
        }
        builder.commit_row();
        return builder.finish();
    };
    auto fire = [&]() { return input.entry->on_control(ControlSignal::early_fire()); };
    ASSERT_TRUE(input.entry->push(event("a", 0, 1)).ok());
    ASSERT_TRUE(input.entry->push(event("b", 2, 4)).ok());
    ASSERT_TRUE(fire().ok());
    EXPECT_EQ(rows.rows,
              (std::vector<std::string>{"a|2026-01-01T00:00:00Z|2026-01-01T00:00:10Z|1|1",
                                        "b|2026-01-01T00:00:02Z|2026-01-01T00:00:12Z|1|4"}));
    rows.rows.clear();
    // a grows (a row 5 s later): only a comes out, with its new end; b did not change.
    ASSERT_TRUE(input.entry->push(event("a", 5, 2)).ok());
    ASSERT_TRUE(fire().ok());
    EXPECT_EQ(rows.rows,
              std::vector<std::string>{"a|2026-01-01T00:00:00Z|2026-01-01T00:00:15Z|2|3"});
    rows.rows.clear();
    ASSERT_TRUE(fire().ok());
    EXPECT_TRUE(rows.rows.empty());
    // The changed flag is state: a restored operator fires what the saved one had not.
    ASSERT_TRUE(input.entry->push(event("b", 4, 8)).ok());
    auto state = (*plan)->serialize_state();
    ASSERT_TRUE(state.ok());
    testing::RowCollector restored_rows;
    ExecContext restored_context;
    auto restored = streaming_plan(
        "SELECT k, window_start, window_end, count(*), sum(v) FROM session(ev, ts, INTERVAL '10 "
        "seconds') GROUP BY k, window_start, window_end",
        restored_rows, restored_context, true);
    ASSERT_TRUE(restored.ok());
    ASSERT_TRUE((*restored)->restore_state(*state).ok());
    const ScanInput& again = (*restored)->inputs()[0];
    ASSERT_TRUE(again.entry->on_control(ControlSignal::early_fire()).ok());
    EXPECT_EQ(restored_rows.rows,
              std::vector<std::string>{"b|2026-01-01T00:00:02Z|2026-01-01T00:00:14Z|2|12"});
    // The close emits every session (in order of their ends), last.
    ASSERT_TRUE(again.entry->finish().ok());
    EXPECT_EQ(restored_rows.rows.size(), 3u);
    EXPECT_EQ(restored_rows.rows[1], "b|2026-01-01T00:00:02Z|2026-01-01T00:00:14Z|2|12");
    EXPECT_EQ(restored_rows.rows[2], "a|2026-01-01T00:00:00Z|2026-01-01T00:00:15Z|2|3");
}

}  // namespace
}  // namespace millrace
