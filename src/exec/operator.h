#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/result.h"
#include "types/batch.h"

namespace millrace {

/// Where Batches go: the next operator, a sink, or a test collector. The push interface is
/// what lets batch and streaming mode share operators (docs/architecture.md §1): a bounded run
/// calls push() for every input batch and finish() once at the end of input; the streaming runtime
/// calls push() forever and adds checkpoint hooks beside it.
class BatchSink {
public:
    virtual ~BatchSink() = default;
    virtual Status push(Batch batch) = 0;
    /// End of input: blocking operators (aggregate, sort) emit here, then finish downstream.
    virtual Status finish() = 0;
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
struct ExecContext {
    std::function<void(DeadLetterRow)> dead_letter = [](DeadLetterRow) {};
    RowErrorPolicy row_error_policy = RowErrorPolicy::kDeadLetter;
    /// Bytes all buffering operators together may hold.
    std::size_t memory_limit_bytes = std::size_t{4} << 30;
    /// Bytes they hold now and the most they held at once (kept by MemoryReservation).
    std::size_t memory_used_bytes = 0;
    std::size_t memory_peak_bytes = 0;

    /// A row that failed evaluation: dead-lettered (ok), or the plan's error under kFail.
    Status row_error(DeadLetterRow row);
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
class Operator : public BatchSink {
public:
    void set_output(BatchSink* output) { output_ = output; }
    BatchSink* output() const { return output_; }
    uint64_t rows_in() const { return rows_in_; }
    uint64_t rows_out() const { return rows_out_; }

protected:
    Status emit(Batch batch) {
        if (batch.num_rows() == 0) return {};
        rows_out_ += batch.num_rows();
        return output_->push(std::move(batch));
    }
    BatchSink* output_ = nullptr;
    uint64_t rows_in_ = 0;
    uint64_t rows_out_ = 0;
};

/// Renders row `row` of `batch` as a JSON object (for dead-letter records).
std::string row_to_json(const Batch& batch, std::size_t row);

/// Rows per batch that operators emit (sort, top-N, aggregate results, join output).
inline constexpr std::size_t kOutputBatchRows = 8192;

/// Concatenates batches of one schema into one.
Batch concat_batches(const std::shared_ptr<const Schema>& schema,
                     const std::vector<Batch>& batches);

}  // namespace millrace
