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

    /// Upserting mode (a streaming GROUP BY without window_end, a continuously updated table):
    /// the operator remembers which groups rows reached since its last emit, a barrier emits
    /// them (emit_changed()) before passing on, and finish() emits only them and keeps the
    /// state, which stays serializable. Set before any input.
    void set_upserting(bool upserting);
    /// Emits the current values of the groups updated since the last emit (in the order they
    /// were first updated since then), without clearing any state. Nothing when none changed.
    Status emit_changed();
    /// Groups updated since the last emit.
    std::size_t changed_groups() const;
    Status on_control(const ControlSignal& signal) override;
    /// The groups and their accumulators (format in the .cpp). Valid until finish() (after it
    /// too in upserting mode).
    Result<std::string> serialize_state() const override;
    Status restore_state(std::string_view bytes) override;
    /// Folds a state that serialize_state() of an operator of the same plan wrote into this
    /// one, group by group (AggregateState::merge): partial aggregation of parallel subtasks
    /// and windows. Valid until finish().
    Status merge_state(std::string_view bytes) override;
    /// The groups updated since the last save, in serialize_state()'s format (only those
    /// groups); applying them replaces those groups' state and adds the new ones.
    void mark_state_saved() override;
    Result<std::optional<std::string>> serialize_state_changes() override;
    Status apply_state_changes(std::string_view bytes) override;
    std::size_t state_keys() const override { return groups(); }

private:
    Status emit_groups(const std::vector<uint32_t>& groups);

    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace millrace
