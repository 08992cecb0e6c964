#pragma once

#include <optional>
#include <string>
#include <vector>

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

/// UNION ALL: forwards every input; finishes downstream when all `inputs` finished. Its inputs
/// share one port, so it cannot tell them apart: a checkpoint barrier goes downstream once it
/// has arrived as often as inputs are still open (not aligned: nothing is held back, which is
/// correct because the union keeps no state), and watermarks are not forwarded, since the
/// minimum over inputs it cannot distinguish is unknown (holding time back is safe, moving it
/// early is not).
class UnionOperator final : public Operator {
public:
    explicit UnionOperator(std::size_t inputs) : remaining_(inputs) {}
    Status push(Batch batch) override { return emit(std::move(batch)); }
    Status finish() override;
    Status on_control(const ControlSignal& signal) override;

private:
    std::size_t remaining_;
    std::optional<uint64_t> barrier_;  // the barrier being counted
    std::size_t barrier_arrivals_ = 0;
};

}  // namespace millrace
