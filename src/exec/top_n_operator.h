#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "exec/operator.h"
#include "sql/logical_plan.h"
#include "types/value.h"

namespace millrace {

/// ORDER BY ... LIMIT n: keeps only the first `n` rows in sort order while its input streams
/// through, in a max-heap whose top is the worst row kept (an input row that does not sort
/// before it is dropped at once), and emits them sorted on finish(). Holds at most `n` rows,
/// counted against ExecContext's memory limit, however large the input is. Ties keep input
/// order, as the stable SortOperator does, so ORDER BY + LIMIT gives the same rows either way.
class TopNOperator final : public Operator {
public:
    TopNOperator(std::vector<sql::SortKey> keys, std::shared_ptr<const Schema> schema,
                 std::size_t n, ExecContext& context, const std::string& origin);
    Status push(Batch batch) override;
    Status finish() override;
    /// Rows held now (never more than n).
    std::size_t rows_held() const { return heap_.size(); }
    /// The rows kept so far and the arrival count.
    Result<std::string> serialize_state() const override;
    Status restore_state(std::string_view bytes) override;

private:
    struct Row {
        uint64_t sequence = 0;  // arrival order, for ties
        std::vector<Value> values;
        std::size_t bytes = 0;
    };
    /// <0, 0, >0 as row `row` of `batch` sorts before, with, after `kept` (keys only).
    int compare(const Batch& batch, std::size_t row, const Row& kept) const;
    /// True when `a` sorts before `b` (keys, then arrival).
    bool before(const Row& a, const Row& b) const;
    Status store(const Batch& batch, std::size_t row, Row& into);

    std::vector<sql::SortKey> keys_;
    std::shared_ptr<const Schema> schema_;
    std::size_t n_;
    MemoryReservation memory_;
    std::vector<Row> heap_;  // a max-heap by before(): heap_.front() is the worst row kept
    std::size_t bytes_ = 0;
    uint64_t sequence_ = 0;
};

}  // namespace millrace
