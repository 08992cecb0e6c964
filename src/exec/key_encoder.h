#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "types/column.h"
#include "types/column_builder.h"

namespace millrace {

/// Encodes the key columns of a row into bytes that compare equal exactly when the keys are
/// equal under GROUP BY rules (nulls equal each other, -0.0 = 0.0, all NaNs equal), for hash
/// tables of aggregates and joins:
///
///   per key column: 1 byte  0 = null | 1 = value
///                   null:   fixed-width types: width zero bytes; string/bytes: nothing
///                   value:  fixed-width types: the value's bytes (doubles normalized)
///                           string/bytes: uint32 length + bytes
class KeyEncoder {
public:
    /// Appends the encoding of row `row` of `columns` to `out`. Returns false when any key is
    /// null (joins skip such rows; aggregates keep them).
    static bool encode(const std::vector<const Column*>& columns, std::size_t row,
                       std::string& out);
    /// Bytes per row of the encoding when every key column is fixed-width; 0 otherwise.
    static std::size_t fixed_row_width(const std::vector<const Column*>& columns);
    /// Encodes rows [0, rows) of fixed-width key columns, `stride` = fixed_row_width() bytes per
    /// row, column by column (the same bytes encode() writes row by row).
    static void encode_fixed(const std::vector<const Column*>& columns, std::size_t rows,
                             std::size_t stride, char* out);
    /// Decodes one key (the encoding at the front of `key`) into builders, in column order.
    static void decode(std::string_view key, std::vector<ColumnBuilder>& builders);
};

}  // namespace millrace
