#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace millrace {

struct ConvertOptions {
    std::string input;       // "-" = standard input (then --from is needed)
    std::string output;      // "-" = standard output
    std::string schema;      // compact one-line schema; empty = infer from the input
    std::string from;        // json|csv|parquet; empty = from the input's extension
    std::string to;          // json|csv|parquet; empty = from the output's extension
    std::string errors;      // NDJSON file for rejected records; empty = print a few
    std::string delimiter;   // CSV delimiter (one character, or "tab"); empty = , or tab for .tsv
    bool no_header = false;  // CSV input without / output without a header line
    std::optional<std::string> null_marker;  // CSV text meaning null
    std::string epoch_unit = "auto";         // JSON numbers in timestamp columns
    std::size_t batch_rows = 8192;
    std::optional<uint64_t> max_errors;    // fail (exit 1) when more records are rejected
    std::string compression = "zstd";      // Parquet output: zstd, snappy or none
    std::size_t row_group_rows = 1 << 20;  // Parquet output
};

/// `millrace convert`: decodes a file with a schema and encodes it in another format, streaming
/// batch by batch. Prints a summary to stderr; returns the exit code.
int run_convert(const ConvertOptions& options);

}  // namespace millrace
