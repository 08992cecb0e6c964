#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace millrace {

// UTF-8 text operations of the string kernels (scalar_functions.cpp): lengths and offsets count
// code points; case mapping covers ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic.

/// Code points in `s`.
std::size_t utf8_length(std::string_view s);
/// Byte offset of code point `index` (0-based) in `s`, or s.size().
std::size_t utf8_offset(std::string_view s, int64_t index);
/// `s` without the leading (`left`) and trailing (`right`) bytes found in `chars`.
std::string trim_chars(std::string_view s, std::string_view chars, bool left, bool right);
/// Appends `s` upper- or lower-cased.
void append_case_mapped(std::string& out, std::string_view s, bool upper);
/// SQL LIKE: `%` any run, `_` one character (UTF-8 aware), backslash escapes.
bool like_match(std::string_view text, std::string_view pattern, bool case_insensitive);

}  // namespace millrace
