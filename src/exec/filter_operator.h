#pragma once

#include "exec/expression_evaluator.h"
#include "exec/operator.h"

namespace millrace {

/// Keeps the rows where `predicate` is true (null and false drop the row). A batch where every
/// row passes is forwarded untouched; rows whose predicate failed to evaluate go to the
/// dead-letter route with the reason.
class FilterOperator final : public Operator {
public:
    FilterOperator(sql::BoundExpr predicate, ExecContext& context, std::string origin);
    Status push(Batch batch) override;
    Status finish() override { return output_->finish(); }

private:
    sql::BoundExpr predicate_;
    ExecContext& context_;
    std::string origin_;
    ExpressionEvaluator evaluator_;
    RowErrors errors_;
    std::vector<uint32_t> selection_;
};

}  // namespace millrace
