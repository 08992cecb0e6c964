#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "types/data_type.h"
#include "types/value.h"

namespace millrace {

/// Min, max and null count of one column over some rows (a page, a row group, a file, a lake
/// data file). `min`/`max` are null Values when unknown (all values null, or not recorded).
struct ColumnStatistics {
    Value min;
    Value max;
    uint64_t null_count = 0;
    uint64_t row_count = 0;

    bool has_min_max() const { return !min.is_null() && !max.is_null(); }
    /// Widens this range by `other` (same type); unknown min/max on either side stays unknown.
    void merge(const ColumnStatistics& other);
};

/// Orders two non-null Values of the same type in the Parquet sort order of that type: signed
/// for integers, dates and timestamps, IEEE order for doubles, false < true, unsigned bytewise
/// for strings and bytes. Returns <0, 0, >0.
int compare_values(const Value& left, const Value& right);

/// Comparison operators of a push-down predicate.
enum class CompareOp { kEq, kNe, kLt, kLe, kGt, kGe };

/// `column op value`, e.g. `amount >= 100.0`: what the SQL engine pushes down to a scan so that
/// row groups and lake files whose statistics rule the predicate out are skipped. A skip is a
/// promise that no row matches; rows that pass still need the real filter.
struct ColumnPredicate {
    std::string column;
    CompareOp op = CompareOp::kEq;
    Value value;
};

/// False only when no row with these statistics can satisfy `op value` (null rows never do).
bool statistics_may_match(const ColumnStatistics& stats, CompareOp op, const Value& value);

}  // namespace millrace
