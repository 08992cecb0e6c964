#include "types/schema.h"

#include <cctype>
#include <unordered_set>

namespace millrace {

Schema::Schema(std::vector<Field> fields) : fields_(std::move(fields)) {}

Result<Schema> Schema::make(std::vector<Field> fields) {
    std::unordered_set<std::string_view> seen;
    for (const Field& field : fields) {
        if (field.name.empty()) {
            return Error(ErrorCode::kInvalidArgument, "a column has an empty name");
        }
        if (!seen.insert(field.name).second) {
            return Error(ErrorCode::kInvalidArgument,
                         "column `" + field.name + "` is declared twice");
        }
    }
    return Schema(std::move(fields));
}

std::optional<std::size_t> Schema::index_of(std::string_view name) const {
    for (std::size_t i = 0; i < fields_.size(); ++i) {
        if (fields_[i].name == name) return i;
    }
    return std::nullopt;
}

std::string Schema::to_string() const {
    std::string out = "{ ";
    for (std::size_t i = 0; i < fields_.size(); ++i) {
        if (i > 0) out += ", ";
        out += fields_[i].name;
        out += ": ";
        out += type_name(fields_[i].type);
        if (!fields_[i].nullable) out += " not null";
    }
    out += " }";
    return out;
}

namespace {

struct Word {
    std::string_view text;
    std::size_t position;  // 0-based offset in the spec
};

std::vector<Word> split_words(std::string_view spec) {
    std::vector<Word> words;
    std::size_t i = 0;
    while (i < spec.size()) {
        while (i < spec.size() && std::isspace(static_cast<unsigned char>(spec[i]))) ++i;
        std::size_t start = i;
        while (i < spec.size() && !std::isspace(static_cast<unsigned char>(spec[i]))) ++i;
        if (i > start) words.push_back({spec.substr(start, i - start), start});
    }
    return words;
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i]))) {
            return false;
        }
    }
    return true;
}

Error spec_error(std::string message, std::size_t position) {
    return Error(ErrorCode::kParse, std::move(message),
                 SourceLocation{"", 0, static_cast<int>(position) + 1});
}

}  // namespace

Result<Field> parse_field_spec(std::string_view name, std::string_view spec) {
    std::vector<Word> words = split_words(spec);
    if (words.empty()) {
        return spec_error("column `" + std::string(name) + "` has no type", 0);
    }
    std::size_t next = 1;
    std::optional<DataType> type;
    // "double precision" is the one two-word type name.
    if (words.size() > 1 && equals_ignore_case(words[0].text, "double") &&
        equals_ignore_case(words[1].text, "precision")) {
        type = DataType::kFloat64;
        next = 2;
    } else {
        type = parse_type_name(words[0].text);
    }
    if (!type) {
        return spec_error("unknown type `" + std::string(words[0].text) + "` for column `" +
                              std::string(name) +
                              "` (expected one of bool, int32, int64, double, string, bytes, "
                              "timestamp, date)",
                          words[0].position);
    }
    Field field{std::string(name), *type, true};
    if (next < words.size()) {
        const Word& word = words[next];
        if (equals_ignore_case(word.text, "not") && next + 1 < words.size() &&
            equals_ignore_case(words[next + 1].text, "null")) {
            field.nullable = false;
            next += 2;
        } else if (equals_ignore_case(word.text, "null")) {
            next += 1;
        } else if (equals_ignore_case(word.text, "not")) {
            const std::size_t at = next + 1 < words.size() ? words[next + 1].position
                                                           : word.position + word.text.size();
            return spec_error("expected `null` after `not`", at);
        }
    }
    if (next < words.size()) {
        return spec_error("unexpected `" + std::string(words[next].text) + "` after the type of `" +
                              std::string(name) + "` (expected `not null` or nothing)",
                          words[next].position);
    }
    return field;
}

Result<Schema> parse_schema_spec(std::string_view text) {
    std::vector<Field> fields;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t end = text.find(',', start);
        if (end == std::string_view::npos) end = text.size();
        std::string_view item = text.substr(start, end - start);
        std::size_t colon = item.find(':');
        auto trim = [](std::string_view s, std::size_t* offset) {
            std::size_t b = 0;
            while (b < s.size() && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
            std::size_t e = s.size();
            while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
            if (offset) *offset = b;
            return s.substr(b, e - b);
        };
        std::size_t name_offset = 0;
        if (colon == std::string_view::npos) {
            if (trim(item, nullptr).empty() && end == text.size() && !fields.empty()) break;
            return spec_error("expected `name: type` in the schema", start);
        }
        std::string_view name = trim(item.substr(0, colon), &name_offset);
        if (name.empty()) return spec_error("a column has an empty name", start);
        auto field = parse_field_spec(name, item.substr(colon + 1));
        if (!field.ok()) {
            Error error = std::move(field).error();
            int column = static_cast<int>(start + colon + 1) + error.location().column;
            return Error(error.code(), error.message(), SourceLocation{"", 0, column});
        }
        fields.push_back(std::move(field).value());
        start = end + 1;
    }
    auto schema = Schema::make(std::move(fields));
    if (!schema.ok()) {
        return Error(ErrorCode::kParse, schema.error().message());
    }
    return schema;
}

}  // namespace millrace
