#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "types/data_type.h"

namespace millrace {

class Value;

/// Casts between Millrace types with PostgreSQL's rules: text is parsed ('42', ' 1.5 ',
/// 'true'/'t'/'yes'/'on'/'1', ISO timestamps and dates), float to integer rounds half to even
/// (rint), out-of-range values and unparsable text are errors ("integer out of range",
/// "invalid input syntax for type int32: \"abc\""), timestamp to date truncates to the UTC day.
/// Null casts to null. Used for constants at planning time and for rows by the evaluator.
Result<Value> cast_value(const Value& value, DataType to);

/// Text → value parsers shared by casts (nullopt when the text is not of the type).
std::optional<bool> parse_bool_text(std::string_view text);
std::optional<int64_t> parse_int_text(std::string_view text);
std::optional<double> parse_double_text(std::string_view text);

/// A double rounded half to even into an int64 (nullopt when out of range or NaN).
std::optional<int64_t> round_to_int64(double value);

/// How a double is written as text: shortest round-trip form, "Infinity", "NaN".
void append_double_text(std::string& out, double value);

}  // namespace millrace
