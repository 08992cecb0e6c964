#pragma once

#include <cstdint>
#include <memory>
#include <optional>

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
/// now() and current_date (Function::kNow, kCurrentDate) are the statement time given to
/// set_statement_time(); plans never reach here with them, because build_plan folds them into
/// constants with ExecContext's clock. An evaluator without a statement time (one that
/// evaluates expressions outside a plan) reads the system clock once, at first use.
///
/// Stateless apart from scratch buffers: one evaluator per operator instance; not thread-safe.
class ExpressionEvaluator {
public:
    ColumnPtr evaluate(const sql::BoundExpr& expr, const Batch& batch, RowErrors& errors);
    void set_statement_time(int64_t micros) { statement_time_ = micros; }

    /// A column of `rows` copies of a constant.
    static ColumnPtr constant_column(const Value& value, DataType type, std::size_t rows);

    /// Evaluates an expression without column references once (constant folding); the error of
    /// a failing constant (e.g. 1/0) comes back as an Error.
    static Result<Value> evaluate_constant(const sql::BoundExpr& expr);

private:
    ColumnPtr and_or(const sql::BoundExpr& expr, const Batch& batch, RowErrors& errors);
    int64_t statement_time();

    std::optional<int64_t> statement_time_;
};

/// Replaces every column-free subexpression by its value (constant folding), now() and
/// current_date by the statement time `statement_time_micros` (microseconds since the epoch);
/// expressions whose evaluation fails are left as they are so the failure surfaces per row at
/// run time.
void fold_constants(sql::BoundExpr& expr, int64_t statement_time_micros);

}  // namespace millrace
