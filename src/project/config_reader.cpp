#include "project/config_reader.h"

#include <charconv>

#include "common/suggest.h"
#include "project/duration.h"

namespace millrace {

namespace {

// "`a`, `b` or `c`"
std::string join(const std::vector<std::string>& words) {
    std::string out;
    for (std::size_t i = 0; i < words.size(); ++i) {
        if (i > 0) out += i + 1 == words.size() ? " or " : ", ";
        out += backticks(words[i]);
    }
    return out;
}

bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::string key_of(std::string_view key, std::string_view what) {
    return backticks(key) + " of " + std::string(what);
}

std::string document_what(const ConfigNode& root, std::string_view kind) {
    const ConfigNode* name = root.find("name");
    if (name == nullptr || !name->is_scalar()) return std::string(kind);
    return std::string(kind) + " " + backticks(name->scalar());
}

void ConfigReader::error(ErrorCode code, std::string message, SourceLocation location) {
    errors_.emplace_back(code, std::move(message), std::move(location));
}

void ConfigReader::add(Error error) { errors_.push_back(std::move(error)); }

bool ConfigReader::expect_map(const ConfigNode& node, std::string_view what) {
    if (node.is_map()) return true;
    error(ErrorCode::kConfig,
          "expected a map for " + std::string(what) + ", got " + std::string(node.kind_name()),
          node.location());
    return false;
}

bool ConfigReader::expect_sequence(const ConfigNode& node, std::string_view what) {
    if (node.is_sequence()) return true;
    error(ErrorCode::kConfig,
          "expected a sequence for " + std::string(what) + ", got " + std::string(node.kind_name()),
          node.location());
    return false;
}

std::optional<std::string> ConfigReader::scalar(const ConfigNode& node, std::string_view what) {
    if (node.is_scalar()) return node.scalar();
    error(ErrorCode::kConfig,
          "expected a scalar for " + std::string(what) + ", got " + std::string(node.kind_name()),
          node.location());
    return std::nullopt;
}

std::optional<std::string> ConfigReader::non_empty(const ConfigNode& node, std::string_view what) {
    std::optional<std::string> text = scalar(node, what);
    if (text && text->empty()) {
        error(ErrorCode::kConfig, std::string(what) + " is empty", node.location());
        return std::nullopt;
    }
    return text;
}

std::optional<std::vector<std::string>> ConfigReader::scalar_list(const ConfigNode& node,
                                                                  std::string_view what) {
    if (node.is_scalar()) {
        std::optional<std::string> one = non_empty(node, what);
        if (!one) return std::nullopt;
        return std::vector<std::string>{std::move(*one)};
    }
    if (!node.is_sequence()) {
        error(ErrorCode::kConfig,
              "expected a scalar or a sequence of scalars for " + std::string(what) + ", got " +
                  std::string(node.kind_name()),
              node.location());
        return std::nullopt;
    }
    std::vector<std::string> values;
    bool ok = true;
    for (const ConfigNode& item : node.items()) {
        std::optional<std::string> value = non_empty(item, "an item of " + std::string(what));
        if (value) {
            values.push_back(std::move(*value));
        } else {
            ok = false;
        }
    }
    if (!ok) return std::nullopt;
    return values;
}

std::optional<int64_t> ConfigReader::integer(const ConfigNode& node, std::string_view what,
                                             int64_t min, int64_t max) {
    std::optional<std::string> text = scalar(node, what);
    if (!text) return std::nullopt;
    int64_t value = 0;
    const char* begin = text->data();
    const char* end = begin + text->size();
    const auto [rest, status] = std::from_chars(begin, end, value);
    if (status == std::errc::result_out_of_range ||
        (status == std::errc() && rest == end && (value < min || value > max))) {
        error(ErrorCode::kOutOfRange,
              std::string(what) + " must be between " + std::to_string(min) + " and " +
                  std::to_string(max) + ", got " + backticks(*text),
              node.location());
        return std::nullopt;
    }
    if (status != std::errc() || rest != end || text->empty()) {
        error(ErrorCode::kConfig,
              "expected an integer for " + std::string(what) + ", got " + backticks(*text),
              node.location());
        return std::nullopt;
    }
    return value;
}

std::optional<std::chrono::microseconds> ConfigReader::duration(const ConfigNode& node,
                                                                std::string_view what) {
    std::optional<std::string> text = scalar(node, what);
    if (!text) return std::nullopt;
    Result<std::chrono::microseconds> parsed = parse_duration(*text);
    if (!parsed.ok()) {
        const Error& failure = parsed.error();
        error(failure.code(), std::string(what) + ": " + failure.message(),
              node.location_in_scalar(1, failure.location().column));
        return std::nullopt;
    }
    return *parsed;
}

std::optional<std::size_t> ConfigReader::choice_index(const ConfigNode& node, std::string_view what,
                                                      const std::vector<std::string>& names) {
    std::optional<std::string> text = scalar(node, what);
    if (!text) return std::nullopt;
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (names[i] == *text) return i;
    }
    std::string message = "invalid value " + backticks(*text) + " for " + std::string(what) +
                          "; expected " + join(names);
    if (std::optional<std::string> near = closest_match(*text, names)) {
        message += "; did you mean " + backticks(*near) + "?";
    }
    error(ErrorCode::kConfig, std::move(message), node.location());
    return std::nullopt;
}

MapReader::MapReader(ConfigReader& reader, const ConfigNode& node, std::string what)
    : reader_(reader),
      map_(node.is_map() ? &node : nullptr),
      what_(std::move(what)),
      location_(node.location()) {
    if (map_ == nullptr) reader_.expect_map(node, what_);
}

SourceLocation MapReader::location() const { return location_; }

bool ConfigReader::sql_name(std::string_view name, const SourceLocation& location,
                            std::string_view what) {
    bool ok = !name.empty() && name.size() <= kMaxNameLength && is_letter(name[0]);
    for (char c : name) ok = ok && (is_letter(c) || is_digit(c));
    if (!ok) {
        error(ErrorCode::kConfig,
              "invalid name " + backticks(name) + " for " + std::string(what) +
                  ": SQL refers to it, so use letters, digits and `_`, not starting with a digit",
              location);
    }
    return ok;
}

bool ConfigReader::resource_name(std::string_view name, const SourceLocation& location,
                                 std::string_view what) {
    bool ok = !name.empty() && name.size() <= kMaxNameLength && name[0] != '.' && name[0] != '-';
    for (char c : name) ok = ok && (is_letter(c) || is_digit(c) || c == '-' || c == '.');
    if (!ok) {
        error(ErrorCode::kConfig,
              "invalid name " + backticks(name) + " for " + std::string(what) +
                  ": use letters, digits, `_`, `-` and `.`, not starting with `.` or `-`",
              location);
    }
    return ok;
}

void MapReader::remember(std::string_view key) {
    for (const std::string& name : known_) {
        if (name == key) return;
    }
    known_.emplace_back(key);
}

const ConfigNode* MapReader::optional(std::string_view key) {
    remember(key);
    return map_ == nullptr ? nullptr : map_->find(key);
}

const ConfigNode* MapReader::required(std::string_view key) {
    const ConfigNode* value = optional(key);
    if (map_ == nullptr) return nullptr;
    if (value == nullptr) {
        reader_.error(ErrorCode::kConfig, what_ + " is missing " + backticks(key), location_);
        return nullptr;
    }
    if (value->is_null()) {
        reader_.error(ErrorCode::kConfig, key_of(key, what_) + " has no value", value->location());
        return nullptr;
    }
    return value;
}

void MapReader::allow(std::initializer_list<std::string_view> keys) {
    for (std::string_view key : keys) remember(key);
}

SourceLocation MapReader::key_location(std::string_view key) const {
    if (map_ != nullptr) {
        for (const ConfigEntry& entry : map_->entries()) {
            if (entry.key == key) return entry.key_location;
        }
    }
    return location_;
}

void MapReader::finish() {
    if (map_ == nullptr) return;
    for (const ConfigEntry& entry : map_->entries()) {
        bool known = false;
        for (const std::string& name : known_) known = known || name == entry.key;
        if (known) continue;
        std::string message = "unknown key " + backticks(entry.key) + " in " + what_;
        if (std::optional<std::string> near = closest_match(entry.key, known_)) {
            message += "; did you mean " + backticks(*near) + "?";
        } else {
            message += " (expected " + join(known_) + ")";
        }
        reader_.error(ErrorCode::kConfig, std::move(message), entry.key_location);
    }
}

}  // namespace millrace
