#pragma once

#include <cstddef>
#include <string_view>

#include "common/result.h"
#include "types/schema.h"

namespace millrace {

/// Infers a schema from a sample of NDJSON or a JSON array: one nullable column per top-level
/// field, in order of first appearance, typed by the values seen:
///   only true/false → bool; only integers → int64; numbers → double;
///   strings that all parse as dates → date, as timestamps → timestamp; other strings → string;
///   objects, arrays, or mixed kinds → string (their JSON text); only nulls → string.
/// Malformed records in the sample are skipped; it is an error when none could be read.
Result<Schema> infer_json_schema(std::string_view sample, std::size_t max_records = 1000);

}  // namespace millrace
