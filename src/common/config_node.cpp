#include "common/config_node.h"

#include <algorithm>

#include "common/check.h"

namespace millrace {

std::string_view config_kind_name(ConfigKind kind) {
    switch (kind) {
        case ConfigKind::kNull:
            return "null";
        case ConfigKind::kScalar:
            return "a scalar";
        case ConfigKind::kSequence:
            return "a sequence";
        case ConfigKind::kMap:
            return "a map";
    }
    return "unknown";
}

ConfigNode::ConfigNode() = default;
ConfigNode::~ConfigNode() = default;
ConfigNode::ConfigNode(const ConfigNode& other) = default;
ConfigNode::ConfigNode(ConfigNode&& other) noexcept = default;
ConfigNode& ConfigNode::operator=(const ConfigNode& other) = default;
ConfigNode& ConfigNode::operator=(ConfigNode&& other) noexcept = default;

ConfigNode ConfigNode::null(SourceLocation location) {
    ConfigNode node;
    node.location_ = std::move(location);
    return node;
}

ConfigNode ConfigNode::scalar(std::string text, SourceLocation location, ScalarStyle style,
                              int text_line, int text_column) {
    ConfigNode node;
    node.kind_ = ConfigKind::kScalar;
    node.style_ = style;
    node.text_line_ = text_line > 0 ? text_line : location.line;
    node.text_column_ = text_line > 0 ? text_column : location.column;
    node.location_ = std::move(location);
    node.text_ = std::move(text);
    return node;
}

ConfigNode ConfigNode::sequence(std::vector<ConfigNode> items, SourceLocation location) {
    ConfigNode node;
    node.kind_ = ConfigKind::kSequence;
    node.location_ = std::move(location);
    node.items_ = std::move(items);
    return node;
}

ConfigNode ConfigNode::map(std::vector<ConfigEntry> entries, SourceLocation location) {
    ConfigNode node;
    node.kind_ = ConfigKind::kMap;
    node.location_ = std::move(location);
    node.entries_ = std::move(entries);
    return node;
}

const std::string& ConfigNode::scalar() const {
    MILLRACE_CHECK(is_scalar(), "ConfigNode::scalar() on " + std::string(kind_name()));
    return text_;
}

ScalarStyle ConfigNode::style() const {
    MILLRACE_CHECK(is_scalar(), "ConfigNode::style() on " + std::string(kind_name()));
    return style_;
}

SourceLocation ConfigNode::location_in_scalar(int line, int column) const {
    MILLRACE_CHECK(is_scalar(), "ConfigNode::location_in_scalar() on " + std::string(kind_name()));
    if (text_line_ <= 0) return location_;  // position unknown
    line = std::max(line, 1);
    column = std::max(column, 1);
    if (line == 1) return SourceLocation{location_.file, text_line_, text_column_ + column - 1};
    if (style_ == ScalarStyle::kLiteral) {
        return SourceLocation{location_.file, text_line_ + line - 1, text_column_ + column - 1};
    }
    return location_;
}

const std::vector<ConfigNode>& ConfigNode::items() const {
    MILLRACE_CHECK(is_sequence(), "ConfigNode::items() on " + std::string(kind_name()));
    return items_;
}

const std::vector<ConfigEntry>& ConfigNode::entries() const {
    MILLRACE_CHECK(is_map(), "ConfigNode::entries() on " + std::string(kind_name()));
    return entries_;
}

const ConfigNode* ConfigNode::find(std::string_view key) const {
    if (!is_map()) return nullptr;
    for (const ConfigEntry& entry : entries_) {
        if (entry.key == key) return &entry.value;
    }
    return nullptr;
}

std::size_t ConfigNode::size() const {
    switch (kind_) {
        case ConfigKind::kSequence:
            return items_.size();
        case ConfigKind::kMap:
            return entries_.size();
        default:
            return 0;
    }
}

}  // namespace millrace
