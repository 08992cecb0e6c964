#include "exec/top_n_operator.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "exec/operator_state.h"

namespace millrace {

namespace {

template <typename T>
int three_way(T x, T y) {
    return x < y ? -1 : (y < x ? 1 : 0);
}

/// PostgreSQL's float order: NaN above every number and equal to itself.
int three_way_double(double x, double y) {
    bool xn = std::isnan(x), yn = std::isnan(y);
    if (xn || yn) return xn == yn ? 0 : (xn ? 1 : -1);
    return three_way(x, y);
}

/// Compares two non-null values of one type.
int compare_values(const Value& a, const Value& b) {
    switch (a.type()) {
        case DataType::kBool:
            return three_way(a.as_bool(), b.as_bool());
        case DataType::kInt32:
        case DataType::kDate:
            return three_way(a.as_int32(), b.as_int32());
        case DataType::kInt64:
        case DataType::kTimestamp:
            return three_way(a.as_int64(), b.as_int64());
        case DataType::kFloat64:
            return three_way_double(a.as_double(), b.as_double());
        case DataType::kString:
        case DataType::kBytes: {
            int r = a.as_string().compare(b.as_string());
            return r < 0 ? -1 : (r > 0 ? 1 : 0);
        }
    }
    return 0;
}

/// Compares a non-null cell with a non-null value of the column's type.
int compare_cell(const Column& c, std::size_t row, const Value& v) {
    switch (c.type()) {
        case DataType::kBool:
            return three_way(c.value<uint8_t>(row) != 0, v.as_bool());
        case DataType::kInt32:
        case DataType::kDate:
            return three_way(c.value<int32_t>(row), v.as_int32());
        case DataType::kInt64:
        case DataType::kTimestamp:
            return three_way(c.value<int64_t>(row), v.as_int64());
        case DataType::kFloat64:
            return three_way_double(c.value<double>(row), v.as_double());
        case DataType::kString:
        case DataType::kBytes: {
            int r = c.string_at(row).compare(v.as_string());
            return r < 0 ? -1 : (r > 0 ? 1 : 0);
        }
    }
    return 0;
}

/// The key order of one sort key given each side's nullness and, when both are non-null, their
/// comparison: <0 when the left side goes first.
int ordered(const sql::SortKey& key, bool left_null, bool right_null, int compared) {
    if (left_null || right_null) {
        if (left_null && right_null) return 0;
        return (left_null == key.nulls_first) ? -1 : 1;
    }
    return key.descending ? -compared : compared;
}

}  // namespace

TopNOperator::TopNOperator(std::vector<sql::SortKey> keys, std::shared_ptr<const Schema> schema,
                           std::size_t n, ExecContext& context, const std::string& origin)
    : keys_(std::move(keys)),
      schema_(std::move(schema)),
      n_(n),
      memory_(context, fmt::format("ORDER BY ... LIMIT {} in `{}`", n, origin),
              "use a smaller LIMIT or select fewer or narrower columns") {}

int TopNOperator::compare(const Batch& batch, std::size_t row, const Row& kept) const {
    for (const sql::SortKey& key : keys_) {
        const Column& c = batch.column(key.column);
        const Value& v = kept.values[key.column];
        bool left_null = c.is_null(row), right_null = v.is_null();
        int cmp = ordered(key, left_null, right_null,
                          left_null || right_null ? 0 : compare_cell(c, row, v));
        if (cmp != 0) return cmp;
    }
    return 0;
}

bool TopNOperator::before(const Row& a, const Row& b) const {
    for (const sql::SortKey& key : keys_) {
        const Value& x = a.values[key.column];
        const Value& y = b.values[key.column];
        int cmp = ordered(key, x.is_null(), y.is_null(),
                          x.is_null() || y.is_null() ? 0 : compare_values(x, y));
        if (cmp != 0) return cmp < 0;
    }
    return a.sequence < b.sequence;
}

Status TopNOperator::store(const Batch& batch, std::size_t row, Row& into) {
    std::size_t bytes = sizeof(Row) + batch.num_columns() * sizeof(Value);
    into.values.resize(batch.num_columns());
    for (std::size_t c = 0; c < batch.num_columns(); ++c) {
        into.values[c] = batch.value_at(row, c);
        const DataType type = batch.column(c).type();
        if (!into.values[c].is_null() && (type == DataType::kString || type == DataType::kBytes))
            bytes += into.values[c].as_string().capacity();
    }
    bytes_ = bytes_ - into.bytes + bytes;
    into.bytes = bytes;
    into.sequence = sequence_;
    return memory_.resize(bytes_);
}

Status TopNOperator::push(Batch batch) {
    const std::size_t rows = batch.num_rows();
    auto worse = [this](const Row& a, const Row& b) { return before(a, b); };
    for (std::size_t i = 0; i < rows; ++i, ++sequence_) {
        if (n_ == 0) break;
        if (heap_.size() < n_) {
            heap_.emplace_back();
            MILLRACE_TRY(store(batch, i, heap_.back()));
            std::push_heap(heap_.begin(), heap_.end(), worse);
            continue;
        }
        // Full: a row replaces the worst kept row only if it sorts strictly before it (a tie
        // arrived later, so it sorts after).
        if (compare(batch, i, heap_.front()) >= 0) continue;
        std::pop_heap(heap_.begin(), heap_.end(), worse);
        MILLRACE_TRY(store(batch, i, heap_.back()));
        std::push_heap(heap_.begin(), heap_.end(), worse);
    }
    return {};
}

Status TopNOperator::finish() {
    std::sort_heap(heap_.begin(), heap_.end(),
                   [this](const Row& a, const Row& b) { return before(a, b); });
    for (std::size_t start = 0; start < heap_.size(); start += kOutputBatchRows) {
        const std::size_t end = std::min(heap_.size(), start + kOutputBatchRows);
        BatchBuilder builder(schema_, end - start);
        for (std::size_t r = start; r < end; ++r) {
            for (std::size_t c = 0; c < schema_->size(); ++c) {
                const Value& v = heap_[r].values[c];
                if (v.is_null()) {
                    builder.column(c).append_null();
                } else {
                    builder.column(c).append_value(v);
                }
            }
            builder.commit_row();
        }
        MILLRACE_TRY(emit(builder.finish()));
    }
    heap_.clear();
    bytes_ = 0;
    memory_.release();
    return output_->finish();
}

// State body (after the envelope of exec/operator_state.h):
//
//   u64 rows seen (the next arrival number), batch the kept rows (in heap order),
//   then per kept row: u64 its arrival number (ties keep arrival order)
Result<std::string> TopNOperator::serialize_state() const {
    StateWriter out(OperatorStateKind::kTopN);
    out.u64(sequence_);
    BatchBuilder builder(schema_, heap_.size());
    for (const Row& row : heap_) {
        for (std::size_t c = 0; c < schema_->size(); ++c) {
            if (row.values[c].is_null()) {
                builder.column(c).append_null();
            } else {
                builder.column(c).append_value(row.values[c]);
            }
        }
        builder.commit_row();
    }
    out.batch(builder.finish());
    for (const Row& row : heap_) out.u64(row.sequence);
    return std::move(out).finish();
}

Status TopNOperator::restore_state(std::string_view bytes) {
    MILLRACE_ASSIGN_OR_RETURN(StateReader in, StateReader::open(bytes, OperatorStateKind::kTopN));
    MILLRACE_ASSIGN_OR_RETURN(uint64_t sequence, in.u64());
    MILLRACE_ASSIGN_OR_RETURN(Batch kept, in.batch(schema_));
    if (kept.num_rows() > n_) return in.corrupt("more rows than the limit");
    heap_.clear();
    bytes_ = 0;
    for (std::size_t r = 0; r < kept.num_rows(); ++r) {
        heap_.emplace_back();
        MILLRACE_TRY(store(kept, r, heap_.back()));
        MILLRACE_ASSIGN_OR_RETURN(heap_.back().sequence, in.u64());
    }
    MILLRACE_TRY(in.expect_end());
    sequence_ = sequence;
    std::make_heap(heap_.begin(), heap_.end(),
                   [this](const Row& a, const Row& b) { return before(a, b); });
    return {};
}

}  // namespace millrace
