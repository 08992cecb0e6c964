#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/config_node.h"
#include "common/error.h"

namespace millrace {

/// Interprets ConfigNodes for the project loader while collecting every error instead of
/// stopping at the first, so `millrace validate` reports all problems of a project in one run.
///
/// Each accessor checks the node's kind and text, records an Error pointing at the node when it
/// is wrong, and returns nullopt/false; callers then skip what depends on the value and go on.
/// `what` names the value in messages ("`mode` of pipeline `p`", "source `orders`").
///
/// Error codes: kConfig for a value of the wrong kind or outside its choices, kParse for text
/// that breaks its grammar (durations), kOutOfRange for numbers out of bounds.
class ConfigReader {
public:
    /// Appends to `errors`, which must outlive the reader.
    explicit ConfigReader(std::vector<Error>& errors) : errors_(errors) {}

    void error(ErrorCode code, std::string message, SourceLocation location);
    void add(Error error);
    std::size_t error_count() const { return errors_.size(); }

    /// Records "expected a map for <what>, got a sequence" unless the node is a map.
    bool expect_map(const ConfigNode& node, std::string_view what);
    bool expect_sequence(const ConfigNode& node, std::string_view what);

    /// The text of a scalar.
    std::optional<std::string> scalar(const ConfigNode& node, std::string_view what);
    /// A scalar that must not be empty.
    std::optional<std::string> non_empty(const ConfigNode& node, std::string_view what);
    /// A list of non-empty scalars: a sequence of them, or one scalar for a list of one.
    std::optional<std::vector<std::string>> scalar_list(const ConfigNode& node,
                                                        std::string_view what);
    /// A decimal integer in [min, max].
    std::optional<int64_t> integer(const ConfigNode& node, std::string_view what, int64_t min,
                                   int64_t max);
    /// A duration (see duration.h); errors point at the offending character.
    std::optional<std::chrono::microseconds> duration(const ConfigNode& node,
                                                      std::string_view what);

    /// Names longer than this are refused by sql_name() and resource_name().
    static constexpr std::size_t kMaxNameLength = 128;

    /// Checks a name SQL refers to (sources, views, columns): letters, digits, `_`, not
    /// starting with a digit.
    bool sql_name(std::string_view name, const SourceLocation& location, std::string_view what);
    /// Checks a name used in paths, URLs and metric labels (pipelines, topics, tables, feature
    /// views, jobs): letters, digits, `_`, `-`, `.`, not starting with `.` or `-`.
    bool resource_name(std::string_view name, const SourceLocation& location,
                       std::string_view what);

    /// One of a fixed set of words, with a did-you-mean for near misses.
    template <typename Enum>
    std::optional<Enum> choice(const ConfigNode& node, std::string_view what,
                               std::initializer_list<std::pair<std::string_view, Enum>> choices) {
        std::vector<std::string> names;
        for (const auto& [name, value] : choices) names.emplace_back(name);
        const std::optional<std::size_t> index = choice_index(node, what, names);
        if (!index) return std::nullopt;
        return (choices.begin() + *index)->second;
    }

private:
    std::optional<std::size_t> choice_index(const ConfigNode& node, std::string_view what,
                                            const std::vector<std::string>& names);

    std::vector<Error>& errors_;
};

/// Reads the keys of one map node. Every key a caller asks about (optional, required, allow)
/// becomes known; finish() then reports each other key of the map as unknown, with a
/// did-you-mean among the known keys. When the node is not a map, the constructor records the
/// error and every lookup returns nullptr.
class MapReader {
public:
    /// `what` names the map in messages: "pipeline `p`", "source `orders`", "sink".
    MapReader(ConfigReader& reader, const ConfigNode& node, std::string what);

    bool is_map() const { return map_ != nullptr; }
    const std::string& what() const { return what_; }
    /// The map's location (for errors about the map as a whole).
    SourceLocation location() const;

    /// The value of `key`, or nullptr when absent. A null value is returned as it is.
    const ConfigNode* optional(std::string_view key);
    /// Like optional(), but records "<what> is missing `key`" at the map when the key is absent
    /// or its value null, and returns nullptr then.
    const ConfigNode* required(std::string_view key);
    /// Marks keys as known without reading them (read elsewhere, or reserved).
    void allow(std::initializer_list<std::string_view> keys);
    /// The location of `key` itself; the map's location when absent.
    SourceLocation key_location(std::string_view key) const;

    /// Reports the unknown keys. Call once, after every lookup.
    void finish();

private:
    void remember(std::string_view key);

    ConfigReader& reader_;
    const ConfigNode* map_;
    std::string what_;
    SourceLocation location_;
    std::vector<std::string> known_;
};

/// "`key` of <what>": the usual way to name a value inside a map in messages.
std::string key_of(std::string_view key, std::string_view what);

/// "<kind> `name`" for a document whose `name` is a scalar, else just "<kind>": how messages
/// name a pipeline or job before its name has been checked.
std::string document_what(const ConfigNode& root, std::string_view kind);

}  // namespace millrace
