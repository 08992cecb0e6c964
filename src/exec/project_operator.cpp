#include "exec/project_operator.h"

namespace millrace {

ProjectOperator::ProjectOperator(std::vector<sql::BoundExpr> exprs,
                                 std::shared_ptr<const Schema> schema, ExecContext& context,
                                 std::string origin)
    : exprs_(std::move(exprs)),
      schema_(std::move(schema)),
      context_(context),
      origin_(std::move(origin)) {}

Status ProjectOperator::push(Batch batch) {
    const std::size_t n = batch.num_rows();
    errors_.clear();
    std::vector<std::shared_ptr<const Column>> columns;
    columns.reserve(exprs_.size());
    for (const auto& expr : exprs_) columns.push_back(evaluator_.evaluate(expr, batch, errors_));
    Batch out(schema_, std::move(columns), n);
    if (errors_.empty()) return emit(std::move(out));
    std::vector<uint32_t> keep;
    for (std::size_t i = 0; i < n; ++i) {
        if (!errors_.has(static_cast<uint32_t>(i))) keep.push_back(static_cast<uint32_t>(i));
    }
    for (const auto& entry : errors_.entries()) {
        MILLRACE_TRY(context_.row_error(
            DeadLetterRow{origin_, entry.message, row_to_json(batch, entry.row)}));
    }
    if (keep.empty()) return {};
    return emit(out.take(keep));
}

}  // namespace millrace
