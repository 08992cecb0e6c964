#include "types/data_type.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

namespace millrace {

std::string_view type_name(DataType type) {
    switch (type) {
        case DataType::kBool:
            return "bool";
        case DataType::kInt32:
            return "int32";
        case DataType::kInt64:
            return "int64";
        case DataType::kFloat64:
            return "double";
        case DataType::kString:
            return "string";
        case DataType::kBytes:
            return "bytes";
        case DataType::kTimestamp:
            return "timestamp";
        case DataType::kDate:
            return "date";
    }
    return "unknown";
}

std::optional<DataType> parse_type_name(std::string_view name) {
    std::string lower(name);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    struct Alias {
        std::string_view name;
        DataType type;
    };
    static constexpr std::array<Alias, 24> kAliases = {{
        {"bool", DataType::kBool},
        {"boolean", DataType::kBool},
        {"int32", DataType::kInt32},
        {"int", DataType::kInt32},
        {"integer", DataType::kInt32},
        {"int4", DataType::kInt32},
        {"int64", DataType::kInt64},
        {"bigint", DataType::kInt64},
        {"long", DataType::kInt64},
        {"int8", DataType::kInt64},
        {"double", DataType::kFloat64},
        {"float64", DataType::kFloat64},
        {"float", DataType::kFloat64},
        {"real", DataType::kFloat64},
        {"double precision", DataType::kFloat64},
        {"string", DataType::kString},
        {"text", DataType::kString},
        {"varchar", DataType::kString},
        {"bytes", DataType::kBytes},
        {"binary", DataType::kBytes},
        {"bytea", DataType::kBytes},
        {"blob", DataType::kBytes},
        {"timestamp", DataType::kTimestamp},
        {"date", DataType::kDate},
    }};
    for (const Alias& alias : kAliases) {
        if (alias.name == lower) return alias.type;
    }
    if (lower == "timestamptz" || lower == "datetime") return DataType::kTimestamp;
    return std::nullopt;
}

std::size_t fixed_width(DataType type) {
    switch (type) {
        case DataType::kBool:
            return 1;
        case DataType::kInt32:
        case DataType::kDate:
            return 4;
        case DataType::kInt64:
        case DataType::kFloat64:
        case DataType::kTimestamp:
            return 8;
        case DataType::kString:
        case DataType::kBytes:
            return 0;
    }
    return 0;
}

}  // namespace millrace
