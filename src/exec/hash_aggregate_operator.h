#pragma once

#include <memory>
#include <string>
#include <vector>

#include "exec/expression_evaluator.h"
#include "exec/operator.h"
#include "sql/logical_plan.h"

namespace millrace {

/// GROUP BY: groups rows by the encoded values of the key expressions in an open-addressing
/// hash table and updates one accumulator array per aggregate, column at a time. Emits on
/// finish(): the keys, then the aggregates, per group in first-seen order; with no keys,
/// exactly one row even for no input (count = 0, sum = null), as SQL requires. Its state (the
/// groups' keys and accumulators, sketches included) serializes mid-input: a restored operator
/// given the rest of the input finishes with the result of an uninterrupted run.
class HashAggregateOperator final : public Operator {
public:
    HashAggregateOperator(std::vector<sql::BoundExpr> keys,
                          std::vector<sql::AggregateCall> aggregates,
                          std::shared_ptr<const Schema> schema, ExecContext& context,
                          std::string origin);
    ~HashAggregateOperator() override;
    Status push(Batch batch) override;
    Status finish() override;
    std::size_t groups() const;
    /// The groups and their accumulators (format in the .cpp). Valid until finish().
    Result<std::string> serialize_state() const override;
    Status restore_state(std::string_view bytes) override;
    /// Folds a state that serialize_state() of an operator of the same plan wrote into this
    /// one, group by group (AggregateState::merge): partial aggregation of parallel subtasks
    /// and windows. Valid until finish().
    Status merge_state(std::string_view bytes) override;

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace millrace
