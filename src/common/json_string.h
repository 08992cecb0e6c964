#pragma once

#include <string>
#include <string_view>

namespace millrace {

/// Appends `text` to `out` as a quoted JSON string (RFC 8259): `"` and `\` are escaped, as are
/// control characters (\b \f \n \r \t by name, the others as \u00XX). Bytes that are not
/// well-formed UTF-8 are replaced by U+FFFD, so the output is always valid JSON even when `text`
/// comes from a bad record. Runs of plain bytes are copied in one go.
void append_json_string(std::string& out, std::string_view text);

/// The same, returned as a new string.
std::string json_string(std::string_view text);

}  // namespace millrace
