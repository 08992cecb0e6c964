#pragma once

#include <string_view>
#include <vector>

#include "common/result.h"

namespace millrace {

/// Splits an ingest body into its records without parsing them, so that one bad record costs
/// only itself:
/// - a body whose first non-blank byte is `[` is a JSON array, split at its top-level commas by
///   a string-aware scanner (elements are trimmed; an empty element is kept, as "", to be
///   reported by index);
/// - anything else is NDJSON: one record per non-blank line (`\r\n` accepted).
/// kParse only when an array is not closed or is followed by something other than blanks.
/// The views borrow `body`.
Result<std::vector<std::string_view>> split_json_records(std::string_view body);

}  // namespace millrace
