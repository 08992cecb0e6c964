#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "exec/hash_aggregate_operator.h"
#include "exec/operator.h"
#include "sql/logical_plan.h"

namespace millrace {

/// GROUP BY window_start, window_end, ... over an unbounded input (the streaming runtime): one
/// HashAggregateOperator per window, keyed by the window's end, so every window is aggregated
/// incrementally by exactly the code that aggregates a batch run. When a watermark passes a
/// window's end, the window's groups are emitted (windows in order of their end, groups in
/// first-seen order) and its state is dropped; finish() emits every window still open.
///
/// A row whose window has already been emitted, or whose window end is null, cannot be counted
/// any more: it goes to the dead letters (reason `late`, or a null time) instead of vanishing.
///
/// Early firing (set_emit_early, a sink's `emit: { every: ... }`, docs/streaming.md): on each
/// ControlSignal::kEarlyFire the groups of open windows that rows reached since their window's
/// last emission are emitted with their current values (windows in order of their end), as
/// updating results for a sink that replaces rows by key; the window's final emission, when the
/// watermark passes its end, still emits every group and comes last.
///
/// State (serialize_state) is the last watermark and each open window's aggregate state (with,
/// when firing early, the groups not emitted since their last change), so a restored operator
/// given the rest of the input emits what an uninterrupted one would.
/// Single-threaded, like every operator.
class WindowAggregateOperator final : public Operator {
public:
    /// `window_end_key`: the index in `keys` of the window_end column; it must be a column
    /// reference into the input.
    WindowAggregateOperator(std::vector<sql::BoundExpr> keys,
                            std::vector<sql::AggregateCall> aggregates,
                            std::shared_ptr<const Schema> schema, std::size_t window_end_key,
                            ExecContext& context, std::string origin);
    ~WindowAggregateOperator() override;

    Status push(Batch batch) override;
    Status finish() override;
    /// Watermarks close windows before being forwarded; early-fire ticks emit the open
    /// windows' changed groups (when set_emit_early); barriers pass through.
    Status on_control(const ControlSignal& signal) override;
    /// Emits open windows' changed groups on kEarlyFire. Set before any input.
    void set_emit_early(bool emit_early) { emit_early_ = emit_early; }

    /// Windows open (aggregated, not yet emitted).
    std::size_t open_windows() const { return windows_.size(); }

    Result<std::string> serialize_state() const override;
    Status restore_state(std::string_view bytes) override;
    /// Incremental checkpoints: the changes are the watermark and, per window that rows
    /// reached since the last save, its groups that changed (a window opened since then: all
    /// of them); applying them first drops the windows the watermark has closed since.
    void mark_state_saved() override;
    Result<std::optional<std::string>> serialize_state_changes() override;
    Status apply_state_changes(std::string_view bytes) override;
    bool state_changed_since_save() const override;
    /// Groups summed over the open windows (a key in two windows counts twice).
    std::size_t state_keys() const override;

private:
    class WindowOutput;
    HashAggregateOperator* window_for(int64_t end);
    Status emit_until(int64_t watermark);

    std::vector<sql::BoundExpr> keys_;
    std::vector<sql::AggregateCall> aggregates_;
    std::shared_ptr<const Schema> schema_;
    std::size_t end_column_ = 0;  // the input column holding window_end
    ExecContext& context_;
    std::string origin_;
    std::unique_ptr<WindowOutput> window_output_;
    std::map<int64_t, std::unique_ptr<HashAggregateOperator>> windows_;
    std::optional<int64_t> watermark_;
    bool emit_early_ = false;
    // Incremental checkpoints: whether a save was marked, and the watermark then.
    bool tracking_saves_ = false;
    std::optional<int64_t> saved_watermark_;
};

}  // namespace millrace
