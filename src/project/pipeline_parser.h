#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/config_node.h"
#include "common/result.h"
#include "project/project.h"

namespace millrace {

/// Parses the text of one pipeline file (docs/architecture.md §3) into a PipelineSpec, without
/// touching the disk: `file` only names the text in error locations, and relative paths in it
/// (file sources and sinks) resolve against `project_dir`.
///
/// Every problem found is appended to `errors` (when not null), each with file:line:column:
/// YAML syntax (kParse), unknown keys with a did-you-mean, missing keys and values of the wrong
/// kind (kConfig), bad column type specs and durations (kParse, pointing at the bad word),
/// event_time columns that are not timestamps (kTypeMismatch), and references to sources,
/// views or columns that do not exist (kConfig). Returns the spec when there was no problem,
/// else the first one.
Result<PipelineSpec> parse_pipeline(std::string_view text, const std::string& file,
                                    const std::string& project_dir, std::vector<Error>* errors);

/// The same, for a document already parsed (the project loader reads each file once to decide
/// what it defines). An optional top-level `kind: pipeline` is accepted.
Result<PipelineSpec> parse_pipeline_node(const ConfigNode& root, const std::string& file,
                                         const std::string& project_dir,
                                         std::vector<Error>* errors);

/// `path` made absolute against `base_dir` (unless already absolute) and normalized.
std::string resolve_path(const std::string& base_dir, const std::string& path);

}  // namespace millrace
