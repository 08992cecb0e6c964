#pragma once

#include <optional>
#include <string_view>

namespace millrace {

/// The formats files can have: text (JSON, CSV) and columnar binary (Parquet, whose encoder
/// and decoder live in formats/parquet).
enum class FileFormat { kJson, kCsv, kParquet };

std::string_view file_format_name(FileFormat format);

/// "json", "ndjson", "jsonl" → kJson; "csv", "tsv" → kCsv; "parquet", "pq" → kParquet
/// (case-insensitive).
std::optional<FileFormat> parse_file_format(std::string_view name);

/// The format a path's extension suggests (.json .ndjson .jsonl .csv .tsv .parquet, after stripping
/// a trailing .gz is not supported yet), or nullopt.
std::optional<FileFormat> file_format_from_path(std::string_view path);

}  // namespace millrace
