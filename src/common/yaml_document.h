#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/config_node.h"
#include "common/result.h"

namespace millrace {

/// Bounds on what a YAML document may cost, so hostile or broken input (deep nesting, alias
/// bombs, huge files) fails with an Error instead of exhausting stack or memory.
struct YamlLimits {
    std::size_t max_bytes = 8u << 20;            // input size
    int max_depth = 64;                          // nesting of sequences and maps
    std::size_t max_nodes = 100'000;             // nodes built, aliases expanded included
    std::size_t max_expanded_bytes = 32u << 20;  // scalar text built, aliases expanded included
};

/// A parsed YAML configuration file: the adapter between yaml-cpp and the rest of Millrace.
///
/// The text is parsed into an immutable ConfigNode tree whose every node carries its
/// file:line:column (1-based), so any consumer can report errors where the user wrote the
/// thing. yaml-cpp stays inside yaml_document.cpp; none of its exceptions escape.
///
/// Accepted: one YAML document, UTF-8 (an initial byte order mark is skipped), scalar map keys,
/// unique within their map, anchors and aliases (an alias is a copy of its anchored node).
/// Errors (all with a location when one is known):
///   kParse             YAML syntax, invalid UTF-8, NUL bytes, several documents, a map key
///                      that is not a scalar, a duplicate key, an alias to an enclosing node
///   kResourceExhausted a YamlLimits bound was reached
///   kNotFound, kIo     load() could not read the file
class YamlDocument {
public:
    /// Parses `text`; `file` names it in locations (it is not opened).
    static Result<YamlDocument> parse(std::string_view text, std::string file,
                                      const YamlLimits& limits = {});
    /// Reads the file at `path` and parses it; locations name `path` as given.
    static Result<YamlDocument> load(const std::string& path, const YamlLimits& limits = {});

    const std::string& file() const { return file_; }
    /// The document's root; a null node for an empty document.
    const ConfigNode& root() const { return root_; }

private:
    YamlDocument(std::string file, ConfigNode root)
        : file_(std::move(file)), root_(std::move(root)) {}

    std::string file_;
    ConfigNode root_;
};

}  // namespace millrace
