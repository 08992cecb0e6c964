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

}  // namespace
}  // namespace millrace
