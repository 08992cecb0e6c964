#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "exec/expression_evaluator.h"
#include "exec/hash_aggregate_operator.h"
#include "exec/operator.h"
#include "exec/row_errors.h"
#include "sql/logical_plan.h"

namespace millrace {

/// GROUP BY window_start, window_end, ... over session(source, time, gap): every row arrives
/// with its own window [time, time + gap); the windows of one group (the keys other than the
/// window's) that overlap are merged into one session, so a session ends `gap` after its last
/// row. Windows that only touch (a row exactly `gap` after the last one) stay apart: that keeps
/// a row at the watermark from reaching back into a session already emitted, so a streaming run
/// equals a batch run over the same rows minus the late ones.
///
/// Each session is aggregated incrementally by its own HashAggregateOperator (the batch code);
/// merging two sessions folds one's state into the other (merge_state). A session is emitted
/// when the watermark passes its end (sessions in order of their end, then of creation), with
/// window_start and window_end set to the session's bounds; finish() emits every open one. The
/// batch runtime uses this operator too (it only calls finish()).
///
/// A row whose own window ends at or before the watermark is late (a dead letter, reason
/// `late`), as for tumble() and hop(); a null time is a dead letter too.
///
/// Early firing (set_emit_early, a sink's `emit: { every: ... }`): on each
/// ControlSignal::kEarlyFire every open session that rows reached (or that absorbed another)
/// since its last emission is emitted with its current bounds and values. A session's
/// window_end moves as it grows, so a sink keyed without window_end (the online store keyed by
/// user) holds its newest value; a key with window_end keeps the earlier bounds' rows too.
///
/// State (serialize_state) is the last watermark and every open session (group key, bounds,
/// aggregate state, whether it changed since its last emission), so a restored operator given the
/// rest of the input emits what an uninterrupted one would. Single-threaded, like every operator.
class SessionWindowAggregateOperator final : public Operator {
public:
    /// `end_key`: the index in `keys` of window_end (a column reference into the input whose
    /// value is the row's time + `gap_micros`); `start_key`: that of window_start, if grouped by.
    SessionWindowAggregateOperator(std::vector<sql::BoundExpr> keys,
                                   std::vector<sql::AggregateCall> aggregates,
                                   std::shared_ptr<const Schema> schema, std::size_t end_key,
                                   std::optional<std::size_t> start_key, int64_t gap_micros,
                                   ExecContext& context, std::string origin);
    ~SessionWindowAggregateOperator() override;

    Status push(Batch batch) override;
    Status finish() override;
    /// Watermarks emit the sessions they pass before being forwarded; barriers pass through.
    Status on_control(const ControlSignal& signal) override;
    /// Emits changed open sessions on kEarlyFire. Set before any input.
    void set_emit_early(bool emit_early) { emit_early_ = emit_early; }

    /// Sessions open (aggregated, not yet emitted).
    std::size_t open_sessions() const { return sessions_.size(); }
    std::size_t state_keys() const override { return open_sessions(); }

    Result<std::string> serialize_state() const override;
    Status restore_state(std::string_view bytes) override;

private:
    class SessionOutput;
    struct Session {
        int64_t start = 0;
        int64_t end = 0;
        std::string key;
        std::unique_ptr<HashAggregateOperator> aggregate;
        bool changed = false;  // since its last emission (early firing)
    };
    uint64_t open_session(std::string key, int64_t start, int64_t end);
    void set_bounds(uint64_t id, int64_t start, int64_t end);
    void forget(uint64_t id);
    Status emit_until(int64_t watermark);

    std::vector<sql::BoundExpr> keys_;        // as the plan has them
    std::vector<sql::BoundExpr> inner_keys_;  // window keys made constant: one group a session
    std::vector<std::size_t> group_keys_;     // indexes of the keys that are not the window's
    std::vector<sql::AggregateCall> aggregates_;
    std::shared_ptr<const Schema> schema_;
    std::size_t end_key_ = 0;
    std::optional<std::size_t> start_key_;
    std::size_t end_column_ = 0;  // the input column holding the row's window_end
    int64_t gap_ = 0;
    ExecContext& context_;
    std::string origin_;
    ExpressionEvaluator evaluator_;
    RowErrors errors_;
    std::unique_ptr<SessionOutput> session_output_;
    std::unordered_map<uint64_t, Session> sessions_;
    std::unordered_map<std::string, std::map<int64_t, uint64_t>> by_key_;  // key → start → id
    std::set<std::pair<int64_t, uint64_t>> by_end_;                        // (end, id)
    uint64_t next_id_ = 0;
    std::optional<int64_t> watermark_;
    const Session* emitting_ = nullptr;
    bool emit_early_ = false;
};

}  // namespace millrace
