#pragma once

#include <vector>

#include "exec/expression_evaluator.h"
#include "exec/operator.h"

namespace millrace {

/// Computes one output column per expression. Column references pass the input column through
/// without copying. Rows where any expression failed go to the dead-letter route and are left
/// out of the output.
class ProjectOperator final : public Operator {
public:
    ProjectOperator(std::vector<sql::BoundExpr> exprs, std::shared_ptr<const Schema> schema,
                    ExecContext& context, std::string origin);
    Status push(Batch batch) override;
    Status finish() override { return output_->finish(); }

private:
    std::vector<sql::BoundExpr> exprs_;
    std::shared_ptr<const Schema> schema_;
    ExecContext& context_;
    std::string origin_;
    ExpressionEvaluator evaluator_;
    RowErrors errors_;
};

}  // namespace millrace
