#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace millrace {

enum class ConfigKind { kNull, kScalar, kSequence, kMap };

/// "null", "a scalar", "a sequence", "a map": for messages like "expected a map, got a sequence".
std::string_view config_kind_name(ConfigKind kind);

/// How a scalar was written. Quoted and block scalars are always text; only plain scalars can
/// spell null (which the parser already turned into a null node).
enum class ScalarStyle { kPlain, kSingleQuoted, kDoubleQuoted, kLiteral, kFolded };

struct ConfigEntry;

/// One node of a parsed configuration document (YamlDocument builds them; no YAML library type
/// shows here): null, a scalar (its text), a sequence of nodes, or a map of text keys to nodes
/// in document order. Every node knows where it was written, so whoever interprets the config
/// can point errors at file:line:column (1-based).
///
/// An immutable value type: copies are deep and may be kept freely (the project model keeps the
/// nodes it does not interpret yet). Accessors of the wrong kind are programming errors
/// (MILLRACE_CHECK); look at kind() first.
class ConfigNode {
public:
    /// A null node at an unknown location.
    ConfigNode();
    ~ConfigNode();
    ConfigNode(const ConfigNode& other);
    ConfigNode(ConfigNode&& other) noexcept;
    ConfigNode& operator=(const ConfigNode& other);
    ConfigNode& operator=(ConfigNode&& other) noexcept;

    static ConfigNode null(SourceLocation location);
    /// `text_line`/`text_column` are where the scalar's first character of text is in the file
    /// (after a quote; the first content line of a block scalar); 0 means at `location`.
    static ConfigNode scalar(std::string text, SourceLocation location,
                             ScalarStyle style = ScalarStyle::kPlain, int text_line = 0,
                             int text_column = 0);
    static ConfigNode sequence(std::vector<ConfigNode> items, SourceLocation location);
    static ConfigNode map(std::vector<ConfigEntry> entries, SourceLocation location);

    ConfigKind kind() const { return kind_; }
    bool is_null() const { return kind_ == ConfigKind::kNull; }
    bool is_scalar() const { return kind_ == ConfigKind::kScalar; }
    bool is_sequence() const { return kind_ == ConfigKind::kSequence; }
    bool is_map() const { return kind_ == ConfigKind::kMap; }
    /// config_kind_name(kind()).
    std::string_view kind_name() const { return config_kind_name(kind_); }

    /// Where the node starts: the first key of a block map, the `[` or `{` of a flow
    /// collection, the first character (or quote, or `|`) of a scalar.
    const SourceLocation& location() const { return location_; }

    /// The scalar's text. Scalars only.
    const std::string& scalar() const;
    /// Scalars only.
    ScalarStyle style() const;
    /// Where position (line, column) of the scalar's text (both 1-based) is in the file. Exact
    /// for single-line scalars and for literal (`|`) blocks; for other multi-line scalars,
    /// whose line breaks YAML folds, positions past the first line map to the scalar's start.
    /// Used to point into SQL text and type specs. Scalars only.
    SourceLocation location_in_scalar(int line, int column) const;

    /// The items of a sequence. Sequences only.
    const std::vector<ConfigNode>& items() const;
    /// The entries of a map, in document order; keys are unique. Maps only.
    const std::vector<ConfigEntry>& entries() const;
    /// The value under `key` in a map; nullptr when absent or when this is not a map.
    const ConfigNode* find(std::string_view key) const;
    /// Number of items or entries; 0 for null and scalars.
    std::size_t size() const;

private:
    ConfigKind kind_ = ConfigKind::kNull;
    ScalarStyle style_ = ScalarStyle::kPlain;
    int text_line_ = 0;
    int text_column_ = 0;
    SourceLocation location_;
    std::string text_;
    std::vector<ConfigNode> items_;
    std::vector<ConfigEntry> entries_;
};

/// One `key: value` of a map node.
struct ConfigEntry {
    std::string key;
    SourceLocation key_location;
    ConfigNode value;
};

/// A key given with a value: `key:` alone (null) counts as not given for optional settings.
inline bool present(const ConfigNode* node) { return node != nullptr && !node->is_null(); }

}  // namespace millrace
