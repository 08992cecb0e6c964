#pragma once

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
    bool done() const { return limit_ >= 0 && static_cast<int64_t>(rows_out_) >= limit_; }

private:
    int64_t limit_;
    int64_t offset_;
    int64_t skipped_ = 0;
};

/// UNION ALL: forwards every input; finishes downstream when all `inputs` finished.
class UnionOperator final : public Operator {
public:
    explicit UnionOperator(std::size_t inputs) : remaining_(inputs) {}
    Status push(Batch batch) override {
        rows_in_ += batch.num_rows();
        return emit(std::move(batch));
    }
    Status finish() override { return --remaining_ == 0 ? output_->finish() : Status{}; }

private:
    std::size_t remaining_;
};

}  // namespace millrace
