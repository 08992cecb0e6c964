#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "sql/ast.h"
#include "sql/bound_expr.h"
#include "sql/function_resources.h"

namespace millrace::sql {

struct AggregateFunctionInfo;

/// A string literal not yet given a type ('2026-01-01' takes the type of what it meets).
bool is_untyped_literal(const BoundExpr& e);
/// A NULL literal.
bool is_null_literal(const BoundExpr& e);

/// A column visible to expressions: `qualifier.name` (qualifier = table alias or name).
struct ScopeColumn {
    std::string qualifier;
    std::string name;
    DataType type = DataType::kInt64;
    bool hidden = false;  // not expanded by `*` and not found unqualified (USING's right column)
};

/// The columns an expression may name, in input order (column i of the scope = input column i).
struct Scope {
    std::vector<ScopeColumn> columns;
};

/// Binds expressions: name resolution, PostgreSQL's implicit casts, function signatures.
/// Aggregate calls become BoundExpr::Kind::kAggregate when allowed (the SELECT binder then
/// rewrites them into columns of the aggregate's output).
class ExpressionBinder {
public:
    explicit ExpressionBinder(std::string_view sql, const FunctionResources* resources = nullptr)
        : sql_(sql), resources_(resources) {}

    Result<BoundExpr> bind(const AstExpr& expr, const Scope& scope, bool allow_aggregates);
    /// Binds and requires a boolean (WHERE, HAVING, ON, CASE WHEN).
    Result<BoundExpr> bind_condition(const AstExpr& expr, const Scope& scope,
                                     std::string_view clause);

    /// `expr` as type `to`: no-op when equal, else a cast node (constants of untyped text are
    /// converted now, so a bad literal is a planning error at its location).
    Result<BoundExpr> cast(BoundExpr expr, DataType to, int location) const;
    /// The type two values combine to in arithmetic, comparisons, CASE, UNION; nullopt when none.
    static std::optional<DataType> common_type(const BoundExpr& a, const BoundExpr& b);

    Error error(ErrorCode code, int location, std::string message) const;
    std::string_view sql() const { return sql_; }
    /// The project's settings for functions that read outside data; null when there are none.
    const FunctionResources* resources() const { return resources_; }

    /// Binds an operator (`+`, `=`, `||`, ...) over bound arguments: one for a prefix operator.
    Result<BoundExpr> bind_operator(const AstExpr& expr, std::vector<BoundExpr> args) const;
    /// Casts every expression to their common type (CASE branches, COALESCE, IN lists,
    /// greatest()); `what` names the construct in the error.
    Status unify(std::vector<BoundExpr*> exprs, int location, std::string_view what) const;

private:
    Result<BoundExpr> bind_column(const AstExpr& expr, const Scope& scope) const;
    Result<BoundExpr> bind_literal(const AstExpr& expr) const;
    Result<BoundExpr> bind_comparison(Function function, BoundExpr left, BoundExpr right,
                                      int location) const;
    Result<BoundExpr> bind_function(const AstExpr& expr, const Scope& scope, bool allow_aggregates);
    Result<BoundExpr> bind_aggregate(const AstExpr& expr, const Scope& scope,
                                     const AggregateFunctionInfo& info);
    /// The registry's arity of a call, with the "f() takes N arguments" error.
    Status check_arity(const AstExpr& expr, int min_args, int max_args, std::size_t count) const;
    Result<std::vector<BoundExpr>> bind_args(const AstExpr& expr, const Scope& scope,
                                             bool allow_aggregates);

    std::string_view sql_;
    const FunctionResources* resources_ = nullptr;
    bool in_aggregate_ = false;
};

/// `x = c1 OR y = c2 OR x = c3 ...` with column-free c's: the equalities on one expression
/// become one `x IN (c1, c3, ...)` (same three-valued result), answered with one hash lookup per
/// row instead of one comparison per term. Other arguments keep their places.
BoundExpr or_of_equalities_as_in(BoundExpr disjunction);

/// PostgreSQL's default output name of a select-list expression: the column name, the function
/// name, the cast's operand name, "case", "coalesce", or "?column?".
std::string default_column_name(const AstExpr& expr);

}  // namespace millrace::sql
