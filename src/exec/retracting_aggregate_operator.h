#pragma once

#include <memory>
#include <string>
#include <vector>

#include "exec/expression_evaluator.h"
#include "exec/operator.h"
#include "sql/logical_plan.h"

namespace millrace {

/// A GROUP BY over the output of an upserting aggregate (docs/streaming.md, "Aggregates over
/// upserting aggregates"): its input is a stream of upserts, each row the current values of
/// one inner group, so a row replaces what the same inner group contributed before. The
/// operator keeps each inner group's contribution (its outer group key and the aggregates'
/// arguments); a row takes the old contribution back out of its outer group (a retraction)
/// and adds the new one. The result is itself a continuously updated table: the outer groups a
/// barrier, publish or finish finds changed are emitted as upserts, as the upserting
/// HashAggregateOperator does.
///
/// Input: the outer aggregate's input columns followed by `carried_keys` columns, the inner
/// group's key (the plan builder carries them through the projections between the two
/// aggregates). Aggregates it can take back: count(*), count(x), sum, avg, min, max (min and
/// max keep a count per value); supports() refuses the others. An outer group left with no
/// contribution is emitted with count 0 and null aggregates.
///
/// Its state is the contributions; restore_state() rebuilds the outer groups from them.
class RetractingAggregateOperator final : public Operator {
public:
    RetractingAggregateOperator(std::vector<sql::BoundExpr> keys,
                                std::vector<sql::AggregateCall> aggregates,
                                std::shared_ptr<const Schema> schema, std::size_t carried_keys,
                                ExecContext& context, std::string origin);
    ~RetractingAggregateOperator() override;

    /// kUnsupported, naming the aggregate, unless every one of `aggregates` can be taken back.
    static Status supports(const std::vector<sql::AggregateCall>& aggregates,
                           const std::string& origin);

    Status push(Batch batch) override;
    Status finish() override;
    Status on_control(const ControlSignal& signal) override;
    Result<std::string> serialize_state() const override;
    Status restore_state(std::string_view bytes) override;
    std::size_t state_keys() const override;

private:
    Status emit_changed();

    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace millrace
