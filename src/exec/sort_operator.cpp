#include "exec/sort_operator.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace millrace {

SortOperator::SortOperator(std::vector<sql::SortKey> keys, std::shared_ptr<const Schema> schema,
                           ExecContext& context)
    : keys_(std::move(keys)), schema_(std::move(schema)), context_(context) {}

Status SortOperator::push(Batch batch) {
    rows_in_ += batch.num_rows();
    bytes_ += batch.memory_bytes();
    if (bytes_ > context_.memory_limit_bytes) {
        return Error(ErrorCode::kResourceExhausted,
                     fmt::format("ORDER BY input holds more than the memory limit of {} MiB; add a "
                                 "LIMIT or aggregate first",
                                 context_.memory_limit_bytes >> 20));
    }
    batches_.push_back(std::move(batch));
    return {};
}

Status SortOperator::finish() {
    Batch all = batches_.empty() ? Batch::empty(schema_) : concat_batches(schema_, batches_);
    batches_.clear();
    std::vector<uint32_t> order(all.num_rows());
    std::iota(order.begin(), order.end(), 0);
    auto compare = [&](uint32_t a, uint32_t b) {
        for (const sql::SortKey& key : keys_) {
            const Column& c = all.column(key.column);
            bool an = c.is_null(a), bn = c.is_null(b);
            if (an || bn) {
                if (an && bn) continue;
                return an == key.nulls_first;  // a null goes first iff nulls_first
            }
            int cmp = 0;
            switch (c.type()) {
                case DataType::kBool:
                    cmp = int{c.value<uint8_t>(a)} - int{c.value<uint8_t>(b)};
                    break;
                case DataType::kInt32:
                case DataType::kDate: {
                    auto x = c.value<int32_t>(a), y = c.value<int32_t>(b);
                    cmp = x < y ? -1 : (y < x ? 1 : 0);
                    break;
                }
                case DataType::kInt64:
                case DataType::kTimestamp: {
                    auto x = c.value<int64_t>(a), y = c.value<int64_t>(b);
                    cmp = x < y ? -1 : (y < x ? 1 : 0);
                    break;
                }
                case DataType::kFloat64: {
                    double x = c.value<double>(a), y = c.value<double>(b);
                    bool xn = std::isnan(x), yn = std::isnan(y);
                    cmp = (xn || yn) ? (xn == yn ? 0 : (xn ? 1 : -1))
                                     : (x < y ? -1 : (y < x ? 1 : 0));
                    break;
                }
                default: {
                    int r = c.string_at(a).compare(c.string_at(b));
                    cmp = r < 0 ? -1 : (r > 0 ? 1 : 0);
                }
            }
            if (cmp != 0) return key.descending ? cmp > 0 : cmp < 0;
        }
        return false;
    };
    std::stable_sort(order.begin(), order.end(), compare);
    constexpr std::size_t kBatchRows = 8192;
    for (std::size_t start = 0; start < order.size(); start += kBatchRows) {
        std::size_t end = std::min(order.size(), start + kBatchRows);
        std::vector<uint32_t> rows(order.begin() + static_cast<std::ptrdiff_t>(start),
                                   order.begin() + static_cast<std::ptrdiff_t>(end));
        MILLRACE_TRY(emit(all.take(rows)));
    }
    return output_->finish();
}

Status LimitOperator::push(Batch batch) {
    rows_in_ += batch.num_rows();
    if (done()) return {};
    std::size_t n = batch.num_rows();
    std::size_t begin = 0;
    if (skipped_ < offset_) {
        std::size_t skip = static_cast<std::size_t>(
            std::min<int64_t>(offset_ - skipped_, static_cast<int64_t>(n)));
        skipped_ += static_cast<int64_t>(skip);
        begin = skip;
    }
    std::size_t end = n;
    if (limit_ >= 0)
        end = std::min<std::size_t>(
            n, begin + static_cast<std::size_t>(limit_ - static_cast<int64_t>(rows_out_)));
    if (begin == 0 && end == n) return emit(std::move(batch));
    if (end <= begin) return {};
    std::vector<uint32_t> rows;
    for (std::size_t i = begin; i < end; ++i) rows.push_back(static_cast<uint32_t>(i));
    return emit(batch.take(rows));
}

}  // namespace millrace
