#include "exec/stream_join_operator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "exec/tests/query_fixture.h"

namespace millrace {
namespace {

constexpr int64_t kSecond = 1'000'000;
constexpr int64_t kBase = 1'767'225'600 * kSecond;  // 2026-01-01T00:00:00Z
constexpr int64_t kDelay = 30 * kSecond;

// Interval joins in the forms the docs show, a bound by another column of the row (Nexmark
// q4's `b.dateTime BETWEEN a.dateTime AND a.expires`), and window joins (Nexmark q7/q8).
constexpr const char* kBetween =
    "SELECT a.k, a.ts, a.v, b.ts, b.p FROM a JOIN b ON a.k = b.k "
    "AND b.ts BETWEEN a.ts AND a.ts + INTERVAL '1 minute'";
constexpr const char* kHalfOpen =
    "SELECT a.v, b.p FROM a JOIN b ON a.k = b.k "
    "AND b.ts >= a.ts - INTERVAL '20 seconds' AND b.ts < a.ts + INTERVAL '10 seconds'";
constexpr const char* kColumnBound =
    "SELECT a.v, b.p, b.ts FROM a JOIN b ON b.k = a.k AND b.ts BETWEEN a.ts AND a.expires";
constexpr const char* kWindowJoin =
    "SELECT x.k, x.window_start, x.window_end, x.n, y.total FROM "
    "(SELECT k, window_start, window_end, count(*) AS n FROM tumble(a, ts, INTERVAL '1 minute') "
    " GROUP BY k, window_start, window_end) x JOIN "
    "(SELECT k, window_start, window_end, sum(p) AS total FROM tumble(b, ts, INTERVAL '1 minute') "
    " GROUP BY k, window_start, window_end) y "
    "ON x.k = y.k AND x.window_start = y.window_start AND x.window_end = y.window_end";
constexpr const char* kRowWindowJoin =
    "SELECT x.v, y.p, x.window_end FROM tumble(a, ts, INTERVAL '1 minute') x "
    "JOIN tumble(b, ts, INTERVAL '1 minute') y ON x.k = y.k AND x.window_end = y.window_end";
constexpr const char* kMaxJoinedBack =  // q7: each window's highest bid joined back to its bids
    "SELECT b.k, b.p, b.ts FROM b JOIN (SELECT max(p) AS top, window_end FROM "
    "tumble(b, ts, INTERVAL '1 minute') GROUP BY window_start, window_end) m "
    "ON b.p = m.top AND b.ts BETWEEN m.window_end - INTERVAL '1 minute' AND m.window_end";

class StreamJoinOperatorTest : public ::testing::Test, public millrace::testing::QueryFixture {
public:  // testing::expect_state_round_trip calls the plan helpers
    /// a(k, ts, v, expires) and b(k, ts, p): 1500 rows each, a second apart, each up to 20 s
    /// out of order (within the 30 s the watermarks lag behind), every 97th 5 minutes behind
    /// (late: the source would dead-letter it).
    void SetUp() override {
        std::vector<std::vector<Value>> a_rows, b_rows;
        for (int i = 0; i < 1500; ++i) {
            const int64_t jitter = (int64_t{i} * 7919) % 20;
            const int64_t late = i % 97 == 40 ? 300 : 0;
            const int64_t ts = kBase + (i - jitter - late) * kSecond + i % 1000;
            a_rows.push_back({Value::string("k" + std::to_string(i % 13)), Value::timestamp(ts),
                              Value::int64(i),
                              Value::timestamp(ts + ((int64_t{i} * 37) % 90) * kSecond)});
            const int64_t jitter_b = (int64_t{i} * 104729) % 20;
            const int64_t tb = kBase + (i - jitter_b - late) * kSecond + (i * 7) % 1000;
            b_rows.push_back({Value::string("k" + std::to_string((i * 5) % 13)),
                              Value::timestamp(tb), Value::int64((int64_t{i} * 31) % 1000)});
        }
        a_fields_ = {{"k", DataType::kString, false},
                     {"ts", DataType::kTimestamp, false},
                     {"v", DataType::kInt64, false},
                     {"expires", DataType::kTimestamp, false}};
        b_fields_ = {{"k", DataType::kString, false},
                     {"ts", DataType::kTimestamp, false},
                     {"p", DataType::kInt64, false}};
        add_table("a", a_fields_, a_rows);
        add_table("b", b_fields_, b_rows);
        // What a source would let through: rows not behind its watermark (per record).
        for (const char* name : {"a", "b"}) {
            const Batch& all = table(name);
            std::vector<uint32_t> keep;
            int64_t greatest = INT64_MIN;
            for (std::size_t r = 0; r < all.num_rows(); ++r) {
                const int64_t t = all.column(1).values<int64_t>()[r];
                if (greatest != INT64_MIN && t < greatest - kDelay) continue;
                greatest = std::max(greatest, t);
                keep.push_back(static_cast<uint32_t>(r));
            }
            on_time_[name] = all.take(keep);
        }
    }

    PlanOptions options() const {
        PlanOptions o;
        o.unbounded_sources = {"a", "b"};
        o.event_time = {{"a", "ts"}, {"b", "ts"}};
        o.state_ttl_micros = ttl_;
        return o;
    }

    Result<std::unique_ptr<ExecutablePlan>> streaming_plan(const std::string& sql, BatchSink& sink,
                                                           ExecContext& context) {
        MILLRACE_ASSIGN_OR_RETURN(auto stmt, sql::parse_select(sql));
        MILLRACE_ASSIGN_OR_RETURN(sql::LogicalPlan plan, sql::bind_select(*stmt, sql, *this));
        sql::optimize(plan);
        return build_plan(*plan, sink, context, "test", PlanMode::kStreaming, options());
    }

    /// Step i pushes the on-time rows [i * kBatch, (i + 1) * kBatch) of each source into every
    /// input scanning it, then that source's watermark (greatest event time so far minus
    /// kDelay). The last step finishes the inputs.
    Status feed(ExecutablePlan& plan, std::size_t from, std::size_t to) {
        for (std::size_t step = from; step < to; ++step) {
            for (const ScanInput& input : plan.inputs()) {
                const Batch& all = on_time_.at(input.source);
                const std::size_t begin = std::min(all.num_rows(), step * kBatch);
                const std::size_t end = std::min(all.num_rows(), begin + kBatch);
                std::vector<uint32_t> rows;
                int64_t greatest = INT64_MIN;
                for (std::size_t r = begin; r < end; ++r) rows.push_back(static_cast<uint32_t>(r));
                for (std::size_t r = 0; r < end; ++r)
                    greatest = std::max(greatest, all.column(1).values<int64_t>()[r]);
                if (!rows.empty())
                    MILLRACE_TRY(input.entry->push(all.take(rows).project(input.columns)));
                if (greatest != INT64_MIN)
                    MILLRACE_TRY(
                        input.entry->on_control(ControlSignal::watermark(greatest - kDelay)));
            }
        }
        if (to == steps()) {
            for (const ScanInput& input : plan.inputs()) MILLRACE_TRY(input.entry->finish());
        }
        return {};
    }
    std::size_t steps() {
        return (std::max(on_time_["a"].num_rows(), on_time_["b"].num_rows()) + kBatch - 1) / kBatch;
    }

    /// The batch engine's result over the on-time rows, sorted.
    std::vector<std::string> batch_rows(const std::string& sql) {
        std::map<std::string, Batch> all = {{"a", table("a")}, {"b", table("b")}};
        replace_table("a", a_fields_, on_time_["a"]);
        replace_table("b", b_fields_, on_time_["b"]);
        testing::RowCollector rows;
        ExecContext context;
        Status status = run(sql, rows, context);
        EXPECT_TRUE(status.ok()) << status.error().to_string();
        replace_table("a", a_fields_, all["a"]);
        replace_table("b", b_fields_, all["b"]);
        std::sort(rows.rows.begin(), rows.rows.end());
        return rows.rows;
    }

    void replace_table(const std::string& name, const std::vector<Field>& fields,
                       const Batch& batch) {
        std::vector<std::vector<Value>> rows;
        for (std::size_t r = 0; r < batch.num_rows(); ++r) {
            std::vector<Value> row;
            for (std::size_t c = 0; c < batch.num_columns(); ++c)
                row.push_back(batch.value_at(r, c));
            rows.push_back(std::move(row));
        }
        add_table(name, fields, rows);
    }

    static constexpr std::size_t kBatch = 64;
    std::vector<Field> a_fields_, b_fields_;
    std::map<std::string, Batch> on_time_;
    std::optional<int64_t> ttl_;
};

TEST_F(StreamJoinOperatorTest, ResultsOnOutOfOrderInputEqualTheBatchJoinOfTheOnTimeRows) {
    for (const char* sql :
         {kBetween, kHalfOpen, kColumnBound, kWindowJoin, kRowWindowJoin, kMaxJoinedBack}) {
        testing::RowCollector rows;
        ExecContext context;
        std::vector<std::string> dead;
        context.dead_letter = [&](DeadLetterRow row) { dead.push_back(row.reason); };
        auto plan = streaming_plan(sql, rows, context);
        ASSERT_TRUE(plan.ok()) << sql << ": " << plan.error().to_string();
        ASSERT_TRUE(feed(**plan, 0, steps()).ok()) << sql;
        EXPECT_TRUE(dead.empty()) << sql;
        std::vector<std::string> streamed = rows.rows;
        std::sort(streamed.begin(), streamed.end());
        const std::vector<std::string> expected = batch_rows(sql);
        EXPECT_EQ(streamed, expected) << sql;
        EXPECT_GT(streamed.size(), 20u) << sql;
        // The state is bounded by the watermark: far less than both inputs.
        EXPECT_LT(context.memory_peak_bytes,
                  (on_time_["a"].memory_bytes() + on_time_["b"].memory_bytes()) / 2)
            << sql;
        // The output watermark never passes a time column of a row still to come out.
        EXPECT_EQ(rows.finished, 1) << sql;
    }
}

TEST_F(StreamJoinOperatorTest, OutputWatermarkHoldsBackForBufferedRows) {
    testing::RowCollector rows;
    ExecContext context;
    auto plan = streaming_plan(kBetween, rows, context);
    ASSERT_TRUE(plan.ok()) << plan.error().to_string();
    // An `a` row at 100 s waits for `b` rows up to a minute later; the watermark of both inputs
    // moves to 130 s, but a pair (a.ts = 100 s) can still come out: the output holds back.
    const ScanInput* a = nullptr;
    const ScanInput* b = nullptr;
    for (const ScanInput& input : (*plan)->inputs()) (input.source == "a" ? a : b) = &input;
    auto row_a = [&](int64_t seconds) {
        BatchBuilder builder(std::make_shared<const Schema>(a_fields_));
        builder.column(0).append_value(Value::string("k"));
        builder.column(1).append_value(Value::timestamp(kBase + seconds * kSecond));
        builder.column(2).append_value(Value::int64(seconds));
        builder.column(3).append_value(Value::timestamp(kBase + seconds * kSecond));
        builder.commit_row();
        return builder.finish().project(a->columns);
    };
    auto row_b = [&](int64_t seconds) {
        BatchBuilder builder(std::make_shared<const Schema>(b_fields_));
        builder.column(0).append_value(Value::string("k"));
        builder.column(1).append_value(Value::timestamp(kBase + seconds * kSecond));
        builder.column(2).append_value(Value::int64(seconds));
        builder.commit_row();
        return builder.finish().project(b->columns);
    };
    ASSERT_TRUE(a->entry->push(row_a(100)).ok());
    ASSERT_TRUE(a->entry->on_control(ControlSignal::watermark(kBase + 130 * kSecond)).ok());
    ASSERT_TRUE(b->entry->on_control(ControlSignal::watermark(kBase + 130 * kSecond)).ok());
    ASSERT_FALSE(rows.signals.empty());
    EXPECT_EQ(rows.signals.back(), ControlSignal::watermark(kBase + 100 * kSecond));
    ASSERT_TRUE(b->entry->push(row_b(150)).ok());
    EXPECT_EQ(rows.rows.size(), 1u);
    // Past 160 s the `a` row can match nothing more: dropped, and the output catches up
    // (to the `b` row at 150 s, which a later `a` row at 150 s could still match).
    ASSERT_TRUE(a->entry->on_control(ControlSignal::watermark(kBase + 161 * kSecond)).ok());
    ASSERT_TRUE(b->entry->on_control(ControlSignal::watermark(kBase + 161 * kSecond)).ok());
    EXPECT_EQ(rows.signals.back(), ControlSignal::watermark(kBase + 161 * kSecond));
}

TEST_F(StreamJoinOperatorTest, StateRoundTripMidInputEqualsAnUninterruptedRun) {
    for (const char* sql : {kBetween, kColumnBound, kWindowJoin, kMaxJoinedBack}) {
        testing::expect_state_round_trip(*this, sql);
    }
}

TEST_F(StreamJoinOperatorTest, IncrementalStateWholeThenChangesEqualsTheLiveState) {
    for (const char* sql : {kBetween, kColumnBound, kWindowJoin, kMaxJoinedBack}) {
        testing::expect_incremental_round_trip(*this, sql);
    }
}

TEST_F(StreamJoinOperatorTest, AJoinWithoutATimeBoundNeedsAStateTtl) {
    const std::string sql = "SELECT a.v, b.p FROM a JOIN b ON a.k = b.k";
    {
        testing::RowCollector rows;
        ExecContext context;
        auto plan = streaming_plan(sql, rows, context);
        ASSERT_FALSE(plan.ok());
        EXPECT_THAT(plan.error().message(), ::testing::HasSubstr("no time bound"));
        EXPECT_THAT(plan.error().message(), ::testing::HasSubstr("state_ttl"));
    }
    // window_start alone does not bound anything: rows after the watermark may still have
    // an earlier window_start.
    {
        testing::RowCollector rows;
        ExecContext context;
        auto plan = streaming_plan(
            "SELECT x.v FROM tumble(a, ts, INTERVAL '1 minute') x JOIN tumble(b, ts, INTERVAL "
            "'1 minute') y ON x.k = y.k AND x.window_start = y.window_start",
            rows, context);
        ASSERT_FALSE(plan.ok());
    }
    // A TTL: rows go once the watermark is that far past the one they arrived at; what
    // matched within it comes out, and the state stays small.
    ttl_ = 60 * kSecond;
    testing::RowCollector rows;
    ExecContext context;
    auto plan = streaming_plan(sql, rows, context);
    ASSERT_TRUE(plan.ok()) << plan.error().to_string();
    ASSERT_TRUE(feed(**plan, 0, steps()).ok());
    EXPECT_GT(rows.rows.size(), 1000u);
    EXPECT_LT(rows.rows.size(), batch_rows(sql).size());
    EXPECT_LT(context.memory_peak_bytes,
              (on_time_["a"].memory_bytes() + on_time_["b"].memory_bytes()) / 3);
}

TEST_F(StreamJoinOperatorTest, OuterJoinsOfTwoStreamsAreRefused) {
    testing::RowCollector rows;
    ExecContext context;
    auto plan = streaming_plan(
        "SELECT a.v FROM a LEFT JOIN b ON a.k = b.k AND b.ts BETWEEN a.ts AND a.expires", rows,
        context);
    ASSERT_FALSE(plan.ok());
    EXPECT_THAT(plan.error().message(), ::testing::HasSubstr("inner join"));
}

TEST_F(StreamJoinOperatorTest, CorruptStateIsRefused) {
    testing::RowCollector rows;
    ExecContext context;
    auto plan = streaming_plan(kBetween, rows, context);
    ASSERT_TRUE(plan.ok());
    ASSERT_TRUE(feed(**plan, 0, 3).ok());
    auto state = (*plan)->serialize_state();
    ASSERT_TRUE(state.ok());
    std::vector<std::string> saved = std::move(state).value();
    for (std::string& s : saved) {
        if (s.size() > 20) s.resize(s.size() - 7);
    }
    ExecContext other;
    auto restored = streaming_plan(kBetween, rows, other);
    ASSERT_TRUE(restored.ok());
    Status status = (*restored)->restore_state(saved);
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().code(), ErrorCode::kCorruption);
}

}  // namespace
}  // namespace millrace
