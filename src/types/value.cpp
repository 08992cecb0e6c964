#include "types/value.h"

#include <charconv>

#include "types/time_codec.h"

namespace millrace {

std::string Value::to_string() const {
    if (is_null()) return "NULL";
    switch (type_) {
        case DataType::kBool:
            return as_bool() ? "true" : "false";
        case DataType::kInt32:
            return std::to_string(as_int32());
        case DataType::kInt64:
            return std::to_string(as_int64());
        case DataType::kFloat64: {
            char buffer[32];
            auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), as_double());
            return std::string(buffer, end);
        }
        case DataType::kString:
            return as_string();
        case DataType::kBytes: {
            static constexpr char kHex[] = "0123456789abcdef";
            std::string out = "\\x";
            for (unsigned char c : as_string()) {
                out.push_back(kHex[c >> 4]);
                out.push_back(kHex[c & 15]);
            }
            return out;
        }
        case DataType::kTimestamp:
            return format_timestamp(as_int64());
        case DataType::kDate:
            return format_date(as_int32());
    }
    return "?";
}

}  // namespace millrace
