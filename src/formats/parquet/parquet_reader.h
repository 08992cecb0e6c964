#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "formats/parquet/column_statistics.h"
#include "types/batch.h"
#include "types/schema.h"

namespace millrace {

struct ParquetReaderOptions {
    /// Row groups claiming more rows are rejected: a hostile footer (or a page of run-length
    /// nulls) must not make the reader allocate without bound.
    uint64_t max_row_group_rows = uint64_t{1} << 26;
    /// Check page CRC-32s where the writer recorded them (the fuzzer turns this off to reach the
    /// decoders with mutated pages).
    bool verify_checksums = true;
};

/// Which row groups a scan reads: a projection (column indices into schema(), in output order)
/// and predicates that skip row groups whose statistics rule them out.
struct ParquetScanOptions {
    std::vector<std::size_t> columns;  // empty = every column
    std::vector<ColumnPredicate> predicates;
};

/// Reads a Parquet file (ours or another writer's, see parquet_writer.h for the layout) into
/// Batches. The file is memory-mapped and the footer parsed and validated on open(); every
/// offset and length read later is checked against the file, so a truncated, corrupt or hostile
/// file yields a kCorruption / kUnsupported Error naming the file, never a crash.
///
/// Supported: flat schemas of BOOLEAN, INT32 (plain, INT_8/16/32, DATE), INT64 (plain,
/// TIMESTAMP millis/micros/nanos), FLOAT, DOUBLE, BYTE_ARRAY (STRING/UTF8/ENUM/JSON as string,
/// else bytes); PLAIN, PLAIN_DICTIONARY / RLE_DICTIONARY, RLE (booleans), DELTA_BINARY_PACKED
/// encodings; data pages v1 and v2; UNCOMPRESSED, SNAPPY, GZIP and ZSTD.
///
/// Immutable after open(): read_row_group() may run from several threads at once.
class ParquetReader {
public:
    static Result<std::unique_ptr<ParquetReader>> open(const std::string& path,
                                                       ParquetReaderOptions options = {});
    /// Reads a file held in memory; `name` stands for the path in messages.
    static Result<std::unique_ptr<ParquetReader>> from_bytes(std::string name, std::string bytes,
                                                             ParquetReaderOptions options = {});
    ~ParquetReader();
    ParquetReader(const ParquetReader&) = delete;
    ParquetReader& operator=(const ParquetReader&) = delete;

    const std::string& path() const;
    /// The file's columns as Millrace types (nullable = OPTIONAL).
    const std::shared_ptr<const Schema>& schema() const;
    uint64_t num_rows() const;
    std::size_t num_row_groups() const;
    uint64_t row_group_rows(std::size_t group) const;
    /// Statistics of one column chunk; min/max are null Values when the file has none.
    ColumnStatistics row_group_statistics(std::size_t group, std::size_t column) const;
    /// Statistics of one column over the whole file.
    ColumnStatistics file_statistics(std::size_t column) const;
    /// The Parquet field id of a column (Iceberg's column id), when the file carries one.
    std::optional<int32_t> field_id(std::size_t column) const;
    /// A key-value metadata entry of the footer (e.g. "millrace.schema").
    std::optional<std::string> metadata(const std::string& key) const;

    /// False when the statistics prove no row of the group satisfies every predicate.
    /// Predicates on unknown columns are an error; on columns without statistics, a pass.
    Result<bool> row_group_may_match(std::size_t group,
                                     std::span<const ColumnPredicate> predicates) const;

    /// Reads the given columns (indices into schema(), output in that order) of one row group.
    Result<Batch> read_row_group(std::size_t group, std::span<const std::size_t> columns) const;
    Result<Batch> read_row_group(std::size_t group) const;

    /// Reads every row group the predicates do not rule out, handing one Batch per row group to
    /// `on_batch`. Returns the number of row groups skipped.
    Result<std::size_t> scan(const ParquetScanOptions& options,
                             const std::function<Status(Batch)>& on_batch) const;

    /// Column indices of `names`, in order; kNotFound naming the missing column.
    Result<std::vector<std::size_t>> column_indices(std::span<const std::string> names) const;

    class Impl;

private:
    explicit ParquetReader(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace millrace
