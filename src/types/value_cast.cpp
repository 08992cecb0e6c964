#include "types/value_cast.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <limits>

#include "types/time_codec.h"
#include "types/value.h"

namespace millrace {

namespace {

std::string_view trim(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
        text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
        text.remove_suffix(1);
    return text;
}

Error syntax_error(DataType to, std::string_view text) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("invalid input syntax for type {}: \"{}\"", type_name(to), text));
}

Error out_of_range(DataType to) {
    return Error(ErrorCode::kOutOfRange, fmt::format("{} out of range", type_name(to)));
}

Result<Value> int_to(int64_t v, DataType to) {
    switch (to) {
        case DataType::kBool:
            return Value::boolean(v != 0);
        case DataType::kInt32:
            if (v < std::numeric_limits<int32_t>::min() ||
                v > std::numeric_limits<int32_t>::max()) {
                return out_of_range(to);
            }
            return Value::int32(static_cast<int32_t>(v));
        case DataType::kInt64:
            return Value::int64(v);
        case DataType::kFloat64:
            return Value::float64(static_cast<double>(v));
        case DataType::kString:
            return Value::string(std::to_string(v));
        default:
            break;
    }
    return Error(ErrorCode::kTypeMismatch,
                 fmt::format("cannot cast an integer to {}", type_name(to)));
}

}  // namespace

std::optional<bool> parse_bool_text(std::string_view text) {
    text = trim(text);
    std::string lower;
    for (char c : text)
        lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    if (lower == "t" || lower == "true" || lower == "yes" || lower == "y" || lower == "on" ||
        lower == "1")
        return true;
    if (lower == "f" || lower == "false" || lower == "no" || lower == "n" || lower == "off" ||
        lower == "0")
        return false;
    return std::nullopt;
}

std::optional<int64_t> parse_int_text(std::string_view text) {
    text = trim(text);
    if (!text.empty() && text.front() == '+') text.remove_prefix(1);
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) return std::nullopt;
    return v;
}

std::optional<double> parse_double_text(std::string_view text) {
    text = trim(text);
    if (!text.empty() && text.front() == '+') text.remove_prefix(1);
    std::string lower;
    for (char c : text)
        lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    if (lower == "nan") return std::numeric_limits<double>::quiet_NaN();
    if (lower == "infinity" || lower == "inf") return std::numeric_limits<double>::infinity();
    if (lower == "-infinity" || lower == "-inf") return -std::numeric_limits<double>::infinity();
    double v = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) return std::nullopt;
    return v;
}

std::optional<int64_t> round_to_int64(double value) {
    if (std::isnan(value)) return std::nullopt;
    double rounded = std::nearbyint(value);  // half to even: PostgreSQL's float8 -> int uses rint()
    if (rounded < -9223372036854775808.0 || rounded >= 9223372036854775808.0) return std::nullopt;
    return static_cast<int64_t>(rounded);
}

void append_double_text(std::string& out, double value) {
    if (std::isnan(value)) {
        out += "NaN";
        return;
    }
    if (std::isinf(value)) {
        out += value > 0 ? "Infinity" : "-Infinity";
        return;
    }
    char buffer[32];
    auto [ptr, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
    (void)ec;
    out.append(buffer, ptr);
}

Result<Value> cast_value(const Value& value, DataType to) {
    if (value.is_null()) return Value::null();
    DataType from = value.type();
    if (from == to) return value;
    switch (from) {
        case DataType::kBool:
            if (to == DataType::kString) return Value::string(value.as_bool() ? "true" : "false");
            if (is_integer(to)) return int_to(value.as_bool() ? 1 : 0, to);
            break;
        case DataType::kInt32:
            if (to == DataType::kDate) break;
            return int_to(value.as_int32(), to);
        case DataType::kInt64:
            return int_to(value.as_int64(), to);
        case DataType::kFloat64: {
            double v = value.as_double();
            if (to == DataType::kString) {
                std::string text;
                append_double_text(text, v);
                return Value::string(std::move(text));
            }
            if (is_integer(to)) {
                std::optional<int64_t> rounded = round_to_int64(v);
                if (!rounded) return out_of_range(to);
                return int_to(*rounded, to);
            }
            if (to == DataType::kBool) return Value::boolean(v != 0);
            break;
        }
        case DataType::kString:
        case DataType::kBytes: {
            const std::string& text = value.as_string();
            switch (to) {
                case DataType::kString:
                    return Value::string(text);
                case DataType::kBytes:
                    return Value::bytes(text);
                case DataType::kBool: {
                    auto v = parse_bool_text(text);
                    if (!v) return syntax_error(to, text);
                    return Value::boolean(*v);
                }
                case DataType::kInt32:
                case DataType::kInt64: {
                    auto v = parse_int_text(text);
                    if (!v) {
                        // PostgreSQL's int casts reject '1.5'; out-of-range digits are range
                        // errors.
                        std::string_view t = trim(text);
                        bool digits = !t.empty();
                        for (std::size_t i = 0; i < t.size(); ++i) {
                            if (!std::isdigit(static_cast<unsigned char>(t[i])) &&
                                !(i == 0 && (t[i] == '-' || t[i] == '+')))
                                digits = false;
                        }
                        if (digits) return out_of_range(to);
                        return syntax_error(to, text);
                    }
                    return int_to(*v, to);
                }
                case DataType::kFloat64: {
                    auto v = parse_double_text(text);
                    if (!v) return syntax_error(to, text);
                    return Value::float64(*v);
                }
                case DataType::kTimestamp: {
                    auto v = parse_timestamp(trim(text));
                    if (!v) return syntax_error(to, text);
                    return Value::timestamp(*v);
                }
                case DataType::kDate: {
                    std::string_view t = trim(text);
                    auto v = parse_date(t);
                    if (!v) {
                        auto ts = parse_timestamp(t);
                        if (!ts) return syntax_error(to, text);
                        int64_t day = *ts >= 0 ? *ts / 86400000000LL
                                               : -((-*ts + 86400000000LL - 1) / 86400000000LL);
                        return Value::date(static_cast<int32_t>(day));
                    }
                    return Value::date(*v);
                }
            }
            break;
        }
        case DataType::kTimestamp:
            if (to == DataType::kString) return Value::string(format_timestamp(value.as_int64()));
            if (to == DataType::kDate) {
                int64_t ts = value.as_int64();
                int64_t day =
                    ts >= 0 ? ts / 86400000000LL : -((-ts + 86400000000LL - 1) / 86400000000LL);
                return Value::date(static_cast<int32_t>(day));
            }
            break;
        case DataType::kDate:
            if (to == DataType::kString) return Value::string(format_date(value.as_int32()));
            if (to == DataType::kTimestamp)
                return Value::timestamp(int64_t{value.as_int32()} * 86400000000LL);
            break;
    }
    return Error(ErrorCode::kTypeMismatch,
                 fmt::format("cannot cast {} to {}", type_name(from), type_name(to)));
}

}  // namespace millrace
