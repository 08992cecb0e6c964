#pragma once

#include <string>

#include "formats/avro_schema.h"

namespace millrace {

/// Appends `value` (a datum of schema `node`, as avro_decode returns it) to `out` as JSON, the
/// shape JsonDecoder reads: records as objects, maps as objects, arrays as arrays, a union as
/// the value of its branch (not Avro's {"type": value} wrapping), enums as their symbol,
/// strings, bytes and fixed as strings, non-finite floats as null.
void avro_to_json(const AvroNode& node, const AvroValue& value, std::string& out);

}  // namespace millrace
