#pragma once

#include <array>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "sql/ast.h"
#include "sql/bound_expr.h"

namespace millrace::sql {

class ExpressionBinder;

/// One call being bound: its arguments (already bound), for a type rule to check, cast and turn
/// into a BoundExpr. The helpers apply PostgreSQL's implicit casts and word their errors the
/// same way for every function.
struct CallBinding {
    const ExpressionBinder& binder;
    const AstExpr& expr;    // the call as written (DISTINCT, `*`, the arguments' text)
    std::string_view name;  // as written: an alias stays itself in messages
    std::vector<BoundExpr> args;
    int location = -1;

    /// Casts argument `i` to `type` when an implicit cast exists (untyped literal, null,
    /// number → number, date → timestamp); otherwise a type error naming the argument.
    Status need(std::size_t i, DataType type);
    /// Argument `i` must be a number (an untyped literal or null becomes double).
    Status numeric(std::size_t i);
    /// Casts every argument to their common type (`what` names the call in the error).
    Status unify(std::string_view what);
    /// A kCall of `function` over the (moved) arguments.
    BoundExpr call(Function function, DataType type);
    Error error(ErrorCode code, int at, std::string message) const;
};

/// Checks and casts a call's arguments and returns the bound expression (usually a kCall or
/// kAggregate; a rule may also rewrite, e.g. `date(d)` of a date is `d` itself).
using TypeRule = Result<BoundExpr> (*)(CallBinding& call);

/// The SQL names a function is called by (the first is the main one; unused slots are empty).
using FunctionNames = std::array<std::string_view, 3>;

/// The binding side of one scalar function or operator. Operators (`+`, `=`, LIKE, ...) and
/// functions only reached through other syntax (time_bucket via tumble()) have no names and no
/// rule: ExpressionBinder binds them from their syntax. The evaluator's kernel of the same id
/// lives in exec/ (scalar_kernels.h); a unit test checks that every entry has one.
struct ScalarFunctionInfo {
    Function id;
    std::string_view display;  // function_name(id): EXPLAIN and messages
    FunctionNames names{};
    int min_args = 0;
    int max_args = 0;
    TypeRule bind = nullptr;
};

/// The binding side of one aggregate. Its execution (init, update, merge, finalize, serialize,
/// restore of the per-group state) is the exec/ object of the same id (aggregate_function.h).
struct AggregateFunctionInfo {
    Aggregate id;
    std::string_view display;  // aggregate_name(id)
    /// Names that call it; empty for an aggregate another's rule chooses (count(*),
    /// count(DISTINCT x) are chosen by count's rule).
    FunctionNames names{};
    int min_args = 1;
    int max_args = 1;
    TypeRule bind = nullptr;
    bool allows_star = false;      // count(*)
    bool allows_distinct = false;  // agg(DISTINCT x) means the same as agg(x), or is its own id
    bool nullable = true;          // no input rows (or only nulls) give null
};

/// Every scalar function and operator, one entry per Function value.
std::span<const ScalarFunctionInfo> scalar_functions();
/// Every aggregate, one entry per Aggregate value.
std::span<const AggregateFunctionInfo> aggregate_functions();

const ScalarFunctionInfo& scalar_function(Function id);
const AggregateFunctionInfo& aggregate_function(Aggregate id);
/// The function called `name` (lower case), or null.
const ScalarFunctionInfo* find_scalar_function(std::string_view name);
const AggregateFunctionInfo* find_aggregate_function(std::string_view name);
inline bool is_aggregate_function_name(std::string_view name) {
    return find_aggregate_function(name) != nullptr;
}
/// Every name a call may use (scalar, then aggregate), for "did you mean" hints.
const std::vector<std::string>& callable_function_names();

}  // namespace millrace::sql
