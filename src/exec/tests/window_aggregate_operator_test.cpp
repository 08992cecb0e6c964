#include "exec/window_aggregate_operator.h"

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

constexpr const char* kTumble =
    "SELECT k, window_start, window_end, count(*), count(v), sum(v), avg(v), min(d), max(d), "
    "approx_count_distinct(s), approx_percentile(v, 0.5) "
    "FROM tumble(ev, ts, INTERVAL '1 minute') GROUP BY k, window_start, window_end";
constexpr const char* kHop =
    "SELECT window_start, window_end, count(*), sum(v), max(s) "
    "FROM hop(ev, ts, INTERVAL '30 seconds', INTERVAL '2 minutes') "
    "GROUP BY window_start, window_end";

constexpr const char* kCumulate =
    "SELECT window_start, window_end, count(*), sum(v), min(s) "
    "FROM cumulate(ev, ts, INTERVAL '20 seconds', INTERVAL '1 minute') "
    "GROUP BY window_start, window_end";

class WindowAggregateOperatorTest : public ::testing::Test, public millrace::testing::QueryFixture {
public:  // testing::expect_state_round_trip calls the plan helpers
    /// ev(k, ts, v, d, s): 3000 events a second apart, each up to 20 s out of order (within
    /// the 30 s the watermarks below lag behind), with null values.
    void SetUp() override {
        std::vector<std::vector<Value>> rows;
        for (int i = 0; i < 3000; ++i) {
            const int64_t jitter = (int64_t{i} * 7919) % 20;
            rows.push_back({
                Value::string("k" + std::to_string(i % 5)),
                Value::timestamp(kBase + (i - jitter) * kSecond + i % 1000),
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

    /// Feeds steps [from, to) of the event stream into `plan`: step i pushes rows
    /// [i * kBatch, (i + 1) * kBatch) into every input, then the watermark (greatest event time
    /// so far minus kDelay). The last step finishes the inputs.
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

    std::vector<std::string> batch_rows(const std::string& sql) {
        testing::RowCollector rows;
        ExecContext context;
        EXPECT_TRUE(run(sql, rows, context).ok());
        std::sort(rows.rows.begin(), rows.rows.end());
        return rows.rows;
    }

    static constexpr std::size_t kBatch = 128;
};

TEST_F(WindowAggregateOperatorTest, TumbleAndHopWindowsEqualTheBatchGroupBy) {
    for (const char* sql : {kTumble, kHop, kCumulate}) {
        testing::RowCollector rows;
        ExecContext context;
        std::vector<std::string> dead;
        context.dead_letter = [&](DeadLetterRow row) { dead.push_back(row.reason); };
        auto plan = streaming_plan(sql, rows, context);
        ASSERT_TRUE(plan.ok()) << plan.error().to_string();
        ASSERT_TRUE(feed(**plan, 0, steps()).ok());
        EXPECT_TRUE(dead.empty()) << sql;
        std::vector<std::string> streamed = rows.rows;
        std::sort(streamed.begin(), streamed.end());
        EXPECT_EQ(streamed, batch_rows(sql)) << sql;
        EXPECT_GT(streamed.size(), 40u);
    }
}

TEST_F(WindowAggregateOperatorTest, AWindowIsEmittedOnceTheWatermarkPassesItsEndThenDropped) {
    testing::RowCollector rows;
    ExecContext context;
    auto plan = streaming_plan(
        "SELECT window_end, count(*) FROM tumble(ev, ts, INTERVAL '1 minute') GROUP BY "
        "window_start, window_end",
        rows, context);
    ASSERT_TRUE(plan.ok()) << plan.error().to_string();
    const ScanInput& input = (*plan)->inputs()[0];
    auto event = [&](int64_t seconds) {
        BatchBuilder builder(input.schema);
        for (std::size_t c = 0; c < input.schema->size(); ++c) {
            const DataType type = input.schema->field(c).type;
            if (type == DataType::kTimestamp) {
                builder.column(c).append_value(Value::timestamp(kBase + seconds * kSecond));
            } else if (type == DataType::kString) {
                builder.column(c).append_value(Value::string("x"));
            } else if (type == DataType::kInt64) {
                builder.column(c).append_value(Value::int64(1));
            } else {
                builder.column(c).append_value(Value::float64(1));
            }
        }
        builder.commit_row();
        return builder.finish();
    };
    ASSERT_TRUE(input.entry->push(event(10)).ok());
    ASSERT_TRUE(input.entry->push(event(70)).ok());
    ASSERT_TRUE(input.entry->push(event(20)).ok());
    ASSERT_TRUE(input.entry->on_control(ControlSignal::watermark(kBase + 59 * kSecond)).ok());
    EXPECT_TRUE(rows.rows.empty());  // [0, 60) is still open: its end is not passed
    ASSERT_TRUE(input.entry->on_control(ControlSignal::watermark(kBase + 60 * kSecond)).ok());
    EXPECT_EQ(rows.rows, std::vector<std::string>{"2026-01-01T00:01:00Z|2"});
    // The watermark reaches the sink after the rows it released.
    ASSERT_FALSE(rows.signals.empty());
    EXPECT_EQ(rows.signals.back(), ControlSignal::watermark(kBase + 60 * kSecond));
    // A row for the emitted window is late: a dead letter, not a second result for it.
    std::vector<DeadLetterRow> dead;
    context.dead_letter = [&](DeadLetterRow row) { dead.push_back(std::move(row)); };
    ASSERT_TRUE(input.entry->push(event(30)).ok());
    ASSERT_EQ(dead.size(), 1u);
    EXPECT_EQ(dead[0].reason, "late");
    ASSERT_TRUE(input.entry->finish().ok());
    EXPECT_EQ(rows.rows,
              (std::vector<std::string>{"2026-01-01T00:01:00Z|2", "2026-01-01T00:02:00Z|1"}));
    EXPECT_EQ(rows.finished, 1);
}

TEST_F(WindowAggregateOperatorTest, StateRoundTripMidInputEqualsAnUninterruptedRun) {
    for (const char* sql : {kTumble, kHop, kCumulate}) testing::expect_state_round_trip(*this, sql);
}

TEST_F(WindowAggregateOperatorTest, IncrementalStateWholeThenChangesEqualsTheLiveState) {
    for (const char* sql : {kTumble, kHop, kCumulate})
        testing::expect_incremental_round_trip(*this, sql);
}

TEST_F(WindowAggregateOperatorTest, CumulateWindowsGrowByStepsFromTheStartOfTheirSize) {
    // Each window [start, start + i * 20 s) counts the rows of the minute before its end: the
    // same as a batch count over that range, computed here from the table itself.
    const Batch& all = table("ev");
    std::map<std::pair<int64_t, int64_t>, int64_t> expected;
    for (std::size_t r = 0; r < all.num_rows(); ++r) {
        const int64_t ts = all.column(1).values<int64_t>()[r];
        const int64_t start = ts - ((ts % (60 * kSecond)) + 60 * kSecond) % (60 * kSecond);
        for (int64_t end = start + 20 * kSecond; end <= start + 60 * kSecond; end += 20 * kSecond) {
            if (ts < end) ++expected[{start, end}];
        }
    }
    std::vector<std::string> want;
    for (const auto& [window, count] : expected) {
        want.push_back(Value::timestamp(window.first).to_string() + "|" +
                       Value::timestamp(window.second).to_string() + "|" + std::to_string(count));
    }
    std::sort(want.begin(), want.end());
    EXPECT_EQ(batch_rows("SELECT window_start, window_end, count(*) FROM cumulate(ev, ts, INTERVAL "
                         "'20 seconds', INTERVAL '1 minute') GROUP BY window_start, window_end"),
              want);
    testing::RowCollector rows;
    ExecContext context;
    EXPECT_FALSE(streaming_plan("SELECT count(*) FROM cumulate(ev, ts, INTERVAL '25 seconds', "
                                "INTERVAL '1 minute') GROUP BY window_end",
                                rows, context)
                     .ok());
}

TEST_F(WindowAggregateOperatorTest, CorruptStateIsRefusedNeverACrash) {
    testing::RowCollector rows;
    ExecContext context;
    auto plan = streaming_plan(kTumble, rows, context);
    ASSERT_TRUE(plan.ok());
    ASSERT_TRUE(feed(**plan, 0, 5).ok());
    auto states = (*plan)->serialize_state();
    ASSERT_TRUE(states.ok());
    std::string state;
    for (const std::string& s : *states) {
        if (!s.empty()) state = s;
    }
    ASSERT_FALSE(state.empty());
    auto restore = [&](const std::string& bytes) -> Status {
        testing::RowCollector other;
        ExecContext fresh;
        MILLRACE_ASSIGN_OR_RETURN(auto restored, streaming_plan(kTumble, other, fresh));
        std::vector<std::string> given = *states;
        for (std::string& s : given) {
            if (!s.empty()) s = bytes;
        }
        return restored->restore_state(given);
    };
    ASSERT_TRUE(restore(state).ok());
    for (std::size_t length = 0; length < state.size(); length += 1 + length / 32) {
        Status status = restore(state.substr(0, length));
        ASSERT_FALSE(status.ok()) << length;
        EXPECT_EQ(status.error().code(), ErrorCode::kCorruption);
    }
    EXPECT_EQ(restore(state + "x").error().code(), ErrorCode::kCorruption);
}

TEST_F(WindowAggregateOperatorTest, StreamingPlansRefuseWhatNeedsTheEndOfInput) {
    for (const char* sql : {"SELECT k, count(*) FROM ev GROUP BY k", "SELECT k FROM ev ORDER BY k",
                            "SELECT k FROM ev LIMIT 3", "SELECT count(*) FROM ev"}) {
        testing::RowCollector rows;
        ExecContext context;
        auto plan = streaming_plan(sql, rows, context);
        ASSERT_FALSE(plan.ok()) << sql;
        EXPECT_EQ(plan.error().code(), ErrorCode::kUnsupported) << sql;
    }
    testing::RowCollector rows;
    ExecContext context;
    EXPECT_TRUE(streaming_plan("SELECT k, ts FROM ev WHERE v > 0", rows, context).ok());
}

/// The fixture's stream, fired early (ControlSignal::kEarlyFire) after every other step, so
/// that a cut falls both right after a firing and between two: what expect_state_round_trip
/// needs from a fixture.
struct EarlyFiring {
    WindowAggregateOperatorTest& test;
    Result<std::unique_ptr<ExecutablePlan>> streaming_plan(const std::string& sql, BatchSink& sink,
                                                           ExecContext& context) {
        return test.streaming_plan(sql, sink, context, true);
    }
    Status feed(ExecutablePlan& plan, std::size_t from, std::size_t to) {
        for (std::size_t step = from; step < to; ++step) {
            MILLRACE_TRY(test.feed(plan, step, step + 1));
            if (step % 2 == 1 && step + 1 < test.steps()) {
                for (const ScanInput& input : plan.inputs())
                    MILLRACE_TRY(input.entry->on_control(ControlSignal::early_fire()));
            }
        }
        return {};
    }
    std::size_t steps() { return test.steps(); }
};

/// Applies `rows` in order as upserts keyed by their first `key_columns` fields: what a sink
/// that replaces rows by key holds at the end.
std::vector<std::string> upserted(const std::vector<std::string>& rows, std::size_t key_columns) {
    std::map<std::string, std::string> by_key;
    for (const std::string& row : rows) {
        std::size_t at = 0;
        for (std::size_t k = 0; k < key_columns; ++k) at = row.find('|', at) + 1;
        by_key[row.substr(0, at)] = row;
    }
    std::vector<std::string> out;
    for (auto& [key, row] : by_key) out.push_back(row);
    std::sort(out.begin(), out.end());
    return out;
}

TEST_F(WindowAggregateOperatorTest, EarlyResultsThenTheFinalOneEqualTheBatchGroupBy) {
    // Keys: k, window_start, window_end for the tumble query; the window's bounds for hop and
    // cumulate.
    for (const auto& [sql, keys] :
         {std::pair<const char*, std::size_t>{kTumble, 3}, {kHop, 2}, {kCumulate, 2}}) {
        testing::RowCollector rows;
        ExecContext context;
        EarlyFiring fixture{*this};
        auto plan = fixture.streaming_plan(sql, rows, context);
        ASSERT_TRUE(plan.ok()) << plan.error().to_string();
        ASSERT_TRUE(fixture.feed(**plan, 0, steps()).ok());
        const std::vector<std::string> batch = batch_rows(sql);
        // More rows than windows: windows were emitted before they closed...
        EXPECT_GT(rows.rows.size(), batch.size() + 20) << sql;
        // ...and the last row of each group is the final one, the batch GROUP BY's.
        EXPECT_EQ(upserted(rows.rows, keys), batch) << sql;
    }
}

TEST_F(WindowAggregateOperatorTest, EarlyFiringEmitsOnlyGroupsThatChangedAndTheCloseEmitsAll) {
    testing::RowCollector rows;
    ExecContext context;
    auto plan = streaming_plan(
        "SELECT window_end, count(*) FROM tumble(ev, ts, INTERVAL '1 minute') GROUP BY "
        "window_start, window_end",
        rows, context, true);
    ASSERT_TRUE(plan.ok()) << plan.error().to_string();
    const ScanInput& input = (*plan)->inputs()[0];
    const Batch& all = table("ev");
    // Rows 0 and 20 (times 0 s and 20 s) fall into [0 s, 60 s).
    auto push_row = [&](uint32_t row) {
        const std::vector<uint32_t> one{row};
        return input.entry->push(all.take(one).project(input.columns));
    };
    auto fire = [&]() { return input.entry->on_control(ControlSignal::early_fire()); };
    ASSERT_TRUE(fire().ok());
    EXPECT_TRUE(rows.rows.empty());  // nothing open yet
    ASSERT_TRUE(push_row(0).ok());
    EXPECT_TRUE(rows.rows.empty());  // only a firing emits early
    ASSERT_TRUE(fire().ok());
    EXPECT_EQ(rows.rows, std::vector<std::string>{"2026-01-01T00:01:00Z|1"});
    ASSERT_TRUE(fire().ok());  // nothing changed since
    EXPECT_EQ(rows.rows.size(), 1u);
    ASSERT_TRUE(push_row(20).ok());
    ASSERT_TRUE(fire().ok());
    // The firing is forwarded after the rows it emitted.
    ASSERT_FALSE(rows.signals.empty());
    EXPECT_EQ(rows.signals.back(), ControlSignal::early_fire());
    ASSERT_TRUE(input.entry->on_control(ControlSignal::watermark(kBase + 60 * kSecond)).ok());
    EXPECT_EQ(rows.rows,
              (std::vector<std::string>{"2026-01-01T00:01:00Z|1", "2026-01-01T00:01:00Z|2",
                                        "2026-01-01T00:01:00Z|2"}));
    // Without emit_early a firing passes through and emits nothing.
    testing::RowCollector plain_rows;
    ExecContext plain_context;
    auto plain = streaming_plan(kTumble, plain_rows, plain_context);
    ASSERT_TRUE(plain.ok());
    ASSERT_TRUE(feed(**plain, 0, 3).ok());
    const std::size_t closed = plain_rows.rows.size();  // windows the watermarks closed
    for (const ScanInput& in : (*plain)->inputs())
        ASSERT_TRUE(in.entry->on_control(ControlSignal::early_fire()).ok());
    EXPECT_EQ(plain_rows.rows.size(), closed);
    EXPECT_EQ(plain_rows.signals.back(), ControlSignal::early_fire());
}

TEST_F(WindowAggregateOperatorTest, EarlyFiringStateRoundTripEqualsAnUninterruptedRun) {
    // The groups changed since the last firing are part of the state: a restored operator
    // emits at its next firing exactly what the uninterrupted one does.
    EarlyFiring fixture{*this};
    for (const char* sql : {kTumble, kHop, kCumulate}) {
        testing::expect_state_round_trip(fixture, sql);
        testing::expect_incremental_round_trip(fixture, sql);
    }
}

}  // namespace
}  // namespace millrace
