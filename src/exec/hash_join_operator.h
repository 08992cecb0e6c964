#pragma once

#include <memory>
#include <vector>

#include "exec/operator.h"
#include "sql/logical_plan.h"

namespace millrace {

/// Hash join: the right input is the build side (materialized and hashed on its keys), the left
/// input probes it. Input arrives through two ports: build() receives the right side and must
/// finish before the probe side's rows are joined (probe batches that arrive earlier wait).
/// Null keys never match. LEFT/FULL emit unmatched probe rows with nulls; RIGHT/FULL emit
/// unmatched build rows at the end. The output streams: at most kOutputBatchRows rows per
/// batch, pushed downstream as the probe walks its matches, so a join whose product is much
/// larger than its inputs (a cross join) never holds that product. The build side, and probe
/// rows that arrive before it is complete, count against ExecContext's memory limit: beyond it
/// the join fails with kResourceExhausted naming itself and the limit (never an OOM kill).
///
/// Output columns: the left columns, then the right columns.
class HashJoinOperator final : public Operator {
public:
    HashJoinOperator(sql::JoinType type, std::vector<sql::BoundExpr> left_keys,
                     std::vector<sql::BoundExpr> right_keys, std::optional<sql::BoundExpr> residual,
                     std::shared_ptr<const Schema> left_schema,
                     std::shared_ptr<const Schema> right_schema,
                     std::shared_ptr<const Schema> schema, ExecContext& context,
                     std::string origin);
    ~HashJoinOperator() override;

    /// The probe (left) port.
    Status push(Batch batch) override;
    Status finish() override;
    /// The build (right) port.
    BatchSink& build_side();

private:
    struct State;
    class BuildPort;
    Status probe(const Batch& batch);
    /// Emits the pending (probe row, build row) pairs of `batch` that pass the residual.
    Status emit_pairs(const Batch& batch, std::vector<uint8_t>& left_matched);
    std::unique_ptr<State> state_;
};

}  // namespace millrace
