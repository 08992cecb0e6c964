#include "sql/function_registry.h"

#include <gtest/gtest.h>

#include <set>

namespace millrace::sql {
namespace {

TEST(FunctionRegistry, EveryFunctionHasOneEntry) {
    std::set<int> ids;
    for (const ScalarFunctionInfo& info : scalar_functions()) {
        EXPECT_TRUE(ids.insert(static_cast<int>(info.id)).second) << info.display;
        EXPECT_EQ(&scalar_function(info.id), &info);
        EXPECT_EQ(function_name(info.id), info.display);
        // A callable function has a type rule and a sane arity; an operator has neither.
        EXPECT_EQ(info.bind != nullptr, !info.names[0].empty()) << info.display;
        EXPECT_LE(info.min_args, info.max_args) << info.display;
    }
    // The enum's values are 0..N-1, so N distinct entries cover it.
    EXPECT_EQ(ids.size(), static_cast<std::size_t>(Function::kParseUrl) + 1);
}

TEST(FunctionRegistry, EveryAggregateHasOneEntry) {
    std::set<int> ids;
    for (const AggregateFunctionInfo& info : aggregate_functions()) {
        EXPECT_TRUE(ids.insert(static_cast<int>(info.id)).second) << info.display;
        EXPECT_EQ(&aggregate_function(info.id), &info);
        EXPECT_EQ(aggregate_name(info.id), info.display);
        EXPECT_EQ(info.bind != nullptr, !info.names[0].empty()) << info.display;
    }
    EXPECT_EQ(ids.size(), static_cast<std::size_t>(Aggregate::kBoolOr) + 1);
}

TEST(FunctionRegistry, NamesAndAliasesAreUniqueAndFound) {
    std::set<std::string> seen;
    for (const std::string& name : callable_function_names()) {
        EXPECT_TRUE(seen.insert(name).second) << name << " is registered twice";
    }
    EXPECT_EQ(find_scalar_function("char_length")->id, Function::kLength);
    EXPECT_EQ(find_scalar_function("ceiling")->id, Function::kCeil);
    EXPECT_EQ(find_scalar_function("mod")->id, Function::kModulo);
    EXPECT_EQ(find_aggregate_function("every")->id, Aggregate::kBoolAnd);
    EXPECT_EQ(find_aggregate_function("percentile_approx")->id, Aggregate::kApproxPercentile);
    EXPECT_TRUE(is_aggregate_function_name("count"));
    EXPECT_FALSE(is_aggregate_function_name("lower"));
    EXPECT_EQ(find_scalar_function("+"), nullptr);  // operators are not callable by name
    EXPECT_EQ(find_scalar_function(""), nullptr);
}

TEST(FunctionRegistry, CountNeverGivesNull) {
    EXPECT_FALSE(aggregate_function(Aggregate::kCount).nullable);
    EXPECT_FALSE(aggregate_function(Aggregate::kCountStar).nullable);
    EXPECT_TRUE(aggregate_function(Aggregate::kSum).nullable);
}

}  // namespace
}  // namespace millrace::sql
