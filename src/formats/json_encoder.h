#pragma once

#include <string>

namespace millrace {

class Batch;

/// Encodes Batches as NDJSON, one object per row with fields in schema order. Nulls are written
/// as null; timestamps as RFC 3339 UTC strings; dates as "YYYY-MM-DD"; bytes as base64 strings;
/// doubles in the shortest form that reads back exactly, and the non-finite ones, which JSON
/// lacks, as the strings "NaN", "Infinity", "-Infinity" (JsonDecoder reads them back).
class JsonEncoder {
public:
    /// Appends one line per row of `batch` to `out`.
    void encode(const Batch& batch, std::string& out) const;
};

}  // namespace millrace
