#include "exec/deduplicate_operator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "exec/tests/query_fixture.h"

namespace millrace {
namespace {

constexpr int64_t kSecond = 1'000'000;
constexpr int64_t kBase = 1'767'225'600 * kSecond;  // 2026-01-01T00:00:00Z
constexpr int64_t kDelay = 30 * kSecond;

constexpr const char* kDedup =
    "SELECT id, ts, v FROM dedup(ev, id, ts, INTERVAL '1 minute') WHERE v >= 0";
constexpr const char* kDedupTwoKeys =
    "SELECT k, count(*) AS n FROM dedup(ev, k, v % 7, ts, INTERVAL '10 seconds') GROUP BY k";

class DeduplicateOperatorTest : public ::testing::Test, public millrace::testing::QueryFixture {
public:  // testing::expect_state_round_trip calls the plan helpers
    /// ev(id, k, ts, v): 1000 events a second apart, each delivered one to three times (the
    /// copies up to 20 s apart in arrival, within the 30 s the watermark lags behind), the
    /// copies of every 9th event with a different v, so the first copy to arrive shows.
    void SetUp() override {
        std::vector<std::pair<int64_t, std::vector<Value>>> arrivals;
        for (int i = 0; i < 1000; ++i) {
            const int64_t ts = kBase + int64_t{i} * kSecond;
            const int copies = 1 + i % 3;
            for (int c = 0; c < copies; ++c) {
                const int64_t arrive = ts + ((int64_t{i} * 7919 + c * 104729) % 20) * kSecond;
                const int64_t v = i % 9 == 0 ? i * 10 + c : i;
                arrivals.push_back({arrive * 4 + c,
                                    {Value::string("e" + std::to_string(i)),
                                     Value::string("k" + std::to_string(i % 5)),
                                     Value::timestamp(ts), Value::int64(v)}});
            }
        }
        std::sort(arrivals.begin(), arrivals.end(),
                  [](const auto& a, const auto& b) { return a.first < b.first; });
        std::vector<std::vector<Value>> rows;
        for (auto& [arrive, row] : arrivals) rows.push_back(std::move(row));
        add_table("ev",
                  {{"id", DataType::kString, false},
                   {"k", DataType::kString, false},
                   {"ts", DataType::kTimestamp, false},
                   {"v", DataType::kInt64, false}},
                  rows);
    }

    Result<std::unique_ptr<ExecutablePlan>> streaming_plan(const std::string& sql, BatchSink& sink,
                                                           ExecContext& context) {
        MILLRACE_ASSIGN_OR_RETURN(auto stmt, sql::parse_select(sql));
        MILLRACE_ASSIGN_OR_RETURN(sql::LogicalPlan plan, sql::bind_select(*stmt, sql, *this));
        sql::optimize(plan);
        PlanOptions options;
        options.unbounded_sources = {"ev"};
        options.event_time = {{"ev", "ts"}};
        return build_plan(*plan, sink, context, "test", PlanMode::kStreamingUpsert, options);
    }

    /// Step i pushes rows [i * kBatch, (i + 1) * kBatch), then the watermark (greatest time so
    /// far minus kDelay); the last step finishes the input.
    Status feed(ExecutablePlan& plan, std::size_t from, std::size_t to) {
        const Batch& all = table("ev");
        for (std::size_t step = from; step < to; ++step) {
            const std::size_t begin = step * kBatch;
            const std::size_t end = std::min(all.num_rows(), begin + kBatch);
            std::vector<uint32_t> rows;
            int64_t greatest = 0;
            for (std::size_t r = begin; r < end; ++r) rows.push_back(static_cast<uint32_t>(r));
            for (std::size_t r = 0; r < end; ++r)
                greatest = std::max(greatest, all.column(2).values<int64_t>()[r]);
            for (const ScanInput& input : plan.inputs()) {
                MILLRACE_TRY(input.entry->push(all.take(rows).project(input.columns)));
                MILLRACE_TRY(input.entry->on_control(ControlSignal::watermark(greatest - kDelay)));
            }
        }
        if (to == steps()) {
            for (const ScanInput& input : plan.inputs()) MILLRACE_TRY(input.entry->finish());
        }
        return {};
    }
    std::size_t steps() { return (table("ev").num_rows() + kBatch - 1) / kBatch; }

    std::string plan_text(const std::string& sql) {
        auto stmt = sql::parse_select(sql);
        if (!stmt.ok()) return stmt.error().message();
        auto plan = sql::bind_select(**stmt, sql, *this);
        if (!plan.ok()) return plan.error().message();
        sql::optimize(plan.value());
        return plan.value()->to_string();
    }

    static constexpr std::size_t kBatch = 50;
};

TEST_F(DeduplicateOperatorTest, StreamingEqualsTheBatchRunAndKeepsTheFirstCopy) {
    testing::RowCollector rows;
    ExecContext context;
    auto plan = streaming_plan(kDedup, rows, context);
    ASSERT_TRUE(plan.ok()) << plan.error().to_string();
    ASSERT_TRUE(feed(**plan, 0, steps()).ok());
    std::vector<std::string> batch = query(kDedup);
    EXPECT_EQ(rows.rows, batch);
    EXPECT_EQ(rows.rows.size(), 1000u);  // one row per event
    // The first copy to arrive of each event, whatever its v.
    std::map<std::string, std::string> first;
    const Batch& all = table("ev");
    for (std::size_t r = 0; r < all.num_rows(); ++r) {
        first.emplace(all.value_at(r, 0).to_string(), all.value_at(r, 0).to_string() + "|" +
                                                          all.value_at(r, 2).to_string() + "|" +
                                                          all.value_at(r, 3).to_string());
    }
    std::vector<std::string> expected;
    for (auto& [id, row] : first) expected.push_back(row);
    std::vector<std::string> sorted = rows.rows;
    std::sort(sorted.begin(), sorted.end());
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(sorted, expected);
    // State bounded by the watermark: about a minute and a half of keys, not all 1000.
    EXPECT_LT(context.memory_peak_bytes, std::size_t{200} * 100);
}

TEST_F(DeduplicateOperatorTest, KeysAreExpressionsAndAFilterAboveIsNotPushedBelow) {
    std::vector<std::string> batch = query(kDedupTwoKeys);
    ASSERT_EQ(batch.size(), 5u) << (batch.empty() ? "" : batch[0]);
    auto explained = plan_text(kDedup);
    EXPECT_THAT(explained, ::testing::HasSubstr("dedup keys"));
    // WHERE v >= 0 stays above the dedup: a filtered-out first copy still hides later ones.
    EXPECT_LT(explained.find("Filter"), explained.find("dedup keys"));
}

TEST_F(DeduplicateOperatorTest, RowsWithinTheIntervalOfAKeptRowAreDuplicates) {
    testing::RowCollector rows;
    ExecContext context;
    DeduplicateOperator dedup({sql::BoundExpr::column_ref(0, DataType::kString, "k")},
                              sql::BoundExpr::column_ref(1, DataType::kTimestamp, "ts"),
                              10 * kSecond, context, "test");
    dedup.set_output(&rows);
    auto schema = std::make_shared<const Schema>(
        std::vector<Field>{{"k", DataType::kString, true}, {"ts", DataType::kTimestamp, true}});
    auto row = [&](std::optional<std::string> k, int64_t seconds) {
        BatchBuilder builder(schema);
        if (k) {
            builder.column(0).append_value(Value::string(*k));
        } else {
            builder.column(0).append_null();
        }
        builder.column(1).append_value(Value::timestamp(kBase + seconds * kSecond));
        builder.commit_row();
        return builder.finish();
    };
    ASSERT_TRUE(dedup.push(row("a", 100)).ok());
    ASSERT_TRUE(dedup.push(row("a", 105)).ok());  // within 10 s: a duplicate
    ASSERT_TRUE(dedup.push(row("a", 91)).ok());   // 9 s before: a duplicate too
    ASSERT_TRUE(dedup.push(row("a", 110)).ok());  // exactly 10 s later: kept
    ASSERT_TRUE(dedup.push(row("b", 100)).ok());  // another key
    ASSERT_TRUE(dedup.push(row({}, 100)).ok());   // null is a key
    ASSERT_TRUE(dedup.push(row({}, 101)).ok());
    EXPECT_EQ(rows.rows.size(), 4u);
    EXPECT_EQ(dedup.duplicates(), 3u);
    EXPECT_EQ(dedup.held(), 4u);
    ASSERT_TRUE(dedup.on_control(ControlSignal::watermark(kBase + 111 * kSecond)).ok());
    EXPECT_EQ(dedup.held(), 1u);  // only a@110 can still make a later row a duplicate
    ASSERT_FALSE(rows.signals.empty());
    EXPECT_EQ(rows.signals.back(), ControlSignal::watermark(kBase + 111 * kSecond));
}

TEST_F(DeduplicateOperatorTest, StateRoundTripMidInputEqualsAnUninterruptedRun) {
    testing::expect_state_round_trip(*this, kDedup);
}

}  // namespace
}  // namespace millrace
