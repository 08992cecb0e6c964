#pragma once

#include <vector>

#include "exec/operand.h"
#include "exec/row_errors.h"
#include "sql/bound_expr.h"

namespace millrace {

/// The kernels of the long tail of scalar functions (strings, math, time, LIKE, NULLIF,
/// windows): row loops over typed column accessors, nulls in → null out unless the function
/// says otherwise (concat() skips nulls).
std::shared_ptr<const Column> evaluate_scalar_function(const sql::BoundExpr& expr,
                                                       const std::vector<Operand>& args,
                                                       std::size_t rows, RowErrors& errors);

/// SQL LIKE: `%` any run, `_` one character (UTF-8 aware), backslash escapes.
bool like_match(std::string_view text, std::string_view pattern, bool case_insensitive);

}  // namespace millrace
