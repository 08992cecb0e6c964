#include "pipeline/lake_delete.h"

#include <fmt/format.h>

#include <chrono>

#include "exec/expression_evaluator.h"
#include "sql/binder.h"
#include "sql/parser.h"

namespace millrace {

Result<LakeTable::DeleteResult> delete_lake_rows(const LakeTable& table, const std::string& where) {
    auto name_errors = [](Error error) {
        SourceLocation location = error.location();
        location.file = "<where>";
        return Error(error.code(), error.message(), location);
    };
    auto parsed = sql::parse_expression(where);
    if (!parsed.ok()) return name_errors(std::move(parsed).error());
    auto bound = sql::bind_predicate(*parsed.value(), where, *table.schema());
    if (!bound.ok()) return name_errors(std::move(bound).error());
    sql::BoundExpr predicate = std::move(bound).value();
    // now() and current_date are read once, so every row is judged at the same instant.
    fold_constants(predicate, std::chrono::duration_cast<std::chrono::microseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count());
    ExpressionEvaluator evaluator;
    return table.delete_rows([&](const Batch& batch) -> Result<std::vector<uint32_t>> {
        RowErrors errors;
        ColumnPtr result = evaluator.evaluate(predicate, batch, errors);
        if (!errors.empty()) {
            return Error(ErrorCode::kInvalidArgument,
                         fmt::format("--where fails on a row of `{}`: {}; nothing was deleted",
                                     table.name(), errors.entries().front().message));
        }
        std::vector<uint32_t> rows;
        if (result->type() != DataType::kBool) {
            return Error(ErrorCode::kTypeMismatch, "--where must be a boolean expression");
        }
        for (std::size_t r = 0; r < batch.num_rows(); ++r) {
            if (!result->is_null(r) && result->value<uint8_t>(r) != 0) {
                rows.push_back(static_cast<uint32_t>(r));
            }
        }
        return rows;
    });
}

}  // namespace millrace
