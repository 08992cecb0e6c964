#include "exec/scalar_functions.h"

#include <gtest/gtest.h>

#include "exec/aggregate_function.h"
#include "sql/function_registry.h"

namespace millrace {
namespace {

// A function added to the binding side (sql/function_registry.cpp) without its kernel here, or
// an aggregate without its AggregateState, fails these before any query can reach it.

TEST(ScalarFunctions, EveryRegisteredFunctionHasAKernel) {
    for (const sql::ScalarFunctionInfo& info : sql::scalar_functions()) {
        EXPECT_NE(find_scalar_kernel(info.id), nullptr) << info.display << " has no kernel";
    }
}

TEST(ScalarFunctions, EveryRegisteredAggregateHasAnAggregateState) {
    for (const sql::AggregateFunctionInfo& info : sql::aggregate_functions()) {
        const AggregateFunction* f = find_aggregate_function_kernel(info.id);
        ASSERT_NE(f, nullptr) << info.display << " has no exec entry";
        EXPECT_NE(f->create, nullptr) << info.display;
    }
}

TEST(ScalarFunctions, StatementTimeValueIsTheUtcDateForCurrentDate) {
    const int64_t micros = int64_t{1767225600} * 1000000 - 1;  // 2025-12-31T23:59:59.999999Z
    EXPECT_EQ(statement_time_value(sql::Function::kNow, micros), Value::timestamp(micros));
    EXPECT_EQ(statement_time_value(sql::Function::kCurrentDate, micros), Value::date(20453));
}

}  // namespace
}  // namespace millrace
