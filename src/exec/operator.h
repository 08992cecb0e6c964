#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/result.h"
#include "types/batch.h"

namespace millrace {

/// Where Batches go: the next operator, a sink, or a test collector. The push interface is
/// what lets batch and streaming mode share operators (ARCHITECTURE.md §1): a bounded run calls
/// push() for every input batch and finish() once at the end of input; the streaming runtime
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

/// Shared by the operators of one plan: the dead-letter route and limits.
struct ExecContext {
    std::function<void(DeadLetterRow)> dead_letter = [](DeadLetterRow) {};
    /// Bytes a join's build side or a sort may hold before failing with kResourceExhausted.
    std::size_t memory_limit_bytes = std::size_t{4} << 30;
};

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

/// Concatenates batches of one schema into one.
Batch concat_batches(const std::shared_ptr<const Schema>& schema,
                     const std::vector<Batch>& batches);

}  // namespace millrace
