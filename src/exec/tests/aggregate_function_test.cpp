#include "exec/aggregate_function.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "exec/operand.h"
#include "sql/function_registry.h"
#include "types/column_builder.h"

namespace millrace {
namespace {

using sql::Aggregate;

constexpr std::size_t kRows = 2000;
constexpr std::size_t kGroups = 5;

/// A column of `type` with kRows values (some null), deterministic.
std::shared_ptr<const Column> input_column(DataType type) {
    ColumnBuilder b(type, kRows);
    for (std::size_t i = 0; i < kRows; ++i) {
        if (i % 11 == 0) {
            b.append_null();
            continue;
        }
        const auto x = static_cast<int64_t>((i * 7919) % 1000) - 300;
        switch (type) {
            case DataType::kBool:
                b.append_bool(i % 5 != 0);
                break;
            case DataType::kInt32:
                b.append_int32(static_cast<int32_t>(x));
                break;
            case DataType::kDate:
                b.append_date(static_cast<int32_t>(20000 + x));
                break;
            case DataType::kInt64:
                b.append_int64(x);
                break;
            case DataType::kTimestamp:
                b.append_timestamp(x * 1000000);
                break;
            case DataType::kFloat64:
                b.append_double(static_cast<double>(i % 97) * 1.25);
                break;
            default:
                b.append_string("s" + std::to_string((i * 31) % 401));
                break;
        }
    }
    return std::make_shared<const Column>(b.finish());
}

struct Case {
    Aggregate id;
    DataType input;  // ignored for count(*)
    DataType output;
};

/// Every aggregate over the input types it takes; the test below checks that every registered
/// aggregate has at least one case, so a new aggregate cannot ship untested.
const Case kCases[] = {
    {Aggregate::kCountStar, DataType::kInt64, DataType::kInt64},
    {Aggregate::kCount, DataType::kString, DataType::kInt64},
    {Aggregate::kCountDistinct, DataType::kString, DataType::kInt64},
    {Aggregate::kCountDistinct, DataType::kInt64, DataType::kInt64},
    {Aggregate::kSum, DataType::kInt64, DataType::kInt64},
    {Aggregate::kSum, DataType::kInt32, DataType::kInt64},
    {Aggregate::kSum, DataType::kFloat64, DataType::kFloat64},
    {Aggregate::kAvg, DataType::kInt64, DataType::kFloat64},
    {Aggregate::kAvg, DataType::kFloat64, DataType::kFloat64},
    {Aggregate::kMin, DataType::kString, DataType::kString},
    {Aggregate::kMin, DataType::kDate, DataType::kDate},
    {Aggregate::kMax, DataType::kFloat64, DataType::kFloat64},
    {Aggregate::kMax, DataType::kTimestamp, DataType::kTimestamp},
    {Aggregate::kMax, DataType::kInt32, DataType::kInt32},
    {Aggregate::kBoolAnd, DataType::kBool, DataType::kBool},
    {Aggregate::kBoolOr, DataType::kBool, DataType::kBool},
    {Aggregate::kApproxCountDistinct, DataType::kString, DataType::kInt64},
    {Aggregate::kApproxCountDistinct, DataType::kFloat64, DataType::kInt64},
    {Aggregate::kApproxPercentile, DataType::kFloat64, DataType::kFloat64},
    {Aggregate::kApproxPercentile, DataType::kInt64, DataType::kFloat64},
};

sql::AggregateCall call_of(const Case& c) {
    sql::AggregateCall call;
    call.function = c.id;
    call.type = c.output;
    if (c.id != Aggregate::kCountStar)
        call.args.push_back(sql::BoundExpr::column_ref(0, c.input, "x"));
    if (c.id == Aggregate::kApproxPercentile) {
        call.args.push_back(sql::BoundExpr::constant_of(Value::float64(0.9), DataType::kFloat64));
    }
    return call;
}

std::string describe(const Case& c) {
    return fmt::format("{}({})", sql::aggregate_name(c.id), type_name(c.input));
}

/// The group of row i, and the group ids of rows [begin, end).
std::vector<uint32_t> group_ids(std::size_t begin, std::size_t end) {
    std::vector<uint32_t> out;
    for (std::size_t i = begin; i < end; ++i)
        out.push_back(static_cast<uint32_t>((i * 3) % kGroups));
    return out;
}

/// Folds rows [begin, end) of `column` into `state`.
void update(AggregateState& state, const Column& column, std::size_t begin, std::size_t end) {
    const std::vector<uint32_t> ids = group_ids(begin, end);
    ColumnBuilder b(column.type(), end - begin);
    for (std::size_t i = begin; i < end; ++i) b.append_from(column, i);
    const Column part = b.finish();
    const bool count_star = state.function() == Aggregate::kCountStar;
    ASSERT_TRUE(state.update(count_star ? nullptr : &part, ids.data(), ids.size()).ok());
}

/// Every group's result, as text.
std::vector<std::string> results(const AggregateState& state, DataType type) {
    ColumnBuilder b(type, kGroups);
    for (uint32_t g = 0; g < kGroups; ++g) state.finalize(g, b);
    auto column = std::make_shared<const Column>(b.finish());
    std::vector<std::string> out;
    for (std::size_t g = 0; g < kGroups; ++g) {
        out.push_back(Operand{column, false}.value(g).to_string());
    }
    return out;
}

std::vector<std::string> uninterrupted(const Case& c, const Column& column) {
    auto state = make_aggregate_state(call_of(c), "t");
    state->resize(kGroups);
    update(*state, column, 0, kRows);
    return results(*state, c.output);
}

TEST(AggregateFunction, EveryRegisteredAggregateHasAnExecFunctionAndATestCase) {
    for (const sql::AggregateFunctionInfo& info : sql::aggregate_functions()) {
        const AggregateFunction* f = find_aggregate_function_kernel(info.id);
        ASSERT_NE(f, nullptr) << info.display << " has no exec entry";
        ASSERT_NE(f->create, nullptr) << info.display;
        bool tested = false;
        for (const Case& c : kCases) tested = tested || c.id == info.id;
        EXPECT_TRUE(tested) << info.display << " has no case in this test";
    }
    for (const Case& c : kCases) {
        EXPECT_EQ(make_aggregate_state(call_of(c), "t")->function(), c.id) << describe(c);
    }
}

TEST(AggregateFunction, UpdateOverASplitInputThenMergeEqualsTheWholeInput) {
    for (const Case& c : kCases) {
        const auto column = input_column(c.input);
        const std::vector<std::string> whole = uninterrupted(c, *column);
        for (std::size_t cut : {std::size_t{0}, std::size_t{1}, kRows / 3, kRows - 1, kRows}) {
            auto left = make_aggregate_state(call_of(c), "t");
            auto right = make_aggregate_state(call_of(c), "t");
            left->resize(kGroups);
            right->resize(kGroups);
            update(*left, *column, 0, cut);
            update(*right, *column, cut, kRows);
            // Merged into a state whose group numbers differ from the partial's.
            auto merged = make_aggregate_state(call_of(c), "t");
            merged->resize(kGroups);
            for (uint32_t g = 0; g < kGroups; ++g) {
                ASSERT_TRUE(merged->merge(g, *left, g).ok()) << describe(c);
                ASSERT_TRUE(merged->merge(g, *right, g).ok()) << describe(c);
            }
            EXPECT_EQ(results(*merged, c.output), whole) << describe(c) << " cut " << cut;
        }
    }
}

TEST(AggregateFunction, SerializeRestoreMidInputEqualsAnUninterruptedRun) {
    for (const Case& c : kCases) {
        const auto column = input_column(c.input);
        const std::vector<std::string> whole = uninterrupted(c, *column);
        for (std::size_t cut : {std::size_t{0}, kRows / 2, kRows}) {
            auto first = make_aggregate_state(call_of(c), "t");
            first->resize(kGroups);
            update(*first, *column, 0, cut);
            StateWriter out(OperatorStateKind::kHashAggregate);
            for (uint32_t g = 0; g < kGroups; ++g) first->serialize(g, out);
            const std::string bytes = std::move(out).finish();

            auto restored = make_aggregate_state(call_of(c), "t");
            restored->resize(kGroups);
            auto in = StateReader::open(bytes, OperatorStateKind::kHashAggregate);
            ASSERT_TRUE(in.ok());
            for (uint32_t g = 0; g < kGroups; ++g)
                ASSERT_TRUE(restored->restore(g, in.value()).ok()) << describe(c);
            ASSERT_TRUE(in.value().expect_end().ok()) << describe(c);
            update(*restored, *column, cut, kRows);
            EXPECT_EQ(results(*restored, c.output), whole) << describe(c) << " cut " << cut;
        }
    }
}

TEST(AggregateFunction, BigintOverflowInMergeIsAnError) {
    const Case c{Aggregate::kSum, DataType::kInt64, DataType::kInt64};
    ColumnBuilder b(DataType::kInt64, 1);
    b.append_int64(INT64_MAX);
    const Column column = b.finish();
    const uint32_t group = 0;
    auto left = make_aggregate_state(call_of(c), "t");
    auto right = make_aggregate_state(call_of(c), "t");
    left->resize(1);
    right->resize(1);
    ASSERT_TRUE(left->update(&column, &group, 1).ok());
    ASSERT_TRUE(right->update(&column, &group, 1).ok());
    Status merged = left->merge(0, *right, 0);
    ASSERT_FALSE(merged.ok());
    EXPECT_EQ(merged.error().code(), ErrorCode::kOutOfRange);
}

}  // namespace
}  // namespace millrace
