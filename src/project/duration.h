#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/result.h"

namespace millrace {

/// Parses a duration as written in config files: one or more `<integer><unit>` parts, units
/// us, ms, s, m, h, d (`5s`, `100ms`, `1m30s`, `2h`), or a bare `0`. No sign, no spaces, no
/// fractions. Errors are kParse (kOutOfRange when it does not fit in int64 microseconds); their
/// location's column is the 1-based position inside `text` of the offending character, so a
/// config loader can add it to the position of the YAML scalar.
Result<std::chrono::microseconds> parse_duration(std::string_view text);

/// The shortest text parse_duration reads back as `duration`: "5s", "1m30s", "100ms", "0s".
/// Negative durations get a leading '-' (which parse_duration refuses).
std::string format_duration(std::chrono::microseconds duration);

}  // namespace millrace
