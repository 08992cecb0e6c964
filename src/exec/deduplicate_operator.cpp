#include "exec/deduplicate_operator.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "exec/key_encoder.h"
#include "exec/operator_state.h"

namespace millrace {

namespace {

int64_t saturating_add(int64_t a, int64_t b) {
    return a > std::numeric_limits<int64_t>::max() - b ? std::numeric_limits<int64_t>::max()
                                                       : a + b;
}

}  // namespace

DeduplicateOperator::DeduplicateOperator(std::vector<sql::BoundExpr> keys, sql::BoundExpr time,
                                         int64_t within_micros, ExecContext& context,
                                         std::string origin)
    : keys_(std::move(keys)),
      time_(std::move(time)),
      within_(within_micros),
      context_(context),
      origin_(std::move(origin)),
      memory_(context, fmt::format("the kept keys of dedup() in `{}`", origin_),
              "dedup within a shorter interval") {}

DeduplicateOperator::~DeduplicateOperator() = default;

void DeduplicateOperator::keep(const std::string& key, int64_t time) {
    kept_[key].push_back(time);
    expiry_.emplace(saturating_add(time, within_), key);
    ++held_;
    bytes_ += key.size() + 64;
}

Status DeduplicateOperator::push(Batch batch) {
    const std::size_t n = batch.num_rows();
    if (n == 0) return {};
    RowErrors errors;
    std::vector<ColumnPtr> key_columns;
    std::vector<const Column*> pointers;
    for (const auto& key : keys_) {
        key_columns.push_back(evaluator_.evaluate(key, batch, errors));
        pointers.push_back(key_columns.back().get());
    }
    ColumnPtr times = evaluator_.evaluate(time_, batch, errors);
    std::vector<uint32_t> selection;
    selection.reserve(n);
    std::string key;
    for (std::size_t i = 0; i < n; ++i) {
        const uint32_t row = static_cast<uint32_t>(i);
        if (errors.has(row)) continue;
        if (times->is_null(i)) {
            selection.push_back(row);
            continue;
        }
        const int64_t t = times->values<int64_t>()[i];
        key.clear();
        KeyEncoder::encode(pointers, i, key);  // null keys encode too: they are one key
        auto it = kept_.find(key);
        bool duplicate = false;
        if (it != kept_.end()) {
            for (int64_t t0 : it->second) {
                if ((t >= t0 ? t - t0 : t0 - t) < within_) {
                    duplicate = true;
                    break;
                }
            }
        }
        if (duplicate) {
            ++duplicates_;
            continue;
        }
        keep(key, t);
        selection.push_back(row);
    }
    for (const auto& entry : errors.entries()) {
        MILLRACE_TRY(context_.row_error(
            DeadLetterRow{origin_, entry.message, row_to_json(batch, entry.row)}));
    }
    MILLRACE_TRY(memory_.resize(bytes_));
    if (selection.size() == n) return emit(std::move(batch));
    return emit(batch.take(selection));
}

Status DeduplicateOperator::on_control(const ControlSignal& signal) {
    if (signal.kind == ControlSignal::Kind::kWatermark &&
        (!watermark_ || signal.watermark_micros > *watermark_)) {
        watermark_ = signal.watermark_micros;
        while (!expiry_.empty() && expiry_.begin()->first <= *watermark_) {
            auto first = expiry_.begin();
            auto it = kept_.find(first->second);
            if (it != kept_.end()) {
                std::vector<int64_t>& times = it->second;
                const int64_t t0 = first->first - within_;
                auto found = std::find(times.begin(), times.end(), t0);
                if (found != times.end()) times.erase(found);
                bytes_ -= std::min(bytes_, first->second.size() + 64);
                --held_;
                if (times.empty()) kept_.erase(it);
            }
            expiry_.erase(first);
        }
        MILLRACE_TRY(memory_.resize(bytes_));
    }
    return output_->on_control(signal);
}

// State body:
//
//   has_wm u8, wm i64, duplicates u64, keys u64, per key: key bytes, times u64, times x i64
Result<std::string> DeduplicateOperator::serialize_state() const {
    StateWriter out(OperatorStateKind::kDeduplicate);
    out.u8(watermark_ ? 1 : 0);
    out.i64(watermark_.value_or(0));
    out.u64(duplicates_);
    // In key order, so that equal states serialize to equal bytes.
    std::map<std::string_view, const std::vector<int64_t>*> sorted;
    for (const auto& [key, times] : kept_) sorted.emplace(key, &times);
    out.u64(sorted.size());
    for (const auto& [key, times] : sorted) {
        out.bytes(key);
        out.u64(times->size());
        for (int64_t t : *times) out.i64(t);
    }
    return std::move(out).finish();
}

Status DeduplicateOperator::restore_state(std::string_view bytes) {
    MILLRACE_ASSIGN_OR_RETURN(StateReader in,
                              StateReader::open(bytes, OperatorStateKind::kDeduplicate));
    MILLRACE_ASSIGN_OR_RETURN(uint8_t has_watermark, in.u8());
    MILLRACE_ASSIGN_OR_RETURN(int64_t watermark, in.i64());
    if (has_watermark > 1) return in.corrupt("watermark flag");
    MILLRACE_ASSIGN_OR_RETURN(duplicates_, in.u64());
    kept_.clear();
    expiry_.clear();
    held_ = 0;
    bytes_ = 0;
    watermark_.reset();
    if (has_watermark == 1) watermark_ = watermark;
    MILLRACE_ASSIGN_OR_RETURN(uint64_t keys, in.count(16));
    for (uint64_t k = 0; k < keys; ++k) {
        MILLRACE_ASSIGN_OR_RETURN(std::string_view key, in.bytes());
        MILLRACE_ASSIGN_OR_RETURN(uint64_t count, in.count(8));
        if (count == 0) return in.corrupt("a key without times");
        for (uint64_t i = 0; i < count; ++i) {
            MILLRACE_ASSIGN_OR_RETURN(int64_t t, in.i64());
            keep(std::string(key), t);
        }
    }
    MILLRACE_TRY(memory_.resize(bytes_));
    return in.expect_end();
}

}  // namespace millrace
