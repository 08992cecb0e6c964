#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "types/batch.h"
#include "types/schema.h"
#include "types/value.h"

namespace millrace {

/// How a lake table splits its rows into Hive-style partition folders. Each item of
/// `partition_by` is one path level:
///
///   item                  folder                        column types
///   store_id              store_id=42/                  bool, int32, int64, string, date
///   date(ts)              day=2026-11-23/               timestamp (UTC day) or date
///   hour(ts)              hour=2026-11-23-05/           timestamp (UTC hour)
///   month(ts)             month=2026-11/                timestamp or date
///   year(ts)              year=2026/                    timestamp or date
///   bucket(16, id)        id_bucket=3/                  int32, int64, date, timestamp,
///                                                       string, bytes
///   truncate(4, name)     name_trunc=abcd/              int32, int64, string
///   date(ts) as d         d=2026-11-23/                 (`as` renames any item)
///
/// A null value goes to `<name>=__HIVE_DEFAULT_PARTITION__`; string values are percent-encoded
/// where a path or Hive would misread them (/ = % and control bytes). Plain columns stay in the
/// data files as well, so every file is complete on its own; DuckDB's hive_partitioning reads the
/// same value back from the path. (The SQL engine will bring general expressions; this parser
/// knows the forms above.)
///
/// Each item is an Iceberg partition field: a column is the `identity` transform, date(), hour(),
/// month() and year() are `day`, `hour`, `month` and `year`, whose values (partition_values) are
/// days, hours, months and years since 1970 as the Iceberg specification defines them;
/// bucket(N, col) is `bucket[N]` (Murmur3 x86 32-bit hash of the value's Iceberg hash bytes,
/// modulo N) and truncate(W, col) is `truncate[W]` (integers rounded down to a multiple of W,
/// strings cut to W code points).
class PartitionSpec {
public:
    struct Item {
        enum class Kind { kColumn, kDay, kHour, kMonth, kYear, kBucket, kTruncate };
        Kind kind = Kind::kColumn;
        std::size_t column = 0;  // index in the schema
        int32_t width = 0;       // N of bucket(N, col), W of truncate(W, col)
        std::string name;        // folder key
        std::string text;        // as written, for manifests and messages
    };

    static Result<PartitionSpec> parse(const std::vector<std::string>& partition_by,
                                       const Schema& schema);

    bool empty() const { return items_.empty(); }
    const std::vector<Item>& items() const { return items_; }

    /// The relative folder of every row ("" for an unpartitioned table), e.g.
    /// "day=2026-11-23/store_id=42". Rows of one folder are consecutive in most inputs, so the
    /// result is run-length friendly but nothing depends on it.
    std::vector<std::string> folders(const Batch& batch) const;

    /// The Iceberg transform of an item: identity, day, hour, month, year, bucket[N],
    /// truncate[W].
    static std::string transform(const Item& item);

    /// The Iceberg partition tuple of a folder this spec made: one Value per item (identity:
    /// the column's type; day: a date; hour, month, year: int32 counts since 1970; null for
    /// __HIVE_DEFAULT_PARTITION__). kCorruption when the folder does not match the spec.
    Result<std::vector<Value>> partition_values(std::string_view folder,
                                                const Schema& schema) const;

    /// Iceberg's 32-bit hash (Murmur3 x86 32, seed 0) of a non-null value, as bucket[N] uses it:
    /// integers, dates and timestamps hash as 8 little-endian bytes, strings and bytes as
    /// their bytes.
    static int32_t iceberg_hash(const Value& value);

    /// key=value pairs of a folder path.
    static std::vector<std::pair<std::string, std::string>> split_folder(std::string_view folder);

private:
    std::vector<Item> items_;
};

}  // namespace millrace
