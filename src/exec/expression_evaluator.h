#pragma once

#include <memory>

#include "common/result.h"
#include "exec/row_errors.h"
#include "sql/bound_expr.h"
#include "types/batch.h"

namespace millrace {

using ColumnPtr = std::shared_ptr<const Column>;

/// Evaluates bound expressions over whole Batches, one kernel per function and physical type
/// (no per-row virtual call): the result is a Column of batch.num_rows() values. Column
/// references return the input's column without copying. SQL null semantics throughout
/// (three-valued AND/OR/NOT; comparisons with null are null). Per-row failures follow
/// PostgreSQL (division by zero, out of range, invalid input syntax): the row's result is null
/// and the row is recorded in `errors`.
///
/// Stateless apart from scratch buffers: one evaluator per operator instance; not thread-safe.
class ExpressionEvaluator {
public:
    ColumnPtr evaluate(const sql::BoundExpr& expr, const Batch& batch, RowErrors& errors);

    /// A column of `rows` copies of a constant.
    static ColumnPtr constant_column(const Value& value, DataType type, std::size_t rows);

    /// Evaluates an expression without column references once (constant folding); the error of
    /// a failing constant (e.g. 1/0) comes back as an Error.
    static Result<Value> evaluate_constant(const sql::BoundExpr& expr);

private:
    ColumnPtr and_or(const sql::BoundExpr& expr, const Batch& batch, RowErrors& errors);
};

/// Replaces every column-free subexpression by its value (constant folding); expressions whose
/// evaluation fails are left as they are so the failure surfaces per row at run time.
void fold_constants(sql::BoundExpr& expr);

}  // namespace millrace
