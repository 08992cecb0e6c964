#include "server/feature_json.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include "common/json_string.h"
#include "types/time_codec.h"
#include "types/value.h"
#include "types/value_cast.h"

namespace millrace {

void append_int(std::string& out, int64_t value) {
    char buffer[24];
    const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
    out.append(buffer, result.ptr);
}

void append_double(std::string& out, double value) {
    if (!std::isfinite(value)) {
        out += "null";
        return;
    }
    char buffer[32];
    const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
    const std::string_view text(buffer, static_cast<std::size_t>(result.ptr - buffer));
    out += text;
    if (text.find_first_of(".e") == std::string_view::npos) out += ".0";
}

void append_feature_value(std::string& out, const Value& value) {
    if (value.is_null()) {
        out += "null";
        return;
    }
    switch (value.type()) {
        case DataType::kBool:
            out += value.as_bool() ? "true" : "false";
            return;
        case DataType::kInt32:
            append_int(out, value.as_int32());
            return;
        case DataType::kInt64:
            append_int(out, value.as_int64());
            return;
        case DataType::kFloat64:
            append_double(out, value.as_double());
            return;
        case DataType::kString:
        case DataType::kBytes:
            append_json_string(out, value.as_string());
            return;
        case DataType::kTimestamp:
            out += '"';
            append_timestamp(out, value.as_int64());
            out += '"';
            return;
        case DataType::kDate:
            out += '"';
            append_date(out, value.as_int32());
            out += '"';
            return;
    }
    out += "null";
}

void append_converted_value(std::string& out, const Value& value, DataType type,
                            const Value& fallback) {
    if (value.is_null() || value.type() == type) return append_feature_value(out, value);
    if (type == DataType::kFloat64) {
        switch (value.type()) {
            case DataType::kInt32:
                return append_double(out, static_cast<double>(value.as_int32()));
            case DataType::kInt64:
                return append_double(out, static_cast<double>(value.as_int64()));
            case DataType::kBool:
                return append_double(out, value.as_bool() ? 1.0 : 0.0);
            default:
                break;
        }
    }
    Result<Value> converted = cast_value(value, type);
    append_feature_value(out, converted.ok() ? *converted : fallback);
}

namespace {

uint64_t mix(uint64_t value) {
    value ^= value >> 33;
    value *= 0xff51afd7ed558ccdull;
    value ^= value >> 33;
    value *= 0xc4ceb9fe1a85ec53ull;
    value ^= value >> 33;
    return value;
}

// 64-bit hash of `body`, eight bytes per step (the ETag is computed on every GET).
uint64_t body_hash(std::string_view body) {
    uint64_t hash = 0x9e3779b97f4a7c15ull ^ body.size();
    std::size_t i = 0;
    for (; i + 8 <= body.size(); i += 8) {
        uint64_t word;
        std::memcpy(&word, body.data() + i, 8);
        hash = (hash ^ mix(word)) * 0x100000001b3ull;
        hash = (hash << 31) | (hash >> 33);
    }
    uint64_t tail = 0;
    std::memcpy(&tail, body.data() + i, body.size() - i);
    return mix(hash ^ mix(tail ^ 0x5bd1e995ull));
}

}  // namespace

std::string body_etag(std::string_view body) {
    uint64_t hash = body_hash(body);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string etag(18, '"');
    for (int i = 0; i < 16; ++i) {
        etag[static_cast<std::size_t>(16 - i)] = kHex[hash & 0xf];
        hash >>= 4;
    }
    return etag;
}

bool etag_matches(std::string_view if_none_match, std::string_view etag) {
    while (!if_none_match.empty()) {
        const std::size_t comma = if_none_match.find(',');
        std::string_view candidate = if_none_match.substr(0, comma);
        while (!candidate.empty() && (candidate.front() == ' ' || candidate.front() == '\t')) {
            candidate.remove_prefix(1);
        }
        while (!candidate.empty() && (candidate.back() == ' ' || candidate.back() == '\t')) {
            candidate.remove_suffix(1);
        }
        if (candidate.starts_with("W/")) candidate.remove_prefix(2);  // weak comparison
        if (candidate == "*" || candidate == etag) return true;
        if (comma == std::string_view::npos) break;
        if_none_match.remove_prefix(comma + 1);
    }
    return false;
}

}  // namespace millrace
