#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "online/feature_view.h"

namespace millrace {

struct FeatureRow;
class Column;

/// The bytes of the online store (internal to src/online).
///
/// Key: per entity key column, in order: bool 1 byte; int32/date/int64/timestamp 8 bytes
/// big-endian with the sign bit flipped; string/bytes a LEB128 length then the bytes.
///
/// Row: version byte 1, event time (int64 LE), write time (int64 LE), feature count (uint16
/// LE), a validity bitmap (bit i set = feature i not null), then each non-null value: bool 1
/// byte, int32/date 4 bytes LE, int64/timestamp/double 8 bytes LE, string/bytes LEB128 length
/// then bytes.

/// Appends one entity key value (already of `type`) to `out`.
void append_key_value(std::string& out, DataType type, const Value& value);
/// Appends row `row` of `column` (not null, of `type`) as an entity key value.
void append_key_cell(std::string& out, DataType type, const Column& column, std::size_t row);

/// Event and write time of an encoded row, or nullopt when the bytes are not a row.
struct RowTimes {
    int64_t event_time_us;
    int64_t write_time_us;
};
std::optional<RowTimes> peek_row_times(std::string_view bytes);

/// Starts an encoded row: header and space for the validity bitmap of `feature_count`.
class RowEncoder {
public:
    void begin(int64_t event_time_us, int64_t write_time_us, std::size_t feature_count);
    void append_null(std::size_t feature);
    /// `value` must be of `type` (not null).
    void append_value(std::size_t feature, DataType type, const Value& value);
    /// The non-null cell `row` of `column`, whose type is `type`.
    void append_cell(std::size_t feature, DataType type, const Column& column, std::size_t row);
    const std::string& bytes() const { return out_; }

private:
    std::string out_;
    std::size_t bitmap_offset_ = 0;
};

/// Decodes a row written for `view`'s features; nullopt when the bytes are damaged or their
/// feature count differs.
std::optional<FeatureRow> decode_row(const FeatureView& view, std::string_view bytes);

}  // namespace millrace
