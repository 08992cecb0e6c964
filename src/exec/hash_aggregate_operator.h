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
    /// Tracks which groups rows reached since the last emit_changed() without the rest of
    /// upserting mode: finish() still emits every group. A window firing early
    /// (WindowAggregateOperator::set_emit_early) sets it on each window's aggregate. The list
    /// is part of the state, so a restored operator goes on emitting what the saved one had not
    /// emitted yet. Set before any input.
    void set_tracks_changes(bool tracks);
    /// Upserting mode only: a group that no row reached while the watermark moved more than
    /// `ttl_micros` past its last update (the first watermark after the rows that updated it)
    /// is dropped (its next row starts it afresh), so that a continuously updated table over an
    /// unbounded key space stays bounded (the pipeline's `state_ttl`). Groups are dropped when a
    /// watermark passes their expiry by up to an eighth of the TTL (one pass over the groups per
    /// such step, not per watermark); changed groups are emitted before any is dropped, so no
    /// update is lost. Each group's last update is part of the state. The end-of-time
    /// watermark (the end of input) drops nothing. Set before any input.
    void set_state_ttl(int64_t ttl_micros);
    /// Groups dropped by the state TTL so far (this operator's life, not saved).
    uint64_t expired_groups() const;
    /// Emits the current values of the groups updated since the last emit (in the order they
    /// were first updated since then), without clearing any state. Nothing when none changed.
    Status emit_changed();
    /// Emits the current value of every group without clearing any state (an open session
    /// firing early: its one group).
    Status emit_current();
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
    /// The groups updated since the last save (format in the .cpp): applying them drops the
    /// groups the state TTL dropped since, replaces the updated groups' state (and state TTL
    /// stamps) and adds the new ones. Nothing (the caller saves the whole state) while groups
    /// changed since the last emit wait to go out, which the whole state lists.
    void mark_state_saved() override;
    Result<std::optional<std::string>> serialize_state_changes() override;
    Status apply_state_changes(std::string_view bytes) override;
    /// Groups stamped or dropped by the state TTL since the last save.
    bool state_changed_since_save() const override;
    std::size_t state_keys() const override { return groups(); }

private:
    Status emit_groups(const std::vector<uint32_t>& groups);
    /// The state TTL's pass at watermark `watermark` (set_state_ttl).
    Status expire(int64_t watermark);

    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace millrace
