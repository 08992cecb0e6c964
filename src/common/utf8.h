#pragma once

#include <cstddef>
#include <string_view>

namespace millrace {

/// Length (2..4) of the well-formed UTF-8 sequence that starts at `text[index]`, 1 for an ASCII
/// byte, or 0 when the bytes there are not well-formed UTF-8 (stray continuation byte, truncated
/// sequence, overlong form, surrogate, code point above U+10FFFF). `index` must be in range.
std::size_t utf8_sequence_length(std::string_view text, std::size_t index);

/// Offset of the first byte that does not start a well-formed UTF-8 sequence, or npos.
std::size_t find_invalid_utf8(std::string_view text);

inline bool is_valid_utf8(std::string_view text) {
    return find_invalid_utf8(text) == std::string_view::npos;
}

}  // namespace millrace
