#include "lake/partition_spec.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>

#include "types/time_codec.h"

namespace millrace {

namespace {

std::string trim(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
        text.remove_prefix(1);
    }
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
        text.remove_suffix(1);
    }
    return std::string(text);
}

std::string lower(std::string_view text) {
    std::string out;
    for (char c : text)
        out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    return out;
}

bool is_identifier(std::string_view text) {
    if (text.empty()) return false;
    for (char c : text) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
    }
    return true;
}

void append_escaped(std::string& out, std::string_view value) {
    static const char* hex = "0123456789ABCDEF";
    for (unsigned char c : value) {
        if (c < 0x20 || c == 0x7F || c == '/' || c == '=' || c == '%' || c == '\\' || c == ':' ||
            c == '"' || c == '#' || c == '?' || c == '*') {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        } else {
            out.push_back(static_cast<char>(c));
        }
    }
}

void append_day(std::string& out, int64_t days) {
    int year = 0;
    unsigned month = 0, day = 0;
    civil_from_days(static_cast<int32_t>(days), &year, &month, &day);
    char buffer[32];
    std::snprintf(buffer, sizeof(buffer), "%04d-%02u-%02u", year, month, day);
    out += buffer;
}

int64_t floor_div(int64_t a, int64_t b) {
    const int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// The first `width` code points of UTF-8 text.
std::string_view truncate_utf8(std::string_view text, int32_t width) {
    int32_t points = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80 && points++ == width) {
            return text.substr(0, i);
        }
    }
    return text;
}

uint32_t rotate_left(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }

uint32_t load_le32(std::string_view data, std::size_t at) {
    return static_cast<uint32_t>(static_cast<unsigned char>(data[at])) |
           static_cast<uint32_t>(static_cast<unsigned char>(data[at + 1])) << 8 |
           static_cast<uint32_t>(static_cast<unsigned char>(data[at + 2])) << 16 |
           static_cast<uint32_t>(static_cast<unsigned char>(data[at + 3])) << 24;
}

// Murmur3 x86 32-bit with seed 0, the hash the Iceberg specification (Appendix B) names.
uint32_t murmur3_32(std::string_view data) {
    constexpr uint32_t c1 = 0xcc9e2d51, c2 = 0x1b873593;
    auto scramble = [](uint32_t k) { return rotate_left(k * c1, 15) * c2; };
    uint32_t h = 0;
    const std::size_t blocks = data.size() / 4;
    for (std::size_t i = 0; i < blocks; ++i) {
        h ^= scramble(load_le32(data, i * 4));
        h = rotate_left(h, 13) * 5 + 0xe6546b64;
    }
    uint32_t tail = 0;
    for (std::size_t i = data.size(); i-- > blocks * 4;) {
        tail = (tail << 8) | static_cast<unsigned char>(data[i]);
    }
    if (data.size() % 4 != 0) h ^= scramble(tail);
    h ^= static_cast<uint32_t>(data.size());
    h ^= h >> 16;
    h *= 0x85ebca6b;
    h ^= h >> 13;
    h *= 0xc2b2ae35;
    h ^= h >> 16;
    return h;
}

}  // namespace

Result<PartitionSpec> PartitionSpec::parse(const std::vector<std::string>& partition_by,
                                           const Schema& schema) {
    PartitionSpec spec;
    for (const std::string& raw : partition_by) {
        std::string text = trim(raw);
        Item item;
        item.text = text;
        // Optional trailing `as <name>`.
        std::string alias;
        const std::string low = lower(text);
        const std::size_t as = low.rfind(" as ");
        if (as != std::string::npos) {
            alias = trim(std::string_view(text).substr(as + 4));
            text = trim(std::string_view(text).substr(0, as));
            if (!is_identifier(alias)) {
                return Error(ErrorCode::kInvalidArgument,
                             "partition_by `" + raw + "`: `" + alias + "` is not a name");
            }
        }
        std::string column = text;
        const std::size_t open = text.find('(');
        if (open != std::string::npos) {
            if (text.back() != ')') {
                return Error(
                    ErrorCode::kInvalidArgument,
                    "partition_by `" + raw + "`: expected date(<column>) or hour(<column>)");
            }
            const std::string function = lower(trim(std::string_view(text).substr(0, open)));
            column = trim(std::string_view(text).substr(open + 1, text.size() - open - 2));
            if (function == "bucket" || function == "truncate") {
                // bucket(N, col), truncate(W, col)
                const std::size_t comma = column.find(',');
                char* end = nullptr;
                const std::string number = comma == std::string::npos
                                               ? ""
                                               : trim(std::string_view(column).substr(0, comma));
                const long width = std::strtol(number.c_str(), &end, 10);
                if (number.empty() || *end != '\0' || width < 1 || width > 1'000'000) {
                    return Error(ErrorCode::kInvalidArgument,
                                 "partition_by `" + raw + "`: expected " + function +
                                     "(<N from 1 to 1000000>, <column>)");
                }
                column = trim(std::string_view(column).substr(comma + 1));
                item.width = static_cast<int32_t>(width);
                item.kind = function == "bucket" ? Item::Kind::kBucket : Item::Kind::kTruncate;
                item.name = column + (function == "bucket" ? "_bucket" : "_trunc");
            } else if (function == "date" || function == "day") {
                item.kind = Item::Kind::kDay;
                item.name = "day";
            } else if (function == "hour") {
                item.kind = Item::Kind::kHour;
                item.name = "hour";
            } else if (function == "month") {
                item.kind = Item::Kind::kMonth;
                item.name = "month";
            } else if (function == "year") {
                item.kind = Item::Kind::kYear;
                item.name = "year";
            } else {
                return Error(ErrorCode::kUnsupported,
                             "partition_by `" + raw +
                                 "`: only date(), hour(), month(), year(), bucket() and "
                                 "truncate() of a column are supported");
            }
        } else {
            item.name = column;
        }
        auto index = schema.index_of(column);
        if (!index) {
            return Error(ErrorCode::kNotFound, "partition_by `" + raw + "`: no column `" + column +
                                                   "` in " + schema.to_string());
        }
        item.column = *index;
        const DataType type = schema.field(*index).type;
        if ((item.kind == Item::Kind::kDay || item.kind == Item::Kind::kMonth ||
             item.kind == Item::Kind::kYear) &&
            type != DataType::kTimestamp && type != DataType::kDate) {
            return Error(ErrorCode::kTypeMismatch, "partition_by `" + raw + "`: " + item.name +
                                                       "() needs a timestamp or date column");
        }
        if (item.kind == Item::Kind::kHour && type != DataType::kTimestamp) {
            return Error(ErrorCode::kTypeMismatch,
                         "partition_by `" + raw + "`: hour() needs a timestamp column");
        }
        if (item.kind == Item::Kind::kBucket &&
            (type == DataType::kBool || type == DataType::kFloat64)) {
            return Error(ErrorCode::kTypeMismatch, "partition_by `" + raw + "`: cannot bucket a " +
                                                       std::string(type_name(type)) + " column");
        }
        if (item.kind == Item::Kind::kTruncate && type != DataType::kInt32 &&
            type != DataType::kInt64 && type != DataType::kString) {
            return Error(ErrorCode::kTypeMismatch,
                         "partition_by `" + raw +
                             "`: truncate() needs an int32, int64 or string "
                             "column");
        }
        if (item.kind == Item::Kind::kColumn &&
            (type == DataType::kFloat64 || type == DataType::kBytes ||
             type == DataType::kTimestamp)) {
            return Error(ErrorCode::kTypeMismatch,
                         "partition_by `" + raw + "`: cannot partition by a " +
                             std::string(type_name(type)) +
                             " column (use date(col) or hour(col) for timestamps)");
        }
        if (!alias.empty()) item.name = alias;
        for (const Item& other : spec.items_) {
            if (other.name == item.name) {
                return Error(ErrorCode::kInvalidArgument,
                             "partition_by names `" + item.name + "` twice");
            }
        }
        spec.items_.push_back(std::move(item));
    }
    return spec;
}

std::vector<std::string> PartitionSpec::folders(const Batch& batch) const {
    std::vector<std::string> out(batch.num_rows());
    if (items_.empty()) return out;
    for (std::size_t row = 0; row < batch.num_rows(); ++row) {
        std::string& folder = out[row];
        for (const Item& item : items_) {
            if (!folder.empty()) folder.push_back('/');
            folder += item.name;
            folder.push_back('=');
            const Column& column = batch.column(item.column);
            if (column.is_null(row)) {
                folder += "__HIVE_DEFAULT_PARTITION__";
                continue;
            }
            switch (item.kind) {
                case Item::Kind::kDay:
                    if (column.type() == DataType::kDate) {
                        append_day(folder, column.value<int32_t>(row));
                    } else {
                        append_day(folder, floor_div(column.value<int64_t>(row), 86'400'000'000));
                    }
                    break;
                case Item::Kind::kBucket: {
                    const int64_t hash =
                        iceberg_hash(batch.value_at(row, item.column)) & 0x7fffffff;
                    folder += std::to_string(hash % item.width);
                    break;
                }
                case Item::Kind::kTruncate:
                    switch (column.type()) {
                        case DataType::kInt32: {
                            const int64_t v = column.value<int32_t>(row);
                            folder +=
                                std::to_string(v - (((v % item.width) + item.width) % item.width));
                            break;
                        }
                        case DataType::kInt64: {
                            const int64_t v = column.value<int64_t>(row);
                            folder +=
                                std::to_string(v - (((v % item.width) + item.width) % item.width));
                            break;
                        }
                        default:
                            append_escaped(folder,
                                           truncate_utf8(column.string_at(row), item.width));
                    }
                    break;
                case Item::Kind::kMonth:
                case Item::Kind::kYear: {
                    const int64_t days =
                        column.type() == DataType::kDate
                            ? column.value<int32_t>(row)
                            : floor_div(column.value<int64_t>(row), 86'400'000'000);
                    int year = 0;
                    unsigned month = 0, day = 0;
                    civil_from_days(static_cast<int32_t>(days), &year, &month, &day);
                    char buffer[32];
                    if (item.kind == Item::Kind::kYear) {
                        std::snprintf(buffer, sizeof(buffer), "%04d", year);
                    } else {
                        std::snprintf(buffer, sizeof(buffer), "%04d-%02u", year, month);
                    }
                    folder += buffer;
                    break;
                }
                case Item::Kind::kHour: {
                    const int64_t hours = floor_div(column.value<int64_t>(row), 3'600'000'000);
                    append_day(folder, floor_div(hours, 24));
                    char buffer[8];
                    std::snprintf(buffer, sizeof(buffer), "-%02d",
                                  static_cast<int>(hours - floor_div(hours, 24) * 24));
                    folder += buffer;
                    break;
                }
                case Item::Kind::kColumn:
                    switch (column.type()) {
                        case DataType::kBool:
                            folder += column.value<uint8_t>(row) ? "true" : "false";
                            break;
                        case DataType::kInt32:
                            folder += std::to_string(column.value<int32_t>(row));
                            break;
                        case DataType::kInt64:
                            folder += std::to_string(column.value<int64_t>(row));
                            break;
                        case DataType::kDate:
                            append_day(folder, column.value<int32_t>(row));
                            break;
                        default:
                            append_escaped(folder, column.string_at(row));
                    }
                    break;
            }
        }
    }
    return out;
}

std::string PartitionSpec::transform(const Item& item) {
    switch (item.kind) {
        case Item::Kind::kBucket:
            return "bucket[" + std::to_string(item.width) + "]";
        case Item::Kind::kTruncate:
            return "truncate[" + std::to_string(item.width) + "]";
        case Item::Kind::kColumn:
            return "identity";
        case Item::Kind::kDay:
            return "day";
        case Item::Kind::kHour:
            return "hour";
        case Item::Kind::kMonth:
            return "month";
        case Item::Kind::kYear:
            return "year";
    }
    return "identity";
}

namespace {

// Parses "<digits>" with an optional leading '-' into `out`; false when anything else is there.
bool parse_int(std::string_view text, int64_t& out) {
    if (text.empty()) return false;
    bool negative = false;
    if (text.front() == '-') {
        negative = true;
        text.remove_prefix(1);
    }
    if (text.empty() || text.size() > 18) return false;
    int64_t value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
        value = value * 10 + (c - '0');
    }
    out = negative ? -value : value;
    return true;
}

// "YYYY-MM-DD" (and the year and month prefixes) as parts; false when malformed.
bool parse_date_parts(std::string_view text, int64_t& year, int64_t& month, int64_t& day,
                      std::size_t parts) {
    month = 1;
    day = 1;
    const std::size_t first = text.find('-', 1);
    if (!parse_int(text.substr(0, first), year)) return false;
    if (parts == 1) return first == std::string_view::npos;
    if (first == std::string_view::npos) return false;
    text.remove_prefix(first + 1);
    const std::size_t second = text.find('-');
    if (!parse_int(text.substr(0, second), month) || month < 1 || month > 12) return false;
    if (parts == 2) return second == std::string_view::npos;
    if (second == std::string_view::npos) return false;
    return parse_int(text.substr(second + 1), day) && day >= 1 && day <= 31;
}

std::string unescape(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size()) {
            const std::string hex(text.substr(i + 1, 2));
            char* end = nullptr;
            const long c = std::strtol(hex.c_str(), &end, 16);
            if (end == hex.c_str() + 2) {
                out.push_back(static_cast<char>(c));
                i += 2;
                continue;
            }
        }
        out.push_back(text[i]);
    }
    return out;
}

}  // namespace

int32_t PartitionSpec::iceberg_hash(const Value& value) {
    int64_t integer = 0;
    switch (value.type()) {
        case DataType::kInt32:
        case DataType::kDate:
            integer = value.as_int32();
            break;
        case DataType::kInt64:
        case DataType::kTimestamp:
            integer = value.as_int64();
            break;
        case DataType::kString:
        case DataType::kBytes:
            return static_cast<int32_t>(murmur3_32(value.as_string()));
        default:
            return 0;  // bucket() refuses the other types
    }
    char bytes[8];
    for (int i = 0; i < 8; ++i) {
        bytes[i] = static_cast<char>(static_cast<uint64_t>(integer) >> (8 * i));
    }
    return static_cast<int32_t>(murmur3_32(std::string_view(bytes, 8)));
}

Result<std::vector<Value>> PartitionSpec::partition_values(std::string_view folder,
                                                           const Schema& schema) const {
    const auto pairs = split_folder(folder);
    auto bad = [&]() {
        return Error(ErrorCode::kCorruption,
                     "partition folder `" + std::string(folder) + "` does not match the spec");
    };
    if (pairs.size() != items_.size()) return bad();
    std::vector<Value> out;
    for (std::size_t i = 0; i < items_.size(); ++i) {
        const Item& item = items_[i];
        const std::string& text = pairs[i].second;
        if (pairs[i].first != item.name) return bad();
        if (text == "__HIVE_DEFAULT_PARTITION__") {
            out.push_back(Value::null());
            continue;
        }
        int64_t year = 0, month = 0, day = 0, n = 0;
        switch (item.kind) {
            case Item::Kind::kDay:
                if (!parse_date_parts(text, year, month, day, 3)) return bad();
                out.push_back(Value::date(days_from_civil(static_cast<int>(year),
                                                          static_cast<unsigned>(month),
                                                          static_cast<unsigned>(day))));
                break;
            case Item::Kind::kHour: {
                const std::size_t dash = text.rfind('-');
                if (dash == std::string::npos ||
                    !parse_date_parts(text.substr(0, dash), year, month, day, 3) ||
                    !parse_int(std::string_view(text).substr(dash + 1), n) || n < 0 || n > 23) {
                    return bad();
                }
                const int64_t days =
                    days_from_civil(static_cast<int>(year), static_cast<unsigned>(month),
                                    static_cast<unsigned>(day));
                out.push_back(Value::int32(static_cast<int32_t>(days * 24 + n)));
                break;
            }
            case Item::Kind::kMonth:
                if (!parse_date_parts(text, year, month, day, 2)) return bad();
                out.push_back(Value::int32(static_cast<int32_t>((year - 1970) * 12 + month - 1)));
                break;
            case Item::Kind::kYear:
                if (!parse_date_parts(text, year, month, day, 1)) return bad();
                out.push_back(Value::int32(static_cast<int32_t>(year - 1970)));
                break;
            case Item::Kind::kBucket:
                if (!parse_int(text, n) || n < 0 || n >= item.width) return bad();
                out.push_back(Value::int32(static_cast<int32_t>(n)));
                break;
            case Item::Kind::kTruncate:
                switch (schema.field(item.column).type) {
                    case DataType::kInt32:
                        if (!parse_int(text, n)) return bad();
                        out.push_back(Value::int32(static_cast<int32_t>(n)));
                        break;
                    case DataType::kInt64:
                        if (!parse_int(text, n)) return bad();
                        out.push_back(Value::int64(n));
                        break;
                    default:
                        out.push_back(Value::string(unescape(text)));
                }
                break;
            case Item::Kind::kColumn:
                switch (schema.field(item.column).type) {
                    case DataType::kBool:
                        out.push_back(Value::boolean(text == "true"));
                        break;
                    case DataType::kInt32:
                        if (!parse_int(text, n)) return bad();
                        out.push_back(Value::int32(static_cast<int32_t>(n)));
                        break;
                    case DataType::kInt64:
                        if (!parse_int(text, n)) return bad();
                        out.push_back(Value::int64(n));
                        break;
                    case DataType::kDate:
                        if (!parse_date_parts(text, year, month, day, 3)) return bad();
                        out.push_back(Value::date(days_from_civil(static_cast<int>(year),
                                                                  static_cast<unsigned>(month),
                                                                  static_cast<unsigned>(day))));
                        break;
                    default:
                        out.push_back(Value::string(unescape(text)));
                }
                break;
        }
    }
    return out;
}

std::vector<std::pair<std::string, std::string>> PartitionSpec::split_folder(
    std::string_view folder) {
    std::vector<std::pair<std::string, std::string>> out;
    while (!folder.empty()) {
        const std::size_t slash = folder.find('/');
        const std::string_view part = folder.substr(0, slash);
        const std::size_t eq = part.find('=');
        if (eq != std::string_view::npos) {
            out.emplace_back(std::string(part.substr(0, eq)), std::string(part.substr(eq + 1)));
        }
        if (slash == std::string_view::npos) break;
        folder.remove_prefix(slash + 1);
    }
    return out;
}

}  // namespace millrace
