#pragma once

#include <string>
#include <string_view>

namespace millrace {

/// Where a JSON text first breaks the grammar, for 400 messages: "malformed JSON at line 1,
/// column 14: expected `:` after an object key". simdjson says that a document is invalid but
/// not where; this scanner runs only after it refused one (the cold path), so it is written for
/// clarity, not speed. Nesting deeper than 1024 is reported as such. When the scanner finds no
/// error (simdjson refused for another reason, e.g. a number out of range), `fallback` is used
/// at the start of the text.
std::string describe_json_syntax_error(std::string_view text, std::string_view fallback);

}  // namespace millrace
