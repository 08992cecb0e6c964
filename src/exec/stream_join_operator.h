#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "exec/operator.h"
#include "sql/logical_plan.h"

namespace millrace {

class StateReader;

/// How long a StreamJoinOperator keeps a buffered row, per input (0 = left, 1 = right).
struct StreamJoinBounds {
    /// Expressions over that input's columns: a row can match no row that arrives once the
    /// watermark has passed any of their values (`a.ts + INTERVAL '1 hour'` for the left rows of
    /// `b.ts BETWEEN a.ts AND a.ts + INTERVAL '1 hour'`, `window_end` for a window join). Empty:
    /// the condition does not bound that input's rows in time.
    std::vector<sql::BoundExpr> expiry[2];
    /// The column of each input whose values the watermark bounds (its event time or
    /// window_end): a row kept in state holds the output watermark back to its value, since
    /// it may still come out beside a later row.
    std::optional<std::size_t> time_column[2];
    /// `state_ttl`: a row is also dropped once the watermark is this far past the watermark it
    /// arrived at (so a join without a time bound keeps bounded state). Absent: no TTL.
    std::optional<int64_t> ttl_micros;
};

/// An inner equi-join of two unbounded inputs (stream-stream: interval joins, window joins,
/// regular joins with a state TTL). Both inputs are buffered per join key; each arriving row is
/// joined with the other input's buffered rows of its key (pairs that also pass the residual
/// condition come out, each pair once: when the later of its two rows arrives), then buffered
/// itself. Rows whose key is null or fails to evaluate never match (the latter are
/// dead-lettered).
///
/// State is pruned by the watermark (the minimum of both inputs', InputAligner): a row is
/// dropped once the watermark passes its expiry (StreamJoinBounds), which the plan builder
/// derives from the time bounds of the ON condition, so the result equals a batch join of
/// every row that was not late. Dropped rows are counted (expired_rows()).
///
/// Output watermark: the minimum of the input watermark and the time column of every
/// buffered row, since such a row can still be emitted beside a new one.
///
/// Control signals are aligned as in HashJoinOperator. State (serialize_state): the watermark,
/// both inputs' buffered rows with their keys and expiries. Output columns: the left columns,
/// then the right columns.
class StreamJoinOperator final : public Operator {
public:
    StreamJoinOperator(std::vector<sql::BoundExpr> left_keys,
                       std::vector<sql::BoundExpr> right_keys,
                       std::optional<sql::BoundExpr> residual,
                       std::shared_ptr<const Schema> left_schema,
                       std::shared_ptr<const Schema> right_schema,
                       std::shared_ptr<const Schema> schema, StreamJoinBounds bounds,
                       ExecContext& context, std::string origin);
    ~StreamJoinOperator() override;

    /// The left port.
    Status push(Batch batch) override;
    Status finish() override;
    Status on_control(const ControlSignal& signal) override;
    /// The right port.
    BatchSink& right_side();

    /// Rows buffered now on input `side` (0 left, 1 right).
    std::size_t buffered_rows(int side) const;
    /// Rows dropped from state by the watermark (time bound or TTL) so far.
    uint64_t expired_rows() const;

    Result<std::string> serialize_state() const override;
    Status restore_state(std::string_view bytes) override;
    /// Incremental checkpoints: buffered batches never change once stored, and a row leaves
    /// them only when the watermark passes its expiry, so the changes since the last save are
    /// the watermark and the batches stored since; applying them drops what that watermark
    /// expires, then stores those batches.
    void mark_state_saved() override;
    Result<std::optional<std::string>> serialize_state_changes() override;
    Status apply_state_changes(std::string_view bytes) override;
    bool state_changed_since_save() const override;

private:
    struct State;
    class RightPort;
    Status side_push(int side, Batch batch);
    Status side_finish(int side);
    Status on_watermark(int64_t watermark);
    /// Drops the rows whose expiry the watermark has passed (not counting them as output).
    void expire_until(int64_t watermark);
    Status read_batches(StateReader& in, int side);
    std::unique_ptr<State> state_;
};

}  // namespace millrace
