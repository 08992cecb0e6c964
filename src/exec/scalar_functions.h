#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "exec/operand.h"
#include "exec/row_errors.h"
#include "sql/bound_expr.h"

namespace millrace {

/// What a scalar kernel may use beside its arguments.
struct KernelContext {
    RowErrors& errors;  // per-row failures: the row's result is null and the row is recorded
    int64_t statement_time_micros = 0;  // now() / current_date (set for those kernels)
};

/// The kernel of one sql::Function: evaluates `expr` (a kCall of it) over `rows` rows of its
/// evaluated arguments (constants one row wide) into a column of `rows` values of expr.type.
/// Kernels loop over typed column accessors; nulls in give null out unless the function says
/// otherwise (concat() skips nulls, greatest()/least() ignore them, nullif looks at them).
using ScalarKernel = std::shared_ptr<const Column> (*)(const sql::BoundExpr& expr,
                                                       const std::vector<Operand>& args,
                                                       std::size_t rows, KernelContext& context);

/// The kernel registered for `id` in scalar_functions.cpp (one entry per sql::Function, next to
/// the binding side's entry in sql/function_registry.cpp), or null when none is: a unit test
/// checks that every registered function has one.
ScalarKernel find_scalar_kernel(sql::Function id);

/// Arithmetic (+ - * / % on one numeric type) and comparison kernels (expression_evaluator.cpp).
std::shared_ptr<const Column> arithmetic_kernel(const sql::BoundExpr& expr,
                                                const std::vector<Operand>& args, std::size_t rows,
                                                KernelContext& context);
std::shared_ptr<const Column> comparison_kernel(const sql::BoundExpr& expr,
                                                const std::vector<Operand>& args, std::size_t rows,
                                                KernelContext& context);

/// now() (a timestamp) or current_date (its UTC date) at the statement time `micros`.
Value statement_time_value(sql::Function function, int64_t micros);

}  // namespace millrace
