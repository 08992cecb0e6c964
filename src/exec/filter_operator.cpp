#include "exec/filter_operator.h"

namespace millrace {

FilterOperator::FilterOperator(sql::BoundExpr predicate, ExecContext& context, std::string origin)
    : predicate_(std::move(predicate)), context_(context), origin_(std::move(origin)) {}

Status FilterOperator::push(Batch batch) {
    const std::size_t n = batch.num_rows();
    errors_.clear();
    ColumnPtr result = evaluator_.evaluate(predicate_, batch, errors_);
    selection_.clear();
    const uint8_t* values = result->values<uint8_t>().data();
    if (!result->has_nulls()) {
        for (std::size_t i = 0; i < n; ++i) {
            if (values[i]) selection_.push_back(static_cast<uint32_t>(i));
        }
    } else {
        for (std::size_t i = 0; i < n; ++i) {
            if (values[i] && !result->is_null(i)) selection_.push_back(static_cast<uint32_t>(i));
        }
    }
    for (const auto& entry : errors_.entries()) {
        MILLRACE_TRY(context_.row_error(
            DeadLetterRow{origin_, entry.message, row_to_json(batch, entry.row)}));
    }
    if (selection_.size() == n) return emit(std::move(batch));
    if (selection_.empty()) return {};
    return emit(batch.take(selection_));
}

}  // namespace millrace
