#include "exec/hash_join_operator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "exec/tests/query_fixture.h"

namespace millrace {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

/// Counts rows without keeping them, and remembers the largest batch it was given.
class CountingSink final : public BatchSink {
public:
    Status push(Batch batch) override {
        rows += batch.num_rows();
        largest_batch = std::max(largest_batch, batch.num_rows());
        return {};
    }
    Status finish() override {
        ++finished;
        return {};
    }
    uint64_t rows = 0;
    std::size_t largest_batch = 0;
    int finished = 0;
};

class HashJoinOperatorTest : public ::testing::Test, public millrace::testing::QueryFixture {
protected:
    /// Table `name`(id int64, v int64) with ids 0..rows-1 and v = (id * 7919) % 1000.
    void add_numbers(const std::string& name, int rows) {
        std::vector<std::vector<Value>> data;
        for (int i = 0; i < rows; ++i)
            data.push_back({Value::int64(i), Value::int64((int64_t{i} * 7919) % 1000)});
        add_table(name, {{"id", DataType::kInt64, false}, {"v", DataType::kInt64, false}}, data);
    }
};

TEST_F(HashJoinOperatorTest, CrossJoinStreamsItsProductInBoundedBatches) {
    add_numbers("a", 2000);
    add_numbers("b", 2000);
    CountingSink sink;
    ExecContext context;
    context.memory_limit_bytes = std::size_t{1} << 20;
    Status status = run("SELECT a.id, a.v, b.id, b.v FROM a CROSS JOIN b", sink, context);
    ASSERT_TRUE(status.ok()) << status.error().to_string();
    EXPECT_EQ(sink.rows, 4'000'000u);
    EXPECT_EQ(sink.finished, 1);
    EXPECT_LE(sink.largest_batch, kOutputBatchRows);
    // Only the build side was held, never the 4M-row product (~128 MB).
    EXPECT_LE(context.memory_peak_bytes, context.memory_limit_bytes);
    EXPECT_EQ(context.memory_used_bytes, 0u);
}

TEST_F(HashJoinOperatorTest, ManyMatchesPerKeyStreamAndKeepOuterRows) {
    add_numbers("a", 3000);
    add_numbers("b", 3000);
    CountingSink sink;
    ExecContext context;
    context.memory_limit_bytes = std::size_t{1} << 20;
    // Each v matches about three rows of the other side; the residual keeps half of them, and
    // a LEFT join must still emit every probe row without a surviving match.
    ASSERT_TRUE(run("SELECT a.id, b.id FROM a LEFT JOIN b ON a.v % 10 = b.v % 10 AND b.id < 1500",
                    sink, context)
                    .ok());
    // a.v % 10 takes each value 300 times on each side; half of b survives the residual.
    EXPECT_EQ(sink.rows, 3000u * 150u);
    EXPECT_LE(sink.largest_batch, kOutputBatchRows);
}

TEST_F(HashJoinOperatorTest, BuildSideOverTheLimitNamesTheJoinAndTheLimit) {
    add_numbers("a", 100);
    add_numbers("b", 20000);
    memory_limit = 64 * 1024;
    auto rows = query("SELECT count(*) FROM a JOIN b ON a.id = b.id");
    ASSERT_EQ(last_error, ErrorCode::kResourceExhausted);
    EXPECT_THAT(rows, ElementsAre(AllOf(HasSubstr("memory limit of 64 KiB"),
                                        HasSubstr("build side"), HasSubstr("join in `test`"))));
}

TEST_F(HashJoinOperatorTest, BuildRowsWhoseKeyFailsAreDeadLetteredNotDropped) {
    add_numbers("a", 5);
    add_numbers("b", 5);
    // 10 / (b.id - 2) fails for b.id = 2: that row goes to the dead letters with its reason
    // and, not being a match, does not come out of the RIGHT join as an unmatched row either.
    EXPECT_THAT(query("SELECT a.id, b.id FROM a RIGHT JOIN b ON a.id = 10 / (b.id - 2)"),
                UnorderedElementsAre("NULL|0", "NULL|1", "NULL|3", "NULL|4"));
    EXPECT_THAT(dead_letters, ElementsAre("division by zero"));
}

TEST_F(HashJoinOperatorTest, RowErrorFailsThePlanUnderTheFailPolicy) {
    add_numbers("a", 5);
    add_numbers("b", 5);
    row_error_policy = RowErrorPolicy::kFail;
    auto rows = query("SELECT sum(a.id) FROM a JOIN b ON a.id = b.id WHERE 10 / (a.id - 2) > 0");
    EXPECT_EQ(last_error, ErrorCode::kInvalidArgument);
    EXPECT_THAT(rows, ElementsAre(HasSubstr("division by zero")));
    EXPECT_TRUE(dead_letters.empty());
}

TEST_F(HashJoinOperatorTest, StateRoundTripsAtEveryPointOfTheInput) {
    add_numbers("a", 900);
    add_numbers("b", 500);
    for (const char* sql :
         {"SELECT a.id, b.id FROM a JOIN b ON a.v = b.v ORDER BY a.id, b.id",
          "SELECT a.id, b.id FROM a FULL JOIN b ON a.v = b.id ORDER BY a.id, b.id",
          "SELECT a.id, b.id FROM a RIGHT JOIN b ON a.id = b.v AND a.id < 300"}) {
        const std::vector<std::string> uninterrupted = query(sql);
        ASSERT_FALSE(uninterrupted.empty());
        const std::size_t steps = steps_of(sql, 200);
        ASSERT_GE(steps, 6u);
        for (std::size_t cut = 0; cut < steps; ++cut) {
            std::vector<std::string> resumed = query_resumed(sql, 200, cut);
            std::sort(resumed.begin(), resumed.end());
            std::vector<std::string> expected = uninterrupted;
            std::sort(expected.begin(), expected.end());
            EXPECT_EQ(resumed, expected) << sql << ", cut " << cut;
        }
    }
}

TEST_F(HashJoinOperatorTest, WatermarkIsTheMinimumOfBothInputs) {
    add_numbers("a", 10);
    add_numbers("b", 10);
    testing::RowCollector sink;
    ExecContext context;
    auto planned = plan("SELECT a.id, b.id FROM a JOIN b ON a.id = b.id", sink, context);
    ASSERT_TRUE(planned.ok()) << planned.error().to_string();
    BatchSink& build = *planned.value()->inputs()[0].entry;
    BatchSink& probe = *planned.value()->inputs()[1].entry;
    ASSERT_TRUE(build.on_control(ControlSignal::watermark(10)).ok());
    EXPECT_TRUE(sink.signals.empty());  // the probe input has not said anything yet
    ASSERT_TRUE(probe.on_control(ControlSignal::watermark(5)).ok());
    ASSERT_TRUE(probe.on_control(ControlSignal::watermark(20)).ok());
    ASSERT_TRUE(build.on_control(ControlSignal::watermark(30)).ok());
    EXPECT_THAT(sink.signals, ElementsAre(ControlSignal::watermark(5), ControlSignal::watermark(10),
                                          ControlSignal::watermark(20)));
}

TEST_F(HashJoinOperatorTest, BarrierIsAlignedAndItsStateHoldsOnlyTheRowsBeforeIt) {
    add_numbers("a", 6);
    add_numbers("b", 6);
    const std::string sql = "SELECT a.id, b.id FROM a JOIN b ON a.id = b.id";
    testing::RowCollector sink;
    ExecContext context;
    auto planned = plan(sql, sink, context);
    ASSERT_TRUE(planned.ok()) << planned.error().to_string();
    ExecutablePlan& p = *planned.value();
    const ScanInput& build = p.inputs()[0];
    const ScanInput& probe = p.inputs()[1];
    auto rows = [](const Batch& all, std::vector<uint32_t> r) { return all.take(r); };
    const Batch b = table("b").project(build.columns);
    const Batch a = table("a").project(probe.columns);

    ASSERT_TRUE(build.entry->push(rows(b, {0, 1, 2})).ok());
    ASSERT_TRUE(build.entry->on_control(ControlSignal::barrier(7)).ok());
    // Behind the barrier: waits until the probe input's barrier arrives.
    ASSERT_TRUE(build.entry->push(rows(b, {3, 4, 5})).ok());
    ASSERT_TRUE(build.entry->finish().ok());
    EXPECT_TRUE(sink.signals.empty());

    // The state at this point is the checkpoint's: the three rows before the barrier.
    auto saved = p.serialize_state();
    ASSERT_TRUE(saved.ok());
    {
        testing::RowCollector restored_sink;
        ExecContext restored_context;
        auto restored = plan(sql, restored_sink, restored_context);
        ASSERT_TRUE(restored.ok());
        ASSERT_TRUE(restored.value()->restore_state(saved.value()).ok());
        ASSERT_TRUE(restored.value()->inputs()[0].entry->finish().ok());
        ASSERT_TRUE(restored.value()->inputs()[1].entry->push(a).ok());
        ASSERT_TRUE(restored.value()->inputs()[1].entry->finish().ok());
        EXPECT_THAT(restored_sink.rows, UnorderedElementsAre("0|0", "1|1", "2|2"));
    }

    ASSERT_TRUE(probe.entry->on_control(ControlSignal::barrier(7)).ok());
    EXPECT_THAT(sink.signals, ElementsAre(ControlSignal::barrier(7)));
    ASSERT_TRUE(probe.entry->push(a).ok());
    ASSERT_TRUE(probe.entry->finish().ok());
    EXPECT_THAT(sink.rows, UnorderedElementsAre("0|0", "1|1", "2|2", "3|3", "4|4", "5|5"));
    EXPECT_EQ(sink.finished, 1);
}

TEST_F(HashJoinOperatorTest, BarriersOfDifferentCheckpointsOnTheTwoInputsAreAnError) {
    add_numbers("a", 3);
    add_numbers("b", 3);
    testing::RowCollector sink;
    ExecContext context;
    auto planned = plan("SELECT a.id, b.id FROM a JOIN b ON a.id = b.id", sink, context);
    ASSERT_TRUE(planned.ok());
    ASSERT_TRUE(planned.value()->inputs()[0].entry->on_control(ControlSignal::barrier(1)).ok());
    Status status = planned.value()->inputs()[1].entry->on_control(ControlSignal::barrier(2));
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().code(), ErrorCode::kInvalidArgument);
}

TEST_F(HashJoinOperatorTest, ARestoredJoinWhoseBuildSideEndedWaitsOnlyForTheProbeSide) {
    add_numbers("a", 4);
    add_numbers("b", 4);
    const std::string sql = "SELECT a.id, b.id FROM a JOIN b ON a.id = b.id";
    std::vector<std::string> saved;
    {
        testing::RowCollector sink;
        ExecContext context;
        auto planned = plan(sql, sink, context);
        ASSERT_TRUE(planned.ok());
        const ScanInput& build = planned.value()->inputs()[0];
        ASSERT_TRUE(build.entry->push(table("b").project(build.columns)).ok());
        ASSERT_TRUE(build.entry->finish().ok());
        saved = planned.value()->serialize_state().value();
    }
    testing::RowCollector sink;
    ExecContext context;
    auto planned = plan(sql, sink, context);
    ASSERT_TRUE(planned.ok());
    ASSERT_TRUE(planned.value()->restore_state(saved).ok());
    const ScanInput& probe = planned.value()->inputs()[1];
    ASSERT_TRUE(probe.entry->on_control(ControlSignal::watermark(8)).ok());
    ASSERT_TRUE(probe.entry->on_control(ControlSignal::barrier(3)).ok());
    ASSERT_TRUE(probe.entry->push(table("a").project(probe.columns)).ok());
    ASSERT_TRUE(probe.entry->finish().ok());
    EXPECT_THAT(sink.signals, ElementsAre(ControlSignal::watermark(8), ControlSignal::barrier(3)));
    EXPECT_THAT(sink.rows, UnorderedElementsAre("0|0", "1|1", "2|2", "3|3"));
    EXPECT_EQ(sink.finished, 1);
}

TEST_F(HashJoinOperatorTest, AReloadedBuildSideReplacesTheOldOneWhenItEnds) {
    add_numbers("a", 6);
    add_numbers("b", 6);
    // A filter and a projection between the scan and the build port: a lookup join's build
    // side that may be read again.
    const std::string sql =
        "SELECT a.id, c.w FROM a JOIN (SELECT id, v + 1 AS w FROM b WHERE id < 4) c ON a.id = c.id";
    testing::RowCollector sink;
    ExecContext context;
    auto planned = plan(sql, sink, context);
    ASSERT_TRUE(planned.ok()) << planned.error().to_string();
    ExecutablePlan& p = *planned.value();
    const ScanInput& build = p.inputs()[0];
    const ScanInput& probe = p.inputs()[1];
    EXPECT_TRUE(build.reloadable_build);
    EXPECT_FALSE(probe.reloadable_build);
    auto take = [](const Batch& all, std::vector<uint32_t> r) { return all.take(r); };
    const Batch b = table("b").project(build.columns);
    const Batch a = table("a").project(probe.columns);
    ASSERT_TRUE(build.entry->push(take(b, {0, 1})).ok());
    ASSERT_TRUE(build.entry->finish().ok());
    ASSERT_TRUE(probe.entry->push(take(a, {0, 1, 2})).ok());
    EXPECT_THAT(sink.rows, UnorderedElementsAre("0|1", "1|920"));
    sink.rows.clear();
    // A new version: ids 1 and 2, with other values. While it is read, the old one answers.
    const Batch changed = [&] {
        BatchBuilder builder(build.schema);
        for (int64_t id : {1, 2}) {
            builder.column(0).append_value(Value::int64(id));
            builder.column(1).append_value(Value::int64(100 * id));
            builder.commit_row();
        }
        return builder.finish();
    }();
    ASSERT_TRUE(build.entry->push(changed).ok());
    ASSERT_TRUE(probe.entry->push(take(a, {1, 2})).ok());
    EXPECT_THAT(sink.rows, UnorderedElementsAre("1|920"));
    sink.rows.clear();
    ASSERT_TRUE(build.entry->finish().ok());
    // Swapped: later probe rows see the new values, and what was joined is not emitted again.
    ASSERT_TRUE(probe.entry->push(take(a, {0, 1, 2})).ok());
    EXPECT_THAT(sink.rows, UnorderedElementsAre("1|101", "2|201"));
    // The checkpointed build side is the new one.
    auto saved = p.serialize_state();
    ASSERT_TRUE(saved.ok());
    testing::RowCollector restored_sink;
    ExecContext restored_context;
    auto restored = plan(sql, restored_sink, restored_context);
    ASSERT_TRUE(restored.ok());
    ASSERT_TRUE(restored.value()->restore_state(saved.value()).ok());
    ASSERT_TRUE(restored.value()->inputs()[1].entry->push(take(a, {1, 2, 3})).ok());
    EXPECT_THAT(restored_sink.rows, UnorderedElementsAre("1|101", "2|201"));
    // An empty reload (the file emptied) leaves a build side that matches nothing.
    sink.rows.clear();
    ASSERT_TRUE(build.entry->finish().ok());
    ASSERT_TRUE(probe.entry->push(take(a, {0, 1, 2})).ok());
    EXPECT_TRUE(sink.rows.empty());
}

TEST_F(HashJoinOperatorTest, OnlyABuildSideOfFiltersAndProjectionsIsReloadable) {
    add_numbers("a", 6);
    add_numbers("b", 6);
    testing::RowCollector sink;
    ExecContext context;
    auto planned = plan(
        "SELECT a.id, c.n FROM a JOIN (SELECT id, count(*) AS n FROM b GROUP BY id) c ON a.id = "
        "c.id",
        sink, context);
    ASSERT_TRUE(planned.ok()) << planned.error().to_string();
    for (const ScanInput& input : planned.value()->inputs()) EXPECT_FALSE(input.reloadable_build);
}

}  // namespace
}  // namespace millrace
