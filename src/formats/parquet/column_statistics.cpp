#include "formats/parquet/column_statistics.h"

namespace millrace {

int compare_values(const Value& left, const Value& right) {
    switch (left.type()) {
        case DataType::kBool:
            return static_cast<int>(left.as_bool()) - static_cast<int>(right.as_bool());
        case DataType::kInt32:
        case DataType::kDate: {
            const int32_t a = left.as_int32(), b = right.as_int32();
            return a < b ? -1 : a > b ? 1 : 0;
        }
        case DataType::kInt64:
        case DataType::kTimestamp: {
            const int64_t a = left.as_int64(), b = right.as_int64();
            return a < b ? -1 : a > b ? 1 : 0;
        }
        case DataType::kFloat64: {
            const double a = left.as_double(), b = right.as_double();
            return a < b ? -1 : a > b ? 1 : 0;
        }
        case DataType::kString:
        case DataType::kBytes: {
            // std::char_traits<char>::compare is memcmp: unsigned bytewise.
            const int c = std::string_view(left.as_string()).compare(right.as_string());
            return c < 0 ? -1 : c > 0 ? 1 : 0;
        }
    }
    return 0;
}

void ColumnStatistics::merge(const ColumnStatistics& other) {
    // A side with no non-null value has no range and does not widen the other one.
    const bool this_empty = row_count == null_count;
    const bool other_empty = other.row_count == other.null_count;
    null_count += other.null_count;
    row_count += other.row_count;
    if (other_empty) return;
    if (this_empty) {
        min = other.min;
        max = other.max;
        return;
    }
    if (!has_min_max() || !other.has_min_max()) {
        min = Value();
        max = Value();
        return;
    }
    if (compare_values(other.min, min) < 0) min = other.min;
    if (compare_values(other.max, max) > 0) max = other.max;
}

bool statistics_may_match(const ColumnStatistics& stats, CompareOp op, const Value& value) {
    if (value.is_null()) return false;  // `x op NULL` is never true
    if (stats.row_count > 0 && stats.null_count == stats.row_count) return false;
    if (!stats.has_min_max() || stats.min.type() != value.type()) return true;
    const int vs_min = compare_values(value, stats.min);
    const int vs_max = compare_values(value, stats.max);
    switch (op) {
        case CompareOp::kEq:
            return vs_min >= 0 && vs_max <= 0;
        case CompareOp::kNe:
            return !(vs_min == 0 && vs_max == 0);
        case CompareOp::kLt:
            return vs_min > 0;  // some x < value needs min < value
        case CompareOp::kLe:
            return vs_min >= 0;
        case CompareOp::kGt:
            return vs_max < 0;  // max > value
        case CompareOp::kGe:
            return vs_max <= 0;
    }
    return true;
}

}  // namespace millrace
