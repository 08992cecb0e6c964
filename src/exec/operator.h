#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/result.h"
#include "exec/control_signal.h"
#include "types/batch.h"

namespace millrace {

/// Where Batches go: the next operator, a sink, or a test collector. The push interface is
/// what lets batch and streaming mode share operators (docs/architecture.md §1): a bounded run
/// calls push() for every input batch and finish() once at the end of input; the streaming runtime
/// calls push() forever and sends control signals (watermarks, checkpoint barriers) between the
/// batches through on_control(), in order with them.
class BatchSink {
public:
    virtual ~BatchSink() = default;
    virtual Status push(Batch batch) = 0;
    /// End of input: blocking operators (aggregate, sort) emit here, then finish downstream.
    virtual Status finish() = 0;
    /// A watermark or checkpoint barrier, after every batch pushed before it. Terminal sinks
    /// that have no use for time ignore it (the default); operators forward it.
    virtual Status on_control(const ControlSignal& signal) {
        (void)signal;
        return {};
    }
};

/// A row an operator could not process (a per-row evaluation error): routed to the pipeline's
/// dead-letter output with the reason, never dropped silently.
struct DeadLetterRow {
    std::string origin;  // the operator or view the row failed in
    std::string reason;
    std::string row_json;  // the failing row's values as a JSON object
};

/// What an operator does with a row it could not evaluate.
enum class RowErrorPolicy {
    kDeadLetter,  // route it to `dead_letter` and go on (pipelines: one bad row never stops a run)
    kFail,        // fail the whole plan with the row's error (`millrace query`, as PostgreSQL does)
};

/// Shared by the operators of one plan (or of every plan of one run): the dead-letter route, the
/// row-error policy and the memory limit. Every operator that buffers rows or state (a join's
/// build side and waiting probe rows, sort, top-N, aggregate groups) holds a MemoryReservation
/// against `memory_limit_bytes`; the sum over all of them never exceeds it, and the one that
/// would cross it fails with kResourceExhausted naming itself and the limit. Streaming operators
/// (filter, project, limit, union, a join's output) hold at most one batch and are not counted.
/// Single-threaded, like the operators.
///
/// `clock` is the project's clock (cli/ passes its one clock, fixed by MILLRACE_NOW or the
/// system's, tests a ManualClock); null
/// means the operating system's clock. SQL's now()/current_date read it through
/// statement_time_micros(), once per context, so every plan of one run sees the same instant (as
/// PostgreSQL's now() is fixed per transaction).
struct ExecContext {
    const Clock* clock = nullptr;
    std::function<void(DeadLetterRow)> dead_letter = [](DeadLetterRow) {};
    RowErrorPolicy row_error_policy = RowErrorPolicy::kDeadLetter;
    /// Bytes all buffering operators together may hold.
    std::size_t memory_limit_bytes = std::size_t{4} << 30;
    /// How the user sets the limit, for the error that reports it reached.
    std::string limit_name = "--memory-limit";
    /// Bytes they hold now and the most they held at once (kept by MemoryReservation).
    std::size_t memory_used_bytes = 0;
    std::size_t memory_peak_bytes = 0;

    /// A row that failed evaluation: dead-lettered (ok), or the plan's error under kFail.
    Status row_error(DeadLetterRow row);
    /// The statement's time: the clock's reading the first time it is asked, then the same.
    int64_t statement_time_micros();
    /// Fixes the statement's time (the contexts of a run's parallel subtasks take the run's, so
    /// every copy of a plan folds now() to the same instant).
    void set_statement_time_micros(int64_t micros) { statement_time_ = micros; }

private:
    std::optional<int64_t> statement_time_;
};

/// One buffering operator's share of ExecContext's memory limit. resize() moves the held amount
/// up or down; growing past the limit fails, naming `holder` ("the build side of the join in
/// `v`") and the limit, with `advice` on what to change. Releases what it holds when destroyed,
/// so the ExecContext must outlive every operator built against it.
class MemoryReservation {
public:
    MemoryReservation(ExecContext& context, std::string holder, std::string advice);
    ~MemoryReservation();
    MemoryReservation(const MemoryReservation&) = delete;
    MemoryReservation& operator=(const MemoryReservation&) = delete;

    Status resize(std::size_t bytes);
    Status grow(std::size_t bytes) { return resize(bytes_ + bytes); }
    void release();
    std::size_t bytes() const { return bytes_; }

private:
    ExecContext& context_;
    std::string holder_;
    std::string advice_;
    std::size_t bytes_ = 0;
};

/// "512 KiB", "4 GiB", "100 bytes": a byte count for messages.
std::string format_bytes(std::size_t bytes);

/// An operator: consumes Batches, pushes results to its output. Single-threaded; one instance
/// per plan (and, in the streaming runtime, per parallel subtask).
///
/// Control signals are forwarded downstream unchanged by default; an operator with two inputs
/// (HashJoinOperator) or one that holds rows back overrides on_control(). An operator that holds
/// state across batches (HashAggregateOperator, HashJoinOperator, SortOperator, TopNOperator)
/// overrides serialize_state()/restore_state(): at a checkpoint barrier the runtime saves the
/// bytes, and after a restart restores them into a freshly built operator of the same plan,
/// which then continues with the input that followed the barrier. The bytes use the envelope
/// of exec/operator_state.h. Stateless operators serialize to nothing.
class Operator : public BatchSink {
public:
    void set_output(BatchSink* output) { output_ = output; }
    BatchSink* output() const { return output_; }

    Status on_control(const ControlSignal& signal) override { return output_->on_control(signal); }
    /// The operator's state as bytes; empty for a stateless operator.
    virtual Result<std::string> serialize_state() const { return std::string(); }
    /// Replaces the state with what serialize_state() wrote (of an operator built from the same
    /// plan); ErrorCode::kCorruption for bytes it did not write. Call before any input.
    virtual Status restore_state(std::string_view bytes);
    /// Folds in the state another instance of the same plan's operator serialized (partial
    /// aggregation: parallel subtasks, windows). Only operators whose state is mergeable
    /// (HashAggregateOperator) override it; others refuse non-empty state with kUnsupported.
    virtual Status merge_state(std::string_view bytes);
    /// Incremental checkpoints (docs/streaming.md, "Incremental checkpoints"): after
    /// mark_state_saved() (the caller saved serialize_state()), serialize_state_changes()
    /// returns what changed since then or since its own previous call, as bytes that
    /// apply_state_changes() lays over the state saved then; nothing when the operator cannot
    /// tell (the default), and then the caller saves serialize_state() again. An operator
    /// whose state is one entry per key (HashAggregateOperator: its groups) returns the
    /// entries that changed, so a checkpoint costs what changed, not what is held.
    virtual void mark_state_saved() {}
    virtual Result<std::optional<std::string>> serialize_state_changes() {
        return std::optional<std::string>();
    }
    /// Applies what serialize_state_changes() wrote over the restored state; kUnsupported by
    /// default (an operator that never writes changes gets none).
    virtual Status apply_state_changes(std::string_view bytes);
    /// Whether, since the last save, the state changed without a row reaching the operator (a
    /// caller that skips saving what no row reached asks it): a state TTL stamping or dropping
    /// groups at a watermark. False by default.
    virtual bool state_changed_since_save() const { return false; }
    /// Keys its state holds now (an aggregate's groups, summed over its open windows; open
    /// sessions), for state-size reports; 0 for an operator without keyed state.
    virtual std::size_t state_keys() const { return 0; }

protected:
    Status emit(Batch batch) {
        if (batch.num_rows() == 0) return {};
        return output_->push(std::move(batch));
    }
    BatchSink* output_ = nullptr;
};

/// Renders row `row` of `batch` as a JSON object (for dead-letter records).
std::string row_to_json(const Batch& batch, std::size_t row);

/// Rows per batch that operators emit (sort, top-N, aggregate results, join output).
inline constexpr std::size_t kOutputBatchRows = 8192;

/// Concatenates batches of one schema into one.
Batch concat_batches(const std::shared_ptr<const Schema>& schema,
                     const std::vector<Batch>& batches);

}  // namespace millrace
