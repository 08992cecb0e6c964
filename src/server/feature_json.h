#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "types/data_type.h"

namespace millrace {

class Value;

/// JSON rendering of feature values for the serving hot path: appends to a caller's reserved
/// string with std::to_chars, no DOM and no temporary strings.
///
///   null            null
///   bool            true / false
///   int32, int64    42
///   double          1.5, 2.0 (always with a fraction or exponent, so clients read a float);
///                   NaN and infinities as null (JSON has no spelling for them)
///   string, bytes   "text" (escaped; invalid UTF-8 replaced)
///   timestamp       "2024-01-01T00:00:00Z"
///   date            "2024-01-01"
void append_feature_value(std::string& out, const Value& value);

/// The value served as `type` (a YAML route's conversion, server/feature_route.h): integers
/// and bools as doubles without a temporary Value; other conversions through cast_value; a
/// value that does not convert is rendered as `fallback`.
void append_converted_value(std::string& out, const Value& value, DataType type,
                            const Value& fallback);

void append_int(std::string& out, int64_t value);
void append_double(std::string& out, double value);

/// A strong ETag for a response body: `"` + 16 hex digits of a 64-bit hash of it + `"` (not a
/// cryptographic hash: it tells versions of one resource apart).
std::string body_etag(std::string_view body);

/// True when an If-None-Match header value (`"a", W/"b"` or `*`) matches `etag`.
bool etag_matches(std::string_view if_none_match, std::string_view etag);

}  // namespace millrace
