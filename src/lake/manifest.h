#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "formats/parquet/column_statistics.h"
#include "types/schema.h"

namespace millrace {

/// One live Parquet file of a lake table.
struct DataFile {
    std::string path;  // relative to the table folder, e.g. "day=2026-11-23/part-….parquet"
    std::vector<std::pair<std::string, std::string>> partition;  // key=value of its folder
    uint64_t rows = 0;
    uint64_t bytes = 0;
    std::vector<ColumnStatistics> columns;  // schema order
    /// Iceberg: the snapshot that added the file and its data sequence number (0 for a file not
    /// yet committed; a commit fills both in).
    int64_t added_snapshot_id = 0;
    int64_t sequence_number = 0;
    /// Iceberg content: data, or a delete file (merge-on-read row-level deletes). A position
    /// delete file holds (file_path, pos) rows of one data file, `referenced_file` (relative);
    /// it applies to that file when the file's sequence number is <= its own. An equality
    /// delete file holds key rows (`equality_ids`, the key columns' field ids); it applies to
    /// data files of its partition with a sequence number below its own.
    enum class Content { kData = 0, kPositionDeletes = 1, kEqualityDeletes = 2 };
    Content content = Content::kData;
    std::string referenced_file;
    std::vector<int32_t> equality_ids;
};

/// One snapshot of a lake table as Millrace reads it: the complete list of its live files, read
/// from the table's Iceberg metadata (lake_table.h, iceberg_metadata.h, iceberg_manifest.h).
///
/// The JSON form below is not a table format any more: it is the pre-commit record a LakeWriter
/// keeps in its staging folder (`ckpt-<id>.json`), and the format of tables written before the
/// lake became Iceberg (`_manifest/v<10-digit id>.json`), which `millrace lake upgrade` reads:
///
///   {"format": 1, "snapshot_id": 3, "parent_id": 2, "committed_at": "2026-11-23T21:00:00Z",
///    "operation": "append", "schema": "id: int64 not null, ts: timestamp",
///    "partition_by": ["date(ts)"], "writers": {"sink-1": 17},
///    "progress": {"import:/data/orders.csv": "input /data/orders.csv\nsize 1234\n…"},
///    "files": [{"path": "day=2026-11-23/part-3f…-0.parquet", "partition": {"day": "2026-11-23"},
///               "rows": 1000, "bytes": 4096,
///               "columns": {"id": {"min": "1", "max": "1000", "nulls": 0}, …}}]}
///
/// An equality delete file (an upsert writer's) carries `"equality_ids": [1]` and no columns.
/// Statistic values are strings in a per-type text form (integers, days and microseconds as
/// decimal, doubles with 17 digits, bytes as hex) so that no JSON number loses precision.
/// `writers` holds the last checkpoint each two-phase-commit writer committed, which makes a
/// replayed commit a no-op. `progress` holds, per writer, what an unfinished multi-commit job
/// (`lake import --commit-rows`) has committed so far, set atomically with each of its commits
/// and erased by its last one: a re-run resumes from it instead of duplicating rows.
struct Manifest {
    uint64_t snapshot_id = 0;
    uint64_t parent_id = 0;
    int64_t committed_at_micros = 0;
    std::string operation = "create";  // create, append, overwrite, compact, delete
    std::string schema_text;
    std::vector<std::string> partition_by;
    std::map<std::string, uint64_t> writers;
    std::map<std::string, std::string> progress;
    std::vector<DataFile> files;
    /// Live delete files (DataFile::content not kData); empty in the JSON form.
    std::vector<DataFile> deletes;

    /// Rows of the data files less those position delete files delete.
    uint64_t total_rows() const;
    uint64_t total_bytes() const;

    std::string to_json(const Schema& schema) const;
    /// Parses a manifest; `source` names it in errors.
    static Result<Manifest> parse(std::string_view json, const std::string& source);
};

/// The schema a manifest's text describes.
Result<Schema> manifest_schema(const Manifest& manifest);

}  // namespace millrace
