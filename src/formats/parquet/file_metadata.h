#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace millrace::parquet {

// The subset of the Parquet format's Thrift structs (parquet.thrift) Millrace reads and writes,
// with the spec's field ids in comments. Fields we never use are skipped when reading.

enum class PhysicalType : int32_t {
    kBoolean = 0,
    kInt32 = 1,
    kInt64 = 2,
    kInt96 = 3,
    kFloat = 4,
    kDouble = 5,
    kByteArray = 6,
    kFixedLenByteArray = 7,
};

enum class Repetition : int32_t { kRequired = 0, kOptional = 1, kRepeated = 2 };

enum class ConvertedType : int32_t {
    kUtf8 = 0,
    kEnum = 4,
    kDecimal = 5,
    kDate = 6,
    kTimestampMillis = 9,
    kTimestampMicros = 10,
    kInt8 = 15,
    kInt16 = 16,
    kInt32 = 17,
    kInt64 = 18,
    kJson = 19,
};

enum class Encoding : int32_t {
    kPlain = 0,
    kPlainDictionary = 2,
    kRle = 3,
    kBitPacked = 4,
    kDeltaBinaryPacked = 5,
    kDeltaLengthByteArray = 6,
    kDeltaByteArray = 7,
    kRleDictionary = 8,
    kByteStreamSplit = 9,
};
std::string_view encoding_name(int32_t encoding);

enum class Codec : int32_t {
    kUncompressed = 0,
    kSnappy = 1,
    kGzip = 2,
    kLzo = 3,
    kBrotli = 4,
    kLz4 = 5,
    kZstd = 6,
    kLz4Raw = 7,
};
std::string_view codec_name(int32_t codec);

enum class PageType : int32_t {
    kDataPage = 0,
    kIndexPage = 1,
    kDictionaryPage = 2,
    kDataPageV2 = 3
};

enum class TimeUnit : int8_t { kNone, kMillis, kMicros, kNanos };

/// LogicalType union: only the members Millrace maps (1 STRING, 6 DATE, 8 TIMESTAMP, 10 INTEGER,
/// 12 JSON, 4 ENUM); any other member is remembered as `other`.
struct LogicalType {
    enum class Kind { kNone, kString, kDate, kTimestamp, kInteger, kJson, kEnum, kOther };
    Kind kind = Kind::kNone;
    bool adjusted_to_utc = false;     // TIMESTAMP (1)
    TimeUnit unit = TimeUnit::kNone;  // TIMESTAMP (2)
    int8_t bit_width = 0;             // INTEGER (1)
    bool is_signed = true;            // INTEGER (2)
};

struct SchemaElement {
    std::optional<PhysicalType> type;        // 1
    std::optional<int32_t> type_length;      // 2
    std::optional<Repetition> repetition;    // 3
    std::string name;                        // 4
    std::optional<int32_t> num_children;     // 5
    std::optional<ConvertedType> converted;  // 6
    std::optional<int32_t> field_id;         // 9 (Iceberg column ids)
    LogicalType logical;                     // 10
};

struct Statistics {
    std::optional<std::string> max;        // 1 (deprecated, signed order)
    std::optional<std::string> min;        // 2
    std::optional<int64_t> null_count;     // 3
    std::optional<std::string> max_value;  // 5
    std::optional<std::string> min_value;  // 6
};

struct ColumnMetaData {
    PhysicalType type = PhysicalType::kInt32;       // 1
    std::vector<int32_t> encodings;                 // 2
    std::vector<std::string> path;                  // 3
    int32_t codec = 0;                              // 4
    int64_t num_values = 0;                         // 5
    int64_t total_uncompressed_size = 0;            // 6
    int64_t total_compressed_size = 0;              // 7
    int64_t data_page_offset = 0;                   // 9
    std::optional<int64_t> dictionary_page_offset;  // 11
    std::optional<Statistics> statistics;           // 12
};

struct ColumnChunk {
    int64_t file_offset = 0;  // 2
    ColumnMetaData meta;      // 3 (required by Millrace: chunks in other files are unsupported)
    bool has_meta = false;
    bool has_file_path = false;  // 1
};

struct RowGroup {
    std::vector<ColumnChunk> columns;              // 1
    int64_t total_byte_size = 0;                   // 2
    int64_t num_rows = 0;                          // 3
    std::optional<int64_t> file_offset;            // 5
    std::optional<int64_t> total_compressed_size;  // 6
    std::optional<int16_t> ordinal;                // 7
};

struct KeyValue {
    std::string key;                   // 1
    std::optional<std::string> value;  // 2
};

struct FileMetaData {
    int32_t version = 1;                     // 1
    std::vector<SchemaElement> schema;       // 2
    int64_t num_rows = 0;                    // 3
    std::vector<RowGroup> row_groups;        // 4
    std::vector<KeyValue> key_value;         // 5
    std::optional<std::string> created_by;   // 6
    bool type_defined_column_order = false;  // 7 (one TYPE_ORDER per leaf when true)
};

struct DataPageHeader {
    int32_t num_values = 0;                 // 1
    int32_t encoding = 0;                   // 2
    int32_t definition_level_encoding = 3;  // 3
    int32_t repetition_level_encoding = 3;  // 4
    std::optional<Statistics> statistics;   // 5
};

struct DictionaryPageHeader {
    int32_t num_values = 0;  // 1
    int32_t encoding = 0;    // 2
};

struct DataPageHeaderV2 {
    int32_t num_values = 0;                     // 1
    int32_t num_nulls = 0;                      // 2
    int32_t num_rows = 0;                       // 3
    int32_t encoding = 0;                       // 4
    int32_t definition_levels_byte_length = 0;  // 5
    int32_t repetition_levels_byte_length = 0;  // 6
    bool is_compressed = true;                  // 7
};

struct PageHeader {
    int32_t type = 0;                    // 1
    int32_t uncompressed_page_size = 0;  // 2
    int32_t compressed_page_size = 0;    // 3
    std::optional<int32_t> crc;          // 4: CRC-32 of the page bytes that follow the header
    std::optional<DataPageHeader> data;  // 5
    std::optional<DictionaryPageHeader> dictionary;  // 7
    std::optional<DataPageHeaderV2> data_v2;         // 8
};

/// Appends the compact-protocol encoding of a struct to `out`.
void serialize_file_metadata(const FileMetaData& metadata, std::string& out);
void serialize_page_header(const PageHeader& header, std::string& out);

/// Parses a footer's FileMetaData. Errors are kCorruption with what was wrong (no file name:
/// the caller adds it).
Result<FileMetaData> parse_file_metadata(std::string_view bytes);
/// Parses the page header at the start of `bytes`; `consumed` receives its length.
Result<PageHeader> parse_page_header(std::string_view bytes, std::size_t& consumed);

}  // namespace millrace::parquet
