#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "types/schema.h"

namespace millrace {

/// The table requests of the Iceberg REST catalog (the `CommitTableRequest` and
/// `CreateTableRequest` bodies of the REST catalog OpenAPI specification), applied to a lake
/// table's metadata JSON (iceberg_metadata.h). The HTTP side is server/iceberg_catalog_handler.h;
/// this file holds what can be tested without a server. Request bodies are untrusted input:
/// every malformed body is an Error, never a crash.
///
/// A commit request:
///
///   {"identifier": {...},                                    (optional, not checked)
///    "requirements": [{"type": "assert-current-schema-id", "current-schema-id": 0}, ...],
///    "updates": [{"action": "add-schema", "schema": {...}},
///                {"action": "set-current-schema", "schema-id": -1}, ...]}
///
/// Requirements: assert-create (always fails: the table exists), assert-table-uuid,
/// assert-ref-snapshot-id, assert-last-assigned-field-id, assert-current-schema-id,
/// assert-last-assigned-partition-id, assert-default-spec-id, assert-default-sort-order-id.
/// Updates: add-schema, set-current-schema, set-properties, remove-properties, and the no-ops
/// assign-uuid (same uuid), upgrade-format-version (to 2) and set-location (same location).
/// Snapshots, refs, partition specs and sort orders change only through Millrace's own writers.
///
/// Errors: kParse (not JSON, or not the request's shape), kInvalidArgument (a request that is
/// well-formed but cannot apply, e.g. a schema Millrace cannot read), kUnsupported (an update
/// this catalog does not perform), kUnavailable (a requirement does not hold: the client's view
/// of the table is stale; Iceberg's CommitFailedException).
struct TableCommitResult {
    std::string metadata_json;  // the new metadata file's text
    bool changed = false;       // false: no update changed anything, nothing to write
};

/// Applies `request_json` to `metadata_json`, the current metadata file (at `metadata_path`,
/// which the new metadata-log records). `now_ms` becomes last-updated-ms.
Result<TableCommitResult> apply_table_commit(std::string_view metadata_json,
                                             std::string_view request_json,
                                             const std::string& metadata_path, int64_t now_ms);

/// A CreateTableRequest: {"name", "schema", "partition-spec"?, "location"?, "properties"?,
/// "stage-create"?, "write-order"?}.
struct CreateTableRequest {
    std::string name;
    Schema schema;
    std::vector<std::string> partition_by;  // as PartitionSpec::parse takes it
    /// Columns of type `float`: double columns of `schema` stored as float
    /// (LakeTable::create's `float_columns`).
    std::vector<std::string> float_columns;
    std::map<std::string, std::string> properties;
    std::string location;  // "" = the lake's default
    bool stage_create = false;
};

/// Parses a CreateTableRequest. The schema must have primitive types Millrace stores (boolean,
/// int, long, float, double, string, binary, date, timestamptz/timestamp); the partition fields
/// identity, year, month, day, hour, bucket[N] or truncate[W] of its columns; a sort order, if
/// any, must be unsorted.
Result<CreateTableRequest> parse_create_table_request(std::string_view body);

}  // namespace millrace
