#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace millrace {

/// The logical types of Millrace values (docs/architecture.md §1). Each has one physical
/// representation in a Column:
///
///   type       physical     meaning
///   kBool      uint8_t      0 or 1 (one byte per value; encoders bit-pack)
///   kInt32     int32_t
///   kInt64     int64_t
///   kFloat64   double
///   kString    uint32 offsets + heap   valid UTF-8
///   kBytes     uint32 offsets + heap   arbitrary bytes
///   kTimestamp int64_t      microseconds since 1970-01-01T00:00:00Z (UTC)
///   kDate      int32_t      days since 1970-01-01
enum class DataType { kBool, kInt32, kInt64, kFloat64, kString, kBytes, kTimestamp, kDate };

/// The canonical name used in schemas and messages: bool, int32, int64, double, string, bytes,
/// timestamp, date.
std::string_view type_name(DataType type);

/// Parses a type name, case-insensitively, with the aliases users bring from SQL and other
/// tools: boolean; int, integer; bigint, long; float64, float, real, double precision; text,
/// varchar; binary, bytea, blob; timestamptz, datetime.
std::optional<DataType> parse_type_name(std::string_view name);

/// Bytes per value in the column's value buffer; 0 for variable-width types.
std::size_t fixed_width(DataType type);

inline bool is_variable_width(DataType type) {
    return type == DataType::kString || type == DataType::kBytes;
}
inline bool is_integer(DataType type) {
    return type == DataType::kInt32 || type == DataType::kInt64;
}
inline bool is_numeric(DataType type) { return is_integer(type) || type == DataType::kFloat64; }

}  // namespace millrace
