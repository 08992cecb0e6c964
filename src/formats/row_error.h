#pragma once

#include <cstdint>
#include <string>

namespace millrace {

/// A record a decoder could not turn into a row: where it was, why, and its original bytes.
/// Decoders never stop on a bad record; they report it here and go on with the next one. The
/// pipeline routes it to the dead-letter queue (docs/architecture.md §9).
struct RowError {
    uint64_t record_index = 0;  // 0-based index of the record in the input (data rows for CSV)
    uint64_t byte_offset = 0;   // offset of the record's first byte in the input
    uint64_t line = 0;          // 1-based line of the record's first byte in the input
    std::string reason;         // e.g. "field `amount`: expected double, got string \"abc\""
    std::string raw;            // the record's original bytes (cut at DecodeOptions::max_raw_bytes)
};

}  // namespace millrace
