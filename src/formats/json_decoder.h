#pragma once

#include <memory>
#include <string_view>

#include "formats/decode_sink.h"
#include "types/schema.h"

namespace millrace {

/// How a JSON number in a timestamp column is read.
enum class EpochUnit {
    kAuto,  // by magnitude: |n| < 1e11 seconds, < 1e14 milliseconds, else microseconds
    kSeconds,
    kMilliseconds,
    kMicroseconds,
};

struct JsonOptions {
    DecodeOptions decode;
    EpochUnit epoch_unit = EpochUnit::kAuto;
    /// Flat records take FlatJsonScanner's single pass before simdjson. Results are the same
    /// either way; false exists so tests and the fuzzer can compare the two paths.
    bool flat_fast_path = true;
};

/// Decodes JSON records into Batches of a declared schema (docs/architecture.md §1): NDJSON (one
/// object per line) or one JSON array of objects. Objects are matched to the schema by field
/// name; absent fields are null; fields not in the schema are dropped, unless the schema has a
/// string column named `_extra`, which then receives them as one JSON object.
///
/// Conversions: numbers into int32/int64/double (with range checks; numeric strings accepted);
/// true/false (or "true"/"false") into bool; ISO-8601 strings or epoch numbers (EpochUnit) into
/// timestamp; "YYYY-MM-DD" into date; base64 strings into bytes; any JSON value into a string
/// column (non-strings as their JSON text).
///
/// Decoding is per record tolerant: a malformed line, a wrong type, a missing not-null field, a
/// duplicate key or invalid UTF-8 rejects that record with a RowError (position, reason, original
/// bytes) and decoding goes on. Flat records take FlatJsonScanner's single pass; the rest, and
/// every rejection, go through simdjson on-demand. The input needs no padding (records near the
/// end of the buffer are copied to a padded scratch area). Not thread-safe; one decoder
/// per thread.
class JsonDecoder {
public:
    JsonDecoder(std::shared_ptr<const Schema> schema, JsonOptions options = {});
    ~JsonDecoder();
    JsonDecoder(const JsonDecoder&) = delete;
    JsonDecoder& operator=(const JsonDecoder&) = delete;

    /// Decodes a whole input, NDJSON or a JSON array (chosen by its first non-blank byte), and
    /// flushes the last partial batch.
    Status decode(std::string_view input, DecodeSink& sink);

    /// Appends one record (a JSON object), e.g. one message of a topic. Returns false when the
    /// record was rejected (the RowError went to the sink). Batches are handed to the sink as
    /// they fill; call flush() at the end.
    Result<bool> decode_record(std::string_view record, uint64_t record_index, uint64_t byte_offset,
                               DecodeSink& sink);

    /// Hands the rows decoded so far to the sink as a (possibly short) batch.
    Status flush(DecodeSink& sink);

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace millrace
