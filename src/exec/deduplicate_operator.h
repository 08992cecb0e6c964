#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "exec/expression_evaluator.h"
#include "exec/operator.h"
#include "sql/bound_expr.h"

namespace millrace {

/// dedup(source, key..., time, INTERVAL 'within'): passes rows on unchanged, except a row whose
/// keys equal those of a row it kept and whose time is less than `within` from that row's
/// (the first of the duplicates to arrive wins; rows are emitted as they arrive, not held).
/// Null keys are a key like any other; a row with a null time is always kept.
///
/// State is the times of the kept rows per key, bounded by the watermark: a kept time t0 can
/// make no later row a duplicate once the watermark W >= t0 + within (a later row's time is
/// at least W), so it is dropped then. In a batch run (no watermark) every kept time stays
/// until the end. Watermarks and barriers pass through unchanged.
///
/// State (serialize_state): the watermark, then each key's kept times.
class DeduplicateOperator final : public Operator {
public:
    DeduplicateOperator(std::vector<sql::BoundExpr> keys, sql::BoundExpr time,
                        int64_t within_micros, ExecContext& context, std::string origin);
    ~DeduplicateOperator() override;

    Status push(Batch batch) override;
    Status finish() override { return output_->finish(); }
    Status on_control(const ControlSignal& signal) override;

    /// Rows dropped as duplicates so far.
    uint64_t duplicates() const { return duplicates_; }
    /// Kept times held now (across all keys).
    std::size_t held() const { return held_; }

    Result<std::string> serialize_state() const override;
    Status restore_state(std::string_view bytes) override;

private:
    void keep(const std::string& key, int64_t time);

    std::vector<sql::BoundExpr> keys_;
    sql::BoundExpr time_;
    int64_t within_ = 0;
    ExecContext& context_;
    std::string origin_;
    ExpressionEvaluator evaluator_;
    MemoryReservation memory_;
    /// Kept times per encoded key, and the same (time + within, key) in expiry order.
    std::unordered_map<std::string, std::vector<int64_t>> kept_;
    std::multimap<int64_t, std::string> expiry_;
    std::optional<int64_t> watermark_;
    std::size_t held_ = 0;
    std::size_t bytes_ = 0;
    uint64_t duplicates_ = 0;
};

}  // namespace millrace
