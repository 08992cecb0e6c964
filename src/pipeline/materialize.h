#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace millrace {

struct FeatureView;
class FeatureWriter;
struct Project;

struct MaterializeOptions {
    /// Only rows whose event time is at or after this (microseconds since the epoch).
    std::optional<int64_t> since_us;
};

struct MaterializeReport {
    std::string view;
    std::string table;
    uint64_t snapshot_id = 0;
    std::size_t files = 0;
    std::size_t files_skipped = 0;           // ruled out by --since and the manifest statistics
    uint64_t rows_read = 0;                  // rows of the table considered (after --since)
    uint64_t rows_written = 0;               // upserted
    uint64_t rows_rejected = 0;              // null key or unconvertible value
    std::vector<std::string> first_rejects;  // up to 5 reasons, "row 12 of <file>: ..."
    std::chrono::microseconds duration{0};
};

/// Loads a lake-sourced feature view (`source: { lake: { table, event_time } }`) from its lake
/// table into the online store through `writer`: every row (since `since_us`) is upserted, and
/// the store keeps the newest event time per key, which is "the latest row per key" without a
/// sort or a second pass, and makes re-runs idempotent. The table's current snapshot is read,
/// so a run sees one consistent version of it.
///
/// Errors: kNotFound when the table does not exist (yet) or lacks a key, feature or event-time
/// column; kInvalidArgument for a view whose source is not a lake table.
Result<MaterializeReport> materialize_view(const Project& project, const FeatureView& view,
                                           FeatureWriter& writer,
                                           const MaterializeOptions& options);

/// The report as one JSON object (the server's answer to `POST /v1/admin/materialize/{view}`):
/// {"view", "table", "snapshot_id", "files", "files_skipped", "rows_read", "rows_written",
///  "rows_rejected", "rejects": [...], "seconds"}.
std::string materialize_report_json(const MaterializeReport& report);
/// Reads materialize_report_json's output back (the CLI, when a server did the work).
Result<MaterializeReport> parse_materialize_report(std::string_view json);
/// One human line: "user_features ← lake table user_features (snapshot 3): 1000 rows read, ..."
std::string format_materialize_report(const MaterializeReport& report);

}  // namespace millrace
