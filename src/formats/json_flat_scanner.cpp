#include "formats/json_flat_scanner.h"

#include <immintrin.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

namespace millrace {

namespace {

inline bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Compact JSON has no space between tokens: one compare settles the common case (every byte
// above 0x20 is not space).
inline const char* skip_space(const char* p, const char* end) {
    while (p < end && static_cast<unsigned char>(*p) <= ' ' && is_json_space(*p)) ++p;
    return p;
}

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The end of a string's content that starts at `p` (just after its opening quote): the position
// of its closing quote, or nullptr when a backslash or a control character comes first or the
// quote is not before `end`. Sixteen bytes at a time with SSE2 compares (control characters are
// the bytes whose unsigned minimum with 0x1f is themselves); reads up to 15 bytes past `end`,
// which the scanner's padding precondition allows.
inline const char* string_end(const char* p, const char* end) {
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i control = _mm_set1_epi8(0x1f);
    for (;; p += 16) {
        if (p >= end) return nullptr;
        const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        const __m128i hits = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(bytes, quote), _mm_cmpeq_epi8(bytes, backslash)),
            _mm_cmpeq_epi8(_mm_min_epu8(bytes, control), bytes));
        const unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(hits));
        if (mask == 0) continue;
        const char* at = p + __builtin_ctz(mask);
        if (at >= end || *at != '"') return nullptr;
        return at;
    }
}

// A number by JSON's grammar starting at `p`; returns the position after it, or nullptr.
// `integer` is set when it has neither a fraction nor an exponent.
inline const char* number_end(const char* p, const char* end, bool* integer) {
    if (p < end && *p == '-') ++p;
    if (p >= end) return nullptr;
    if (*p == '0') {
        ++p;
    } else if (*p >= '1' && *p <= '9') {
        while (p < end && is_digit(*p)) ++p;
    } else {
        return nullptr;
    }
    *integer = true;
    if (p < end && *p == '.') {
        *integer = false;
        ++p;
        if (p >= end || !is_digit(*p)) return nullptr;
        while (p < end && is_digit(*p)) ++p;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        *integer = false;
        ++p;
        if (p < end && (*p == '+' || *p == '-')) ++p;
        if (p >= end || !is_digit(*p)) return nullptr;
        while (p < end && is_digit(*p)) ++p;
    }
    return p;
}

// The common numbers in one pass: an optional minus, an integer part by JSON's grammar and an
// optional fraction, at most 15 digits in all and no exponent. `mantissa` holds the digits,
// `fraction_digits` how many follow the point. Anything else returns nullptr and the caller
// takes the general route (number_end and std::from_chars).
inline const char* simple_number(const char* p, const char* end, bool* negative, uint64_t* mantissa,
                                 int* fraction_digits) {
    *negative = p < end && *p == '-';
    if (*negative) ++p;
    const char* first = p;
    uint64_t value = 0;
    while (p < end && is_digit(*p)) value = value * 10 + static_cast<uint64_t>(*p++ - '0');
    const std::ptrdiff_t integer_digits = p - first;
    if (integer_digits == 0 || (integer_digits > 1 && *first == '0')) return nullptr;
    int fraction = 0;
    if (p < end && *p == '.') {
        const char* point = ++p;
        while (p < end && is_digit(*p)) value = value * 10 + static_cast<uint64_t>(*p++ - '0');
        fraction = static_cast<int>(p - point);
        if (fraction == 0) return nullptr;
    }
    if (integer_digits + fraction > 15) return nullptr;
    if (p < end && (*p == 'e' || *p == 'E')) return nullptr;
    *mantissa = value;
    *fraction_digits = fraction;
    return p;
}

// Powers of ten that are exact doubles: a mantissa below 2^53 divided by one of them is one
// correctly rounded operation, so it equals what a full decimal-to-double conversion gives
// (Clinger's fast path).
constexpr double kExactPowersOfTen[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                        1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};

// Whether a scalar token ends at `p`: what follows must be space, a comma or the object's end.
inline bool token_ends(const char* p, const char* end) {
    return p < end && (is_json_space(*p) || *p == ',' || *p == '}');
}

inline bool literal_at(const char* p, const char* end, std::string_view literal) {
    return static_cast<std::size_t>(end - p) > literal.size() &&
           std::memcmp(p, literal.data(), literal.size()) == 0 &&
           token_ends(p + literal.size(), end);
}

}  // namespace

FlatJsonScanner::FlatJsonScanner(std::shared_ptr<const Schema> schema)
    : schema_(std::move(schema)), seen_(schema_->size(), 0) {
    names_.reserve(schema_->size());
    for (const Field& field : schema_->fields()) {
        if (field.name == "_extra" && field.type == DataType::kString) enabled_ = false;
        names_.push_back(field.name);
        raw_keys_.emplace_back(field.name);
        const bool plain = std::none_of(field.name.begin(), field.name.end(), [](char c) {
            return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20;
        });
        raw_key_usable_.push_back(plain ? 1 : 0);
    }
    for (std::size_t i = 0; i < names_.size(); ++i) index_.emplace(names_[i], i);
}

std::size_t FlatJsonScanner::find_field(std::string_view key) const {
    auto found = index_.find(key);
    return found == index_.end() ? kUnknown : found->second;
}

bool FlatJsonScanner::scan(const char* begin, const char* end, BatchBuilder& builder) {
    if (++generation_ == 0) {  // wrapped: forget every stamp
        std::fill(seen_.begin(), seen_.end(), 0);
        generation_ = 1;
    }
    const char* p = skip_space(begin, end);
    if (p >= end || *p != '{') return false;
    p = skip_space(p + 1, end);
    std::size_t seen_count = 0;
    std::size_t predicted = 0;
    if (p < end && *p == '}') {
        ++p;
    } else {
        for (;;) {
            if (p >= end || *p != '"') return false;
            // Records of one source nearly always list their fields in the same order: compare
            // the raw key with the field after the last one matched before any scanning.
            std::size_t index = kUnknown;
            const char* key_end = nullptr;
            if (predicted < raw_keys_.size() && raw_key_usable_[predicted] &&
                raw_keys_[predicted].matches(p + 1)) {
                index = predicted;
                key_end = p + 1 + names_[predicted].size();
                if (key_end >= end) return false;
            } else {
                key_end = string_end(p + 1, end);
                if (key_end == nullptr) return false;
                index = find_field(std::string_view(p + 1, key_end - p - 1));
            }
            p = skip_space(key_end + 1, end);
            if (p >= end || *p != ':') return false;
            p = skip_space(p + 1, end);
            if (index == kUnknown) {
                // A field the schema does not have is dropped, as the full path does; its value
                // must still be well formed.
                bool integer = false;
                if (p < end && *p == '"') {
                    const char* close = string_end(p + 1, end);
                    if (close == nullptr) return false;
                    p = close + 1;
                } else if (literal_at(p, end, "true") || literal_at(p, end, "null")) {
                    p += 4;
                } else if (literal_at(p, end, "false")) {
                    p += 5;
                } else if ((p = number_end(p, end, &integer)) == nullptr) {
                    return false;
                }
            } else {
                if (seen_[index] == generation_) return false;  // duplicate: the full path says so
                seen_[index] = generation_;
                ++seen_count;
                if (!scan_value(index, p, end, builder)) return false;
                predicted = index + 1;
            }
            p = skip_space(p, end);
            if (p >= end) return false;
            if (*p == '}') {
                ++p;
                break;
            }
            if (*p != ',') return false;
            p = skip_space(p + 1, end);
        }
    }
    if (skip_space(p, end) != end) return false;  // content after the object
    if (seen_count != seen_.size()) {
        for (std::size_t i = 0; i < seen_.size(); ++i) {
            if (seen_[i] == generation_) continue;
            if (!schema_->field(i).nullable) return false;  // missing required field
            builder.column(i).append_null();
        }
    }
    return true;
}

bool FlatJsonScanner::scan_value(std::size_t index, const char*& p, const char* end,
                                 BatchBuilder& builder) {
    const Field& field = schema_->field(index);
    ColumnBuilder& column = builder.column(index);
    if (p >= end) return false;
    if (*p == 'n') {
        if (!field.nullable || !literal_at(p, end, "null")) return false;
        column.append_null();
        p += 4;
        return true;
    }
    switch (field.type) {
        case DataType::kString:
        case DataType::kTimestamp:
        case DataType::kDate: {
            if (*p != '"') {
                // A number or boolean in a string column keeps its JSON text, as the full path
                // does; anything else (objects, arrays, coercions) goes there.
                if (field.type != DataType::kString) return false;
                const char* start = p;
                bool integer = false;
                if (literal_at(p, end, "true")) {
                    p += 4;
                } else if (literal_at(p, end, "false")) {
                    p += 5;
                } else if ((p = number_end(p, end, &integer)) == nullptr || !token_ends(p, end)) {
                    return false;
                }
                column.append_string(std::string_view(start, p - start));
                return true;
            }
            const char* close = string_end(p + 1, end);
            if (close == nullptr) return false;
            const std::string_view text(p + 1, close - p - 1);
            p = close + 1;
            if (field.type == DataType::kString) {
                column.append_string(text);
            } else if (field.type == DataType::kTimestamp) {
                auto micros = timestamps_.parse(text);
                if (!micros) return false;
                column.append_timestamp(*micros);
            } else {
                auto days = parse_date(text);
                if (!days) return false;
                column.append_date(*days);
            }
            return true;
        }
        case DataType::kBool: {
            if (literal_at(p, end, "true")) {
                column.append_bool(true);
                p += 4;
                return true;
            }
            if (literal_at(p, end, "false")) {
                column.append_bool(false);
                p += 5;
                return true;
            }
            return false;
        }
        case DataType::kInt32:
        case DataType::kInt64: {
            bool negative = false;
            uint64_t mantissa = 0;
            int fraction = 0;
            const char* start = p;
            if (const char* after = simple_number(p, end, &negative, &mantissa, &fraction);
                after != nullptr && fraction == 0) {
                // "-0" is left to the full path, which decides how a negative zero reads.
                if (!token_ends(after, end) || (negative && mantissa == 0)) return false;
                const int64_t value =
                    negative ? -static_cast<int64_t>(mantissa) : static_cast<int64_t>(mantissa);
                if (field.type == DataType::kInt32) {
                    if (value < std::numeric_limits<int32_t>::min() ||
                        value > std::numeric_limits<int32_t>::max()) {
                        return false;
                    }
                    column.append_int32(static_cast<int32_t>(value));
                } else {
                    column.append_int64(value);
                }
                p = after;
                return true;
            }
            bool integer = false;
            p = number_end(p, end, &integer);
            if (p == nullptr || !integer || !token_ends(p, end)) return false;
            // "-0" is left to the full path, which decides how a negative zero reads.
            if (start[0] == '-' && start[1] == '0') return false;
            int64_t value = 0;
            auto [ptr, ec] = std::from_chars(start, p, value);
            if (ec != std::errc() || ptr != p) return false;
            if (field.type == DataType::kInt32) {
                if (value < std::numeric_limits<int32_t>::min() ||
                    value > std::numeric_limits<int32_t>::max()) {
                    return false;
                }
                column.append_int32(static_cast<int32_t>(value));
            } else {
                column.append_int64(value);
            }
            return true;
        }
        case DataType::kFloat64: {
            bool negative = false;
            uint64_t mantissa = 0;
            int fraction = 0;
            if (const char* after = simple_number(p, end, &negative, &mantissa, &fraction)) {
                if (!token_ends(after, end) || (negative && mantissa == 0)) return false;
                const double magnitude =
                    static_cast<double>(mantissa) / kExactPowersOfTen[fraction];
                column.append_double(negative ? -magnitude : magnitude);
                p = after;
                return true;
            }
            bool integer = false;
            const char* start = p;
            p = number_end(p, end, &integer);
            if (p == nullptr || !token_ends(p, end)) return false;
            double value = 0;
            auto [ptr, ec] = std::from_chars(start, p, value);
            if (ec != std::errc() || ptr != p) return false;
            if (value == 0 && std::signbit(value)) return false;  // negative zero: the full path
            column.append_double(value);
            return true;
        }
        default:
            return false;  // bytes (base64) and anything new: the full path
    }
}

}  // namespace millrace
