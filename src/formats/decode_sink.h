#pragma once

#include <vector>

#include "common/result.h"
#include "formats/row_error.h"
#include "types/batch.h"

namespace millrace {

/// Receives what a decoder produces: Batches of at most DecodeOptions::batch_rows rows, and one
/// RowError per rejected record. Called once per batch or bad record, never per good record.
/// A non-ok Status from on_batch stops the decoder, which returns that Status.
class DecodeSink {
public:
    virtual ~DecodeSink() = default;
    virtual Status on_batch(Batch batch) = 0;
    virtual void on_error(RowError error) = 0;
};

/// Keeps everything in memory (tests, small files, the CLI's convert of one file).
class CollectingSink final : public DecodeSink {
public:
    Status on_batch(Batch batch) override {
        rows += batch.num_rows();
        batches.push_back(std::move(batch));
        return {};
    }
    void on_error(RowError error) override { errors.push_back(std::move(error)); }

    std::vector<Batch> batches;
    std::vector<RowError> errors;
    std::size_t rows = 0;
};

/// Options shared by every decoder.
struct DecodeOptions {
    std::size_t batch_rows = 8192;      // rows per Batch handed to the sink
    std::size_t max_raw_bytes = 65536;  // RowError::raw is cut to this many bytes
};

}  // namespace millrace
