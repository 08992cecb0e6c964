#include "formats/file_format.h"

#include <cctype>
#include <string>

namespace millrace {

std::string_view file_format_name(FileFormat format) {
    switch (format) {
        case FileFormat::kJson:
            return "json";
        case FileFormat::kCsv:
            return "csv";
        case FileFormat::kParquet:
            return "parquet";
    }
    return "unknown";
}

std::optional<FileFormat> parse_file_format(std::string_view name) {
    std::string lower;
    for (char c : name)
        lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    if (lower == "json" || lower == "ndjson" || lower == "jsonl") return FileFormat::kJson;
    if (lower == "csv" || lower == "tsv") return FileFormat::kCsv;
    if (lower == "parquet" || lower == "pq") return FileFormat::kParquet;
    return std::nullopt;
}

std::optional<FileFormat> file_format_from_path(std::string_view path) {
    const std::size_t dot = path.rfind('.');
    const std::size_t slash = path.rfind('/');
    if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) {
        return std::nullopt;
    }
    return parse_file_format(path.substr(dot + 1));
}

}  // namespace millrace
