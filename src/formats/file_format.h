#pragma once

#include <optional>
#include <string_view>

namespace millrace {

/// The text formats files can have. Parquet joins with the lake issue.
enum class FileFormat { kJson, kCsv };

std::string_view file_format_name(FileFormat format);

/// "json", "ndjson", "jsonl" → kJson; "csv", "tsv" → kCsv (case-insensitive).
std::optional<FileFormat> parse_file_format(std::string_view name);

/// The format a path's extension suggests (.json .ndjson .jsonl .csv .tsv, after stripping a
/// trailing .gz is not supported yet), or nullopt.
std::optional<FileFormat> file_format_from_path(std::string_view path);

}  // namespace millrace
