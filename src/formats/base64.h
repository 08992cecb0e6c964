#pragma once

#include <string>
#include <string_view>

namespace millrace {

/// Standard base64 (RFC 4648 §4: alphabet A–Z a–z 0–9 + /, `=` padding, no line breaks). Bytes
/// columns travel as base64 text in CSV and JSON.

/// Appends the base64 text of `bytes` to `out`.
void append_base64(std::string& out, std::string_view bytes);

/// Decodes base64 `text` into `*out` (its previous content is replaced). Only the canonical
/// encoding is accepted: a length that is a multiple of 4, characters of the standard alphabet,
/// padding only at the end and zero padding bits. Returns false otherwise (then `*out` is
/// unspecified).
bool decode_base64(std::string_view text, std::string* out);

}  // namespace millrace
