#pragma once

#include <optional>
#include <string>
#include <vector>

#include "exec/input_aligner.h"
#include "exec/operator.h"
#include "sql/logical_plan.h"

namespace millrace {

/// ORDER BY without LIMIT (with a LIMIT the plan uses TopNOperator): collects its input, sorts
/// stably by the keys with PostgreSQL's null placement, and emits sorted batches on finish().
/// What it holds counts against ExecContext's memory limit.
class SortOperator final : public Operator {
public:
    SortOperator(std::vector<sql::SortKey> keys, std::shared_ptr<const Schema> schema,
                 ExecContext& context, const std::string& origin);
    Status push(Batch batch) override;
    Status finish() override;
    /// The input collected so far.
    Result<std::string> serialize_state() const override;
    Status restore_state(std::string_view bytes) override;

private:
    std::vector<sql::SortKey> keys_;
    std::shared_ptr<const Schema> schema_;
    MemoryReservation memory_;
    std::vector<Batch> batches_;
    std::size_t bytes_ = 0;
};

/// LIMIT/OFFSET: passes through the rows after `offset` until `limit` rows went out.
class LimitOperator final : public Operator {
public:
    LimitOperator(int64_t limit, int64_t offset) : limit_(limit), offset_(offset) {}
    Status push(Batch batch) override;
    Status finish() override { return output_->finish(); }
    bool done() const { return limit_ >= 0 && static_cast<int64_t>(emitted_) >= limit_; }

private:
    int64_t limit_;
    int64_t offset_;
    int64_t skipped_ = 0;
    uint64_t emitted_ = 0;
};

/// UNION ALL: forwards every input; finishes downstream when all inputs finished. Each input
/// pushes into its own port (input(i)), so that control signals are merged as for any
/// multi-input operator (InputAligner: minimum watermark, aligned barriers). The operator
/// itself accepts no input.
class UnionOperator final : public Operator {
public:
    explicit UnionOperator(std::size_t inputs);
    ~UnionOperator() override;
    BatchSink& input(std::size_t i);
    Status push(Batch batch) override;
    Status finish() override;

private:
    class Port;
    std::unique_ptr<InputAligner> aligner_;
    std::vector<std::unique_ptr<Port>> ports_;
    std::size_t remaining_;
};

}  // namespace millrace
