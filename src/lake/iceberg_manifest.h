#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "formats/avro_schema.h"
#include "lake/manifest.h"
#include "lake/partition_spec.h"
#include "types/schema.h"
#include "types/value.h"

namespace millrace {

/// One file a manifest lists (Iceberg spec, "Manifests": manifest_entry and data_file).
/// Status 0 EXISTING (carried over from an older manifest, with its snapshot and sequence
/// number written out), 1 ADDED (by `snapshot_id`; sequence number inherited from the manifest
/// list when written as null), 2 DELETED.
struct IcebergManifestEntry {
    int status = 1;
    DataFile file;
};

/// One manifest as a manifest list names it (Iceberg spec, "Manifest Lists": manifest_file).
/// `partitions` is kept as decoded so that a manifest reused by a later snapshot is listed
/// with its summaries unchanged.
struct IcebergManifestFile {
    std::string path;  // absolute
    int content = 0;   // 0 data files, 1 delete files
    int64_t length = 0;
    int64_t sequence_number = 0;
    int64_t min_sequence_number = 0;
    int64_t added_snapshot_id = 0;
    int32_t added_files = 0;
    int32_t existing_files = 0;
    int32_t deleted_files = 0;
    int64_t added_rows = 0;
    int64_t existing_rows = 0;
    int64_t deleted_rows = 0;
    AvroValue partitions;  // null or an array of field_summary records
};

/// The Avro manifests and manifest lists of a Millrace Iceberg table, with the field ids of the
/// specification. Manifests (`metadata/<uuid>-m0.avro`) hold, per data file: content 0,
/// file_path (absolute: table location + relative path), file_format PARQUET, the partition
/// tuple (one nullable field per partition field, ids from 1000), record_count,
/// file_size_in_bytes, value_counts, null_value_counts, lower_bounds and upper_bounds keyed by
/// column id, bounds in the single-value binary serialization (iceberg_bound). Their Avro file
/// metadata carries schema, schema-id, partition-spec, partition-spec-id, format-version 2 and
/// content "data" (or "deletes": position and equality delete files, with equality_ids).
/// Manifest lists (`metadata/snap-<id>-<attempt>-<uuid>.avro`) list the
/// manifests of one snapshot.
class IcebergManifestCodec {
public:
    /// `field_ids`: the columns' ids (TableMetadata::field_ids), which statistics are keyed by;
    /// empty means 1, 2, 3... `float_ids`: the ids of Iceberg `float` columns, whose bounds are
    /// written as 4-byte floats (TableMetadata::float_ids).
    IcebergManifestCodec(Schema schema, PartitionSpec spec, std::string location,
                         std::vector<int32_t> field_ids = {}, std::vector<int32_t> float_ids = {});

    /// A manifest of data files, or (`deletes`) of delete files: all entries of one kind.
    /// A position delete file's referenced data file is written as the lower and upper bound
    /// of its `file_path` column (field id 2147483546), as Iceberg's writers do.
    Result<std::string> encode_manifest(const std::vector<IcebergManifestEntry>& entries,
                                        int64_t snapshot_id, bool deletes = false) const;
    /// The live files of a manifest (status 0 and 1), each with its snapshot and data sequence
    /// number (inherited from `manifest` when null), data and delete files (DataFile::content).
    /// Paths come back relative to the table;
    /// a path outside the table location, or escaping it with `..`, is kCorruption.
    Result<std::vector<DataFile>> decode_manifest(std::string bytes,
                                                  const IcebergManifestFile& manifest) const;

    /// Summaries (contains_null, lower and upper bound per partition field) of `files`.
    AvroValue partition_summaries(const std::vector<DataFile>& files) const;

    static Result<std::string> encode_manifest_list(const std::vector<IcebergManifestFile>& list,
                                                    int64_t snapshot_id,
                                                    std::optional<int64_t> parent_id,
                                                    int64_t sequence_number);
    static Result<std::vector<IcebergManifestFile>> decode_manifest_list(std::string bytes,
                                                                         const std::string& source);

private:
    Schema schema_;
    PartitionSpec spec_;
    std::string location_;
    std::vector<int32_t> field_ids_;
    std::vector<int32_t> float_ids_;
    std::shared_ptr<const AvroSchema> manifest_schema_;
};

/// Iceberg's single-value binary serialization (spec Appendix D): boolean one byte, int and
/// date 4 bytes little-endian, long and timestamp 8 bytes little-endian, double IEEE 754
/// little-endian, string UTF-8 bytes, binary as is.
std::string iceberg_bound(const Value& value);
/// The bound of a `float` column (a kFloat64 Value): 4 bytes, IEEE 754 single precision
/// little-endian. A value that is not a float exactly is rounded outwards (down for a lower
/// bound, up for an upper one), so the bound still holds every value.
std::string iceberg_float_bound(const Value& value, bool upper);
/// The inverse for a column of `type`; a null Value when the bytes do not fit the type. A
/// double column takes 4-byte (float) bounds too: those of files written before the column was
/// widened from float.
Value value_from_iceberg_bound(DataType type, std::string_view bytes);

}  // namespace millrace
