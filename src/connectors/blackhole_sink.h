#pragma once

#include "connectors/sink.h"

namespace millrace {

/// Takes every row and keeps none (`blackhole: {}`): for benchmarks that measure a pipeline
/// without the cost of encoding and writing its output (Flink's blackhole connector), and for
/// trying a pipeline out. Counts the rows it was given.
class BlackholeSink final : public Sink {
public:
    Status write(Batch batch) override {
        rows_ += batch.num_rows();
        return {};
    }
    Status pre_commit(uint64_t) override { return {}; }
    Status commit(uint64_t) override { return {}; }
    void abort() override {}
    uint64_t rows_written() const override { return rows_; }
    bool overlaps_commits() const override { return true; }
    DeliveryGuarantee guarantee() const override { return DeliveryGuarantee::kTransactional; }

private:
    uint64_t rows_ = 0;
};

}  // namespace millrace
