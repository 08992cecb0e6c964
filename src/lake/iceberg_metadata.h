#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "lake/partition_spec.h"
#include "types/schema.h"

namespace millrace {

/// One snapshot as the table metadata lists it (Iceberg spec, "Snapshots").
struct IcebergSnapshot {
    int64_t snapshot_id = 0;
    std::optional<int64_t> parent_id;
    int64_t sequence_number = 0;
    int64_t timestamp_ms = 0;
    /// Absolute path of the snapshot's manifest list (metadata/snap-<id>-<n>-<uuid>.avro).
    std::string manifest_list;
    /// "operation" (append, overwrite, replace, delete) and the counts the spec suggests
    /// (added-data-files, deleted-data-files, added-records, deleted-records, total-records,
    /// total-data-files), plus Millrace's own keys:
    ///   millrace.operation   create, append, overwrite, compact, delete, upsert (the
    ///                        operation as Millrace names it; compact is Iceberg's `replace`,
    ///                        upsert its `overwrite`)
    ///   millrace.writers     JSON object: two-phase-commit writer -> last checkpoint committed
    ///   millrace.progress    JSON object: per writer, what an unfinished multi-commit import
    ///                        committed (see Manifest::progress)
    std::map<std::string, std::string> summary;
    /// The current schema when the snapshot was committed.
    int64_t schema_id = 0;
};

/// The table metadata file of an Iceberg format-version 2 table, `metadata/v<N>.metadata.json`,
/// the one source of truth of a lake table:
///
///   {"format-version": 2, "table-uuid": "…", "location": "/data/lake/orders",
///    "last-sequence-number": 3, "last-updated-ms": …, "last-column-id": 8,
///    "current-schema-id": 0, "schemas": [{"type": "struct", "schema-id": 0, "fields": [
///        {"id": 1, "name": "order_id", "required": true, "type": "string"}, …]}],
///    "default-spec-id": 0, "partition-specs": [{"spec-id": 0, "fields": [
///        {"source-id": 4, "field-id": 1000, "name": "day", "transform": "day"}]}],
///    "last-partition-id": 1000, "default-sort-order-id": 0,
///    "sort-orders": [{"order-id": 0, "fields": []}],
///    "properties": {"millrace.created-at-ms": "…"},
///    "current-snapshot-id": 3,
///    "refs": {"main": {"snapshot-id": 3, "type": "branch"}},
///    "snapshots": [{"snapshot-id": 3, "parent-snapshot-id": 2, "sequence-number": 3,
///                   "timestamp-ms": …, "manifest-list": "/data/lake/orders/metadata/snap-….avro",
///                   "summary": {"operation": "append", …}, "schema-id": 0}, …],
///    "snapshot-log": [{"timestamp-ms": …, "snapshot-id": 1}, …],
///    "metadata-log": [{"timestamp-ms": …, "metadata-file": "/data/…/v1.metadata.json"}, …]}
///
/// Every column has a field id (`field_ids`), which the Parquet files carry too: readers match a
/// file's columns to the table's by id, never by name or position, so renamed, dropped,
/// reordered and widened columns read right from files written before the change (schema
/// evolution, `LakeTable::alter`). A new table numbers its columns 1, 2, 3...; ids are never
/// reused (`last_column_id`). Partition field ids start at 1000. Snapshot ids count up from 1 and
/// equal the sequence numbers: Millrace's "snapshot 0" is the empty table, which has no Iceberg
/// snapshot (current-snapshot-id is absent). Partitioning never changes after create; a schema
/// change
/// (`LakeTable::alter`, or the REST catalog's add-schema, catalog_requests.h) adds a schema with
/// a new id and keeps the others.
struct TableMetadata {
    std::string table_uuid;
    std::string location;
    int64_t last_sequence_number = 0;
    int64_t last_updated_ms = 0;
    Schema schema;
    /// The field id of each column of `schema`; empty means 1, 2, 3... (a new table).
    std::vector<int32_t> field_ids;
    /// The field ids of the columns whose Iceberg type is `float` (32-bit): Millrace reads them
    /// as double columns (kFloat64) and writes them as Parquet FLOAT with 4-byte bounds,
    /// rounding each value to float precision (docs/lake.md, "Float columns").
    std::vector<int32_t> float_ids;
    /// The id of `schema` (current-schema-id) and the table's other schemas as written (JSON
    /// text): schemas added through the REST catalog keep their ids across later commits.
    int64_t schema_id = 0;
    std::vector<std::string> other_schemas;
    /// The highest column id any schema used (never below the current schema's).
    int64_t last_column_id = 0;
    std::vector<std::string> partition_by;  // as PartitionSpec::parse takes it
    std::map<std::string, std::string> properties;
    std::optional<int64_t> current_snapshot_id;
    std::vector<IcebergSnapshot> snapshots;
    std::vector<std::pair<int64_t, int64_t>> snapshot_log;      // timestamp-ms, snapshot-id
    std::vector<std::pair<int64_t, std::string>> metadata_log;  // timestamp-ms, metadata-file

    const IcebergSnapshot* find(int64_t snapshot_id) const;
    /// `field_ids`, or 1, 2, 3... when it is empty.
    std::vector<int32_t> column_ids() const;

    std::string to_json() const;
    /// Parses metadata this writer (or another Iceberg v2 writer with the types Millrace has)
    /// wrote; kCorruption naming `source` when it does not parse or is not a v2 table.
    static Result<TableMetadata> parse(std::string_view json, const std::string& source);
};

/// The Iceberg schema JSON of a Millrace schema ({"type": "struct", "schema-id": 0, ...}).
/// `field_ids` are the columns' ids (empty: 1, 2, 3...); the double columns whose id is in
/// `float_ids` are written with type `float`.
std::string iceberg_schema_json(const Schema& schema, int64_t schema_id = 0,
                                const std::vector<int32_t>& field_ids = {},
                                const std::vector<int32_t>& float_ids = {});
/// The Iceberg partition spec JSON ({"spec-id": 0, "fields": [...]}); source ids are the
/// columns' `field_ids` (empty: positions + 1).
std::string iceberg_partition_spec_json(const PartitionSpec& spec,
                                        const std::vector<int32_t>& field_ids = {});
/// The Iceberg type name of a column type (boolean, int, long, double, string, binary,
/// timestamptz, date); `float` for a kFloat64 column stored as float (`is_float`).
std::string_view iceberg_type_name(DataType type, bool is_float = false);

/// Whether `id` is among `float_ids` (TableMetadata::float_ids).
bool is_float_id(const std::vector<int32_t>& float_ids, int32_t id);
/// The positions of the columns (of ids `field_ids`) that are in `float_ids`: what
/// ParquetWriterOptions::float_columns takes.
std::vector<std::size_t> float_positions(const std::vector<int32_t>& field_ids,
                                         const std::vector<int32_t>& float_ids);

/// A random UUID (version 4) in its 36-character text form.
std::string random_uuid();

}  // namespace millrace
