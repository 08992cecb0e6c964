#include "formats/parquet/parquet_reader.h"

#include <zlib.h>

#include <cstring>

#include "common/mapped_file.h"
#include "formats/parquet/file_metadata.h"
#include "formats/parquet/page_compressor.h"
#include "formats/parquet/rle_hybrid.h"

namespace millrace {

using parquet::Encoding;
using parquet::PhysicalType;

namespace {

constexpr std::size_t kMaxPageBytes = std::size_t{1} << 30;      // decompressed page cap
constexpr std::size_t kMaxPageValues = std::size_t{1} << 26;     // values in one page
constexpr std::size_t kMaxFooterBytes = std::size_t{256} << 20;  // footer length cap

// How a Parquet leaf maps onto a Millrace column.
struct ColumnInfo {
    PhysicalType physical = PhysicalType::kInt32;
    DataType type = DataType::kInt32;
    bool optional = false;
    int64_t multiply = 1;  // timestamps in millis
    int64_t divide = 1;    // timestamps in nanos
};

Result<ColumnInfo> map_column(const parquet::SchemaElement& e) {
    using Kind = parquet::LogicalType::Kind;
    using parquet::ConvertedType;
    ColumnInfo info;
    if (!e.type) return Error(ErrorCode::kUnsupported, "column `" + e.name + "` has no type");
    info.physical = *e.type;
    const parquet::Repetition repetition = e.repetition.value_or(parquet::Repetition::kOptional);
    if (repetition == parquet::Repetition::kRepeated) {
        return Error(ErrorCode::kUnsupported, "repeated column `" + e.name + "` is not supported");
    }
    info.optional = repetition == parquet::Repetition::kOptional;
    const bool decimal = e.converted == ConvertedType::kDecimal;
    if (decimal || e.logical.kind == Kind::kOther) {
        return Error(ErrorCode::kUnsupported,
                     "column `" + e.name + "` has an unsupported logical type");
    }
    switch (info.physical) {
        case PhysicalType::kBoolean:
            info.type = DataType::kBool;
            break;
        case PhysicalType::kInt32:
            info.type = (e.logical.kind == Kind::kDate || e.converted == ConvertedType::kDate)
                            ? DataType::kDate
                            : DataType::kInt32;
            break;
        case PhysicalType::kInt64:
            info.type = DataType::kInt64;
            if (e.logical.kind == Kind::kTimestamp) {
                info.type = DataType::kTimestamp;
                if (e.logical.unit == parquet::TimeUnit::kMillis) info.multiply = 1000;
                if (e.logical.unit == parquet::TimeUnit::kNanos) info.divide = 1000;
            } else if (e.converted == ConvertedType::kTimestampMicros) {
                info.type = DataType::kTimestamp;
            } else if (e.converted == ConvertedType::kTimestampMillis) {
                info.type = DataType::kTimestamp;
                info.multiply = 1000;
            }
            break;
        case PhysicalType::kFloat:
        case PhysicalType::kDouble:
            info.type = DataType::kFloat64;
            break;
        case PhysicalType::kByteArray: {
            const bool text =
                e.logical.kind == Kind::kString || e.logical.kind == Kind::kEnum ||
                e.logical.kind == Kind::kJson || e.converted == ConvertedType::kUtf8 ||
                e.converted == ConvertedType::kEnum || e.converted == ConvertedType::kJson;
            info.type = text ? DataType::kString : DataType::kBytes;
            break;
        }
        default:
            return Error(ErrorCode::kUnsupported,
                         "column `" + e.name + "` has unsupported physical type " +
                             std::to_string(static_cast<int>(info.physical)));
    }
    return info;
}

int64_t scale(const ColumnInfo& info, int64_t v) {
    if (info.multiply != 1) {
        // Milliseconds beyond ±292,000 years do not fit in microseconds: saturate.
        int64_t out = 0;
        if (__builtin_mul_overflow(v, info.multiply, &out)) {
            return v < 0 ? INT64_MIN : INT64_MAX;
        }
        return out;
    }
    if (info.divide != 1) {
        const int64_t q = v / info.divide;
        return (v % info.divide < 0) ? q - 1 : q;  // floor, so times before 1970 round down
    }
    return v;
}

Value decode_statistic(const ColumnInfo& info, const std::string& bytes) {
    auto load = [&](auto zero) -> std::optional<decltype(zero)> {
        if (bytes.size() != sizeof(zero)) return std::nullopt;
        std::memcpy(&zero, bytes.data(), sizeof(zero));
        return zero;
    };
    switch (info.physical) {
        case PhysicalType::kBoolean:
            if (bytes.size() != 1) return Value();
            return Value::boolean(bytes[0] != 0);
        case PhysicalType::kInt32: {
            auto v = load(int32_t{0});
            if (!v) return Value();
            return info.type == DataType::kDate ? Value::date(*v) : Value::int32(*v);
        }
        case PhysicalType::kInt64: {
            auto v = load(int64_t{0});
            if (!v) return Value();
            if (info.type == DataType::kTimestamp) return Value::timestamp(scale(info, *v));
            return Value::int64(*v);
        }
        case PhysicalType::kFloat: {
            auto v = load(float{0});
            return v ? Value::float64(*v) : Value();
        }
        case PhysicalType::kDouble: {
            auto v = load(double{0});
            return v ? Value::float64(*v) : Value();
        }
        case PhysicalType::kByteArray:
            return info.type == DataType::kString ? Value::string(bytes) : Value::bytes(bytes);
        default:
            return Value();
    }
}

uint32_t load_u32(const char* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

// Decodes DELTA_BINARY_PACKED integers (block of miniblocks, zigzag first value and min deltas).
class DeltaBinaryPackedDecoder {
public:
    DeltaBinaryPackedDecoder(const uint8_t* data, std::size_t size) : p_(data), end_(data + size) {}

    template <typename T>
    bool decode(std::vector<T>& out, std::size_t count) {
        uint64_t block_size, miniblocks, total;
        if (!varint(block_size) || !varint(miniblocks) || !varint(total)) return false;
        int64_t value;
        if (!zigzag(value)) return false;
        if (block_size == 0 || miniblocks == 0 || block_size % 128 != 0 ||
            block_size % miniblocks != 0 || block_size > (1u << 20)) {
            return false;
        }
        const std::size_t per_mini = block_size / miniblocks;
        if (per_mini % 32 != 0) return false;
        if (count == 0) return true;
        out.push_back(static_cast<T>(value));
        std::size_t produced = 1;
        std::vector<uint8_t> widths(miniblocks);
        while (produced < count) {
            int64_t min_delta;
            if (!zigzag(min_delta)) return false;
            if (static_cast<std::size_t>(end_ - p_) < miniblocks) return false;
            std::memcpy(widths.data(), p_, miniblocks);
            p_ += miniblocks;
            for (std::size_t m = 0; m < miniblocks && produced < count; ++m) {
                const int width = widths[m];
                if (width > 64) return false;
                const std::size_t bytes = per_mini * static_cast<std::size_t>(width) / 8;
                const std::size_t available = static_cast<std::size_t>(end_ - p_);
                const std::size_t n = std::min(per_mini, count - produced);
                // The last miniblock may be cut short by the writer: need only its used bits.
                const std::size_t needed = (n * static_cast<std::size_t>(width) + 7) / 8;
                if (needed > available) return false;
                for (std::size_t i = 0; i < n; ++i) {
                    uint64_t delta = 0;
                    const std::size_t bit = i * static_cast<std::size_t>(width);
                    for (int b = 0; b < width; ++b) {
                        const std::size_t at = bit + static_cast<std::size_t>(b);
                        delta |= static_cast<uint64_t>((p_[at / 8] >> (at % 8)) & 1) << b;
                    }
                    value = static_cast<int64_t>(static_cast<uint64_t>(value) +
                                                 static_cast<uint64_t>(min_delta) + delta);
                    out.push_back(static_cast<T>(value));
                }
                produced += n;
                p_ += std::min(bytes, available);
            }
        }
        return true;
    }
    const uint8_t* position() const { return p_; }

private:
    bool varint(uint64_t& out) {
        out = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (p_ >= end_) return false;
            const uint8_t byte = *p_++;
            out |= static_cast<uint64_t>(byte & 0x7F) << shift;
            if ((byte & 0x80) == 0) return true;
        }
        return false;
    }
    bool zigzag(int64_t& out) {
        uint64_t raw;
        if (!varint(raw)) return false;
        out = static_cast<int64_t>(raw >> 1) ^ -static_cast<int64_t>(raw & 1);
        return true;
    }

    const uint8_t* p_;
    const uint8_t* end_;
};

}  // namespace

class ParquetReader::Impl {
public:
    Impl(MappedFile file, ParquetReaderOptions options)
        : file_(std::move(file)), options_(options) {
        path_ = file_->path();
        bytes_ = file_->bytes();
    }
    Impl(std::string name, std::string bytes, ParquetReaderOptions options)
        : path_(std::move(name)), owned_(std::move(bytes)), options_(options) {
        bytes_ = owned_;
    }

    Status load() {
        const std::string_view bytes = bytes_;
        if (bytes.size() < 12)
            return corrupt("file of " + std::to_string(bytes.size()) +
                           " bytes is too short to be Parquet (truncated?)");
        if (bytes.substr(0, 4) != "PAR1") return corrupt("bad magic at the start (not Parquet)");
        if (bytes.substr(bytes.size() - 4) != "PAR1") {
            if (bytes.substr(bytes.size() - 4) == "PARE") {
                return Error(ErrorCode::kUnsupported,
                             path() + ": encrypted Parquet footers are not supported");
            }
            return corrupt("bad magic at the end (truncated or not Parquet)");
        }
        const uint32_t footer_length = load_u32(bytes.data() + bytes.size() - 8);
        if (footer_length > bytes.size() - 12 || footer_length > kMaxFooterBytes) {
            return corrupt("footer length " + std::to_string(footer_length) +
                           " exceeds the file size " + std::to_string(bytes.size()));
        }
        data_end_ = bytes.size() - 8 - footer_length;
        auto parsed = parquet::parse_file_metadata(bytes.substr(data_end_, footer_length));
        if (!parsed.ok()) return std::move(parsed).error().with_context(path());
        metadata_ = std::move(parsed).value();

        // Flat schema only: a root with one leaf per column.
        const auto& elements = metadata_.schema;
        const std::size_t leaves = elements.size() - 1;
        if (elements[0].num_children.value_or(-1) != static_cast<int32_t>(leaves)) {
            return Error(ErrorCode::kUnsupported,
                         path() + ": nested columns (groups, lists, maps) are not supported");
        }
        std::vector<Field> fields;
        for (std::size_t i = 1; i < elements.size(); ++i) {
            if (elements[i].num_children.value_or(0) != 0) {
                return Error(ErrorCode::kUnsupported, path() + ": nested column `" +
                                                          elements[i].name + "` is not supported");
            }
            auto info = map_column(elements[i]);
            if (!info.ok()) return std::move(info).error().with_context(path());
            columns_.push_back(*info);
            fields.push_back({elements[i].name, info->type, info->optional});
        }
        auto schema = Schema::make(std::move(fields));
        if (!schema.ok()) return std::move(schema).error().with_context(path());
        schema_ = std::make_shared<const Schema>(std::move(schema).value());

        if (metadata_.num_rows < 0) return corrupt("negative row count");
        int64_t total = 0;
        for (std::size_t g = 0; g < metadata_.row_groups.size(); ++g) {
            const parquet::RowGroup& group = metadata_.row_groups[g];
            if (group.num_rows < 0 ||
                static_cast<uint64_t>(group.num_rows) > options_.max_row_group_rows) {
                return corrupt("row group " + std::to_string(g) + " claims " +
                               std::to_string(group.num_rows) + " rows");
            }
            if (group.columns.size() != leaves) {
                return corrupt("row group " + std::to_string(g) + " has " +
                               std::to_string(group.columns.size()) + " column chunks for " +
                               std::to_string(leaves) + " columns");
            }
            for (std::size_t c = 0; c < leaves; ++c) {
                const parquet::ColumnChunk& chunk = group.columns[c];
                if (chunk.has_file_path || !chunk.has_meta) {
                    return Error(ErrorCode::kUnsupported,
                                 path() + ": column chunks in other files are not supported");
                }
                if (chunk.meta.type != columns_[c].physical) {
                    return corrupt("column chunk " + std::to_string(c) + " of row group " +
                                   std::to_string(g) + " has another type than its column");
                }
            }
            total += group.num_rows;
        }
        if (total != metadata_.num_rows) {
            return corrupt("row groups hold " + std::to_string(total) + " rows, footer says " +
                           std::to_string(metadata_.num_rows));
        }
        return {};
    }

    const std::string& path() const { return path_; }
    const std::shared_ptr<const Schema>& schema() const { return schema_; }
    const parquet::FileMetaData& metadata() const { return metadata_; }

    ColumnStatistics statistics(std::size_t group, std::size_t column) const {
        const parquet::RowGroup& g = metadata_.row_groups[group];
        const parquet::ColumnMetaData& meta = g.columns[column].meta;
        ColumnStatistics stats;
        stats.row_count = static_cast<uint64_t>(g.num_rows);
        if (!meta.statistics) {
            stats.null_count = 0;
            return stats;  // unknown range; null count unknown counts as 0 (never used to skip)
        }
        const parquet::Statistics& s = *meta.statistics;
        stats.null_count = static_cast<uint64_t>(std::max<int64_t>(0, s.null_count.value_or(0)));
        if (stats.null_count > stats.row_count) stats.null_count = stats.row_count;
        const ColumnInfo& info = columns_[column];
        if (s.min_value && s.max_value) {
            stats.min = decode_statistic(info, *s.min_value);
            stats.max = decode_statistic(info, *s.max_value);
        } else if (s.min && s.max && info.physical != PhysicalType::kByteArray) {
            // Deprecated fields are in signed order: right for numbers, wrong for bytes.
            stats.min = decode_statistic(info, *s.min);
            stats.max = decode_statistic(info, *s.max);
        }
        if (stats.min.is_null() || stats.max.is_null()) {
            stats.min = Value();
            stats.max = Value();
        }
        return stats;
    }

    Result<Batch> read_row_group(std::size_t group, std::span<const std::size_t> columns) const {
        if (group >= metadata_.row_groups.size()) {
            return Error(ErrorCode::kOutOfRange,
                         path() + ": no row group " + std::to_string(group));
        }
        std::vector<Field> fields;
        std::vector<std::shared_ptr<const Column>> out;
        const std::size_t rows = static_cast<std::size_t>(metadata_.row_groups[group].num_rows);
        for (std::size_t c : columns) {
            if (c >= columns_.size()) {
                return Error(ErrorCode::kOutOfRange, path() + ": no column " + std::to_string(c));
            }
            auto column = read_chunk(group, c);
            if (!column.ok()) {
                return std::move(column).error().with_context(path() + ", row group " +
                                                              std::to_string(group) + ", column `" +
                                                              schema_->field(c).name + "`");
            }
            out.push_back(std::make_shared<const Column>(std::move(column).value()));
            fields.push_back(schema_->field(c));
        }
        std::shared_ptr<const Schema> schema =
            fields.size() == schema_->size() && fields == schema_->fields()
                ? schema_
                : std::make_shared<const Schema>(std::move(fields));
        return Batch(std::move(schema), std::move(out), rows);
    }

private:
    Error corrupt(const std::string& what) const {
        return Error(ErrorCode::kCorruption, path() + ": " + what);
    }

    // Reads one column chunk into a Column of group.num_rows rows.
    Result<Column> read_chunk(std::size_t group, std::size_t c) const {
        const parquet::RowGroup& g = metadata_.row_groups[group];
        const parquet::ColumnMetaData& meta = g.columns[c].meta;
        const ColumnInfo& info = columns_[c];
        const uint64_t rows = static_cast<uint64_t>(g.num_rows);
        int64_t start = meta.data_page_offset;
        if (meta.dictionary_page_offset && *meta.dictionary_page_offset > 0 &&
            *meta.dictionary_page_offset < start) {
            start = *meta.dictionary_page_offset;
        }
        if (start < 4 || static_cast<uint64_t>(start) >= data_end_ ||
            meta.total_compressed_size < 0 ||
            static_cast<uint64_t>(meta.total_compressed_size) >
                data_end_ - static_cast<uint64_t>(start)) {
            return Error(ErrorCode::kCorruption, "column chunk offsets lie outside the file");
        }
        const std::string_view chunk = bytes_.substr(
            static_cast<std::size_t>(start), static_cast<std::size_t>(meta.total_compressed_size));
        switch (info.physical) {
            case PhysicalType::kBoolean:
                return decode_chunk<uint8_t>(chunk, meta, info, rows);
            case PhysicalType::kInt32:
                return decode_chunk<int32_t>(chunk, meta, info, rows);
            case PhysicalType::kInt64:
                return decode_chunk<int64_t>(chunk, meta, info, rows);
            case PhysicalType::kFloat:
                return decode_chunk<float>(chunk, meta, info, rows);
            case PhysicalType::kDouble:
                return decode_chunk<double>(chunk, meta, info, rows);
            case PhysicalType::kByteArray:
                return decode_chunk<std::string_view>(chunk, meta, info, rows);
            default:
                return Error(ErrorCode::kUnsupported, "unsupported physical type");
        }
    }

    // PLAIN-decodes `count` values of physical type P from `data`.
    template <typename P>
    static bool decode_plain(std::string_view data, std::size_t count, std::vector<P>& out) {
        if constexpr (std::is_same_v<P, std::string_view>) {
            std::size_t pos = 0;
            for (std::size_t i = 0; i < count; ++i) {
                if (data.size() - pos < 4) return false;
                const uint32_t n = load_u32(data.data() + pos);
                pos += 4;
                if (n > data.size() - pos) return false;
                out.emplace_back(data.data() + pos, n);
                pos += n;
            }
            return true;
        } else if constexpr (std::is_same_v<P, uint8_t>) {
            if (count > data.size() * 8) return false;
            for (std::size_t i = 0; i < count; ++i) {
                out.push_back(static_cast<uint8_t>((data[i >> 3] >> (i & 7)) & 1));
            }
            return true;
        } else {
            if (count > data.size() / sizeof(P)) return false;
            if (count == 0) return true;  // data.data() may be null
            const std::size_t start = out.size();
            out.resize(start + count);
            std::memcpy(out.data() + start, data.data(), count * sizeof(P));
            return true;
        }
    }

    template <typename P>
    void append(ColumnBuilder& builder, const ColumnInfo& info, const P& v) const {
        if constexpr (std::is_same_v<P, std::string_view>) {
            builder.append_string(v);
        } else if constexpr (std::is_same_v<P, uint8_t>) {
            builder.append<uint8_t>(v != 0 ? 1 : 0);
        } else if constexpr (std::is_same_v<P, float>) {
            builder.append<double>(static_cast<double>(v));
        } else if constexpr (std::is_same_v<P, int64_t>) {
            builder.append<int64_t>(info.type == DataType::kTimestamp ? scale(info, v) : v);
        } else {
            builder.append<P>(v);
        }
    }

    template <typename P>
    Result<Column> decode_chunk(std::string_view chunk, const parquet::ColumnMetaData& meta,
                                const ColumnInfo& info, uint64_t rows) const {
        ColumnBuilder builder(info.type,
                              static_cast<std::size_t>(std::min<uint64_t>(rows, 1 << 20)));
        parquet::PageCompressor compressor;
        std::string page_buffer;
        std::string dictionary_buffer;
        std::vector<P> dictionary;
        bool has_dictionary = false;
        std::vector<uint32_t> levels;
        std::vector<uint32_t> indices;
        std::vector<P> values;
        std::string delta_buffer;  // DELTA_BYTE_ARRAY values, rebuilt from prefixes
        uint64_t rows_read = 0;
        std::size_t pos = 0;
        while (rows_read < rows) {
            if (pos >= chunk.size()) {
                return Error(ErrorCode::kCorruption, "column chunk ends after " +
                                                         std::to_string(rows_read) + " of " +
                                                         std::to_string(rows) + " values");
            }
            std::size_t header_size = 0;
            MILLRACE_ASSIGN_OR_RETURN(parquet::PageHeader header,
                                      parquet::parse_page_header(chunk.substr(pos), header_size));
            pos += header_size;
            if (header.compressed_page_size < 0 || header.uncompressed_page_size < 0 ||
                static_cast<std::size_t>(header.compressed_page_size) > chunk.size() - pos ||
                static_cast<std::size_t>(header.uncompressed_page_size) > kMaxPageBytes) {
                return Error(ErrorCode::kCorruption, "page sizes exceed the column chunk");
            }
            const std::string_view page =
                chunk.substr(pos, static_cast<std::size_t>(header.compressed_page_size));
            pos += static_cast<std::size_t>(header.compressed_page_size);
            if (options_.verify_checksums && header.crc &&
                static_cast<uint32_t>(*header.crc) !=
                    ::crc32(0, reinterpret_cast<const Bytef*>(page.data()),
                            static_cast<uInt>(page.size()))) {
                return Error(ErrorCode::kCorruption, "page checksum mismatch (CRC-32)");
            }
            const std::size_t uncompressed =
                static_cast<std::size_t>(header.uncompressed_page_size);

            if (header.type == static_cast<int32_t>(parquet::PageType::kDictionaryPage)) {
                if (!header.dictionary)
                    return Error(ErrorCode::kCorruption, "dictionary page without header");
                if (has_dictionary) return Error(ErrorCode::kCorruption, "second dictionary page");
                const int32_t encoding = header.dictionary->encoding;
                if (encoding != static_cast<int32_t>(Encoding::kPlain) &&
                    encoding != static_cast<int32_t>(Encoding::kPlainDictionary)) {
                    return unsupported_encoding(encoding);
                }
                MILLRACE_TRY(
                    compressor.decompress(meta.codec, page, uncompressed, dictionary_buffer));
                const int32_t n = header.dictionary->num_values;
                if (n < 0 || static_cast<std::size_t>(n) > dictionary_buffer.size() * 8 + 1) {
                    return Error(ErrorCode::kCorruption, "bad dictionary size");
                }
                if (!decode_plain<P>(dictionary_buffer, static_cast<std::size_t>(n), dictionary)) {
                    return Error(ErrorCode::kCorruption, "dictionary page shorter than its values");
                }
                has_dictionary = true;
                continue;
            }
            const bool v1 = header.type == static_cast<int32_t>(parquet::PageType::kDataPage);
            const bool v2 = header.type == static_cast<int32_t>(parquet::PageType::kDataPageV2);
            if (!v1 && !v2) continue;  // index pages and unknown page types carry no values
            if ((v1 && !header.data) || (v2 && !header.data_v2)) {
                return Error(ErrorCode::kCorruption, "data page without its header");
            }
            const int32_t num_values = v1 ? header.data->num_values : header.data_v2->num_values;
            const int32_t encoding = v1 ? header.data->encoding : header.data_v2->encoding;
            if (num_values < 0 || static_cast<std::size_t>(num_values) > kMaxPageValues ||
                static_cast<uint64_t>(num_values) > rows - rows_read) {
                return Error(ErrorCode::kCorruption,
                             "data page claims " + std::to_string(num_values) + " values");
            }
            const std::size_t count = static_cast<std::size_t>(num_values);

            // Levels, then the values section.
            std::string_view body;
            std::string_view level_bytes;
            bool level_prefixed = true;
            if (v1) {
                MILLRACE_TRY(compressor.decompress(meta.codec, page, uncompressed, page_buffer));
                body = page_buffer;
            } else {
                const auto& h = *header.data_v2;
                if (h.repetition_levels_byte_length != 0) {
                    return Error(ErrorCode::kUnsupported, "repetition levels in a flat column");
                }
                if (h.definition_levels_byte_length < 0 ||
                    static_cast<std::size_t>(h.definition_levels_byte_length) > page.size()) {
                    return Error(ErrorCode::kCorruption, "level lengths exceed the page");
                }
                const std::size_t level_size =
                    static_cast<std::size_t>(h.definition_levels_byte_length);
                level_bytes = page.substr(0, level_size);
                level_prefixed = false;
                const std::string_view rest = page.substr(level_size);
                if (uncompressed < level_size)
                    return Error(ErrorCode::kCorruption, "bad page size");
                if (h.is_compressed && meta.codec != 0) {
                    MILLRACE_TRY(compressor.decompress(meta.codec, rest, uncompressed - level_size,
                                                       page_buffer));
                    body = page_buffer;
                } else {
                    body = rest;
                }
            }
            std::size_t non_null = count;
            if (info.optional) {
                std::string_view encoded = level_bytes;
                if (level_prefixed) {
                    if (v1 && header.data->definition_level_encoding !=
                                  static_cast<int32_t>(Encoding::kRle)) {
                        return unsupported_encoding(header.data->definition_level_encoding,
                                                    " for definition levels");
                    }
                    if (body.size() < 4)
                        return Error(ErrorCode::kCorruption, "page too short for levels");
                    const uint32_t n = load_u32(body.data());
                    if (n > body.size() - 4)
                        return Error(ErrorCode::kCorruption, "levels exceed the page");
                    encoded = body.substr(4, n);
                    body = body.substr(4 + n);
                }
                levels.resize(count);
                parquet::RleHybridDecoder decoder(reinterpret_cast<const uint8_t*>(encoded.data()),
                                                  encoded.size(), 1);
                if (!decoder.get(levels.data(), count)) {
                    return Error(ErrorCode::kCorruption, "bad definition levels");
                }
                non_null = 0;
                for (uint32_t level : levels) non_null += level;
            }

            values.clear();
            values.reserve(non_null);
            if (encoding == static_cast<int32_t>(Encoding::kPlain)) {
                if (!decode_plain<P>(body, non_null, values)) {
                    return Error(ErrorCode::kCorruption, "data page shorter than its values");
                }
            } else if (encoding == static_cast<int32_t>(Encoding::kRleDictionary) ||
                       encoding == static_cast<int32_t>(Encoding::kPlainDictionary)) {
                if (!has_dictionary)
                    return Error(ErrorCode::kCorruption,
                                 "dictionary-encoded page without a dictionary");
                if (non_null > 0) {
                    if (body.empty())
                        return Error(ErrorCode::kCorruption, "empty dictionary page data");
                    const int width = static_cast<uint8_t>(body[0]);
                    if (width > 32)
                        return Error(ErrorCode::kCorruption, "bad dictionary index width");
                    indices.resize(non_null);
                    parquet::RleHybridDecoder decoder(
                        reinterpret_cast<const uint8_t*>(body.data() + 1), body.size() - 1, width);
                    if (!decoder.get(indices.data(), non_null)) {
                        return Error(ErrorCode::kCorruption, "bad dictionary indices");
                    }
                    const std::size_t size = dictionary.size();
                    for (uint32_t index : indices) {
                        if (index >= size)
                            return Error(ErrorCode::kCorruption, "dictionary index out of range");
                        values.push_back(dictionary[index]);
                    }
                }
            } else if (encoding == static_cast<int32_t>(Encoding::kRle) &&
                       std::is_same_v<P, uint8_t>) {
                if constexpr (std::is_same_v<P, uint8_t>) {
                    if (body.size() < 4) return Error(ErrorCode::kCorruption, "page too short");
                    const uint32_t n = load_u32(body.data());
                    if (n > body.size() - 4)
                        return Error(ErrorCode::kCorruption, "RLE data exceeds the page");
                    indices.resize(non_null);
                    parquet::RleHybridDecoder decoder(
                        reinterpret_cast<const uint8_t*>(body.data() + 4), n, 1);
                    if (!decoder.get(indices.data(), non_null)) {
                        return Error(ErrorCode::kCorruption, "bad RLE booleans");
                    }
                    for (uint32_t b : indices) values.push_back(static_cast<P>(b != 0));
                }
            } else if (encoding == static_cast<int32_t>(Encoding::kDeltaBinaryPacked) &&
                       (std::is_same_v<P, int32_t> || std::is_same_v<P, int64_t>)) {
                if constexpr (std::is_same_v<P, int32_t> || std::is_same_v<P, int64_t>) {
                    DeltaBinaryPackedDecoder decoder(reinterpret_cast<const uint8_t*>(body.data()),
                                                     body.size());
                    if (!decoder.decode(values, non_null) || values.size() != non_null) {
                        return Error(ErrorCode::kCorruption, "bad DELTA_BINARY_PACKED data");
                    }
                }
            } else if ((encoding == static_cast<int32_t>(Encoding::kDeltaLengthByteArray) ||
                        encoding == static_cast<int32_t>(Encoding::kDeltaByteArray)) &&
                       std::is_same_v<P, std::string_view>) {
                if constexpr (std::is_same_v<P, std::string_view>) {
                    MILLRACE_TRY(
                        decode_delta_strings(encoding, body, non_null, values, delta_buffer));
                }
            } else if (encoding == static_cast<int32_t>(Encoding::kByteStreamSplit) &&
                       !std::is_same_v<P, std::string_view> && !std::is_same_v<P, uint8_t>) {
                if constexpr (!std::is_same_v<P, std::string_view> && !std::is_same_v<P, uint8_t>) {
                    // Byte k of value i is at k * count + i.
                    if (non_null > body.size() / sizeof(P)) {
                        return Error(ErrorCode::kCorruption,
                                     "BYTE_STREAM_SPLIT data shorter than its values");
                    }
                    values.resize(non_null);
                    for (std::size_t i = 0; i < non_null; ++i) {
                        unsigned char raw[sizeof(P)];
                        for (std::size_t k = 0; k < sizeof(P); ++k)
                            raw[k] = static_cast<unsigned char>(body[k * non_null + i]);
                        std::memcpy(&values[i], raw, sizeof(P));
                    }
                }
            } else {
                return unsupported_encoding(encoding);
            }

            if (!info.optional || non_null == count) {
                for (const P& v : values) append(builder, info, v);
            } else {
                std::size_t k = 0;
                for (std::size_t i = 0; i < count; ++i) {
                    if (levels[i] != 0) {
                        append(builder, info, values[k++]);
                    } else {
                        builder.append_null();
                    }
                }
            }
            rows_read += count;
        }
        return builder.finish();
    }

    // DELTA_LENGTH_BYTE_ARRAY: lengths (delta-packed), then the bytes back to back.
    // DELTA_BYTE_ARRAY: prefix lengths, then suffixes as DELTA_LENGTH_BYTE_ARRAY; value i is the
    // first prefix[i] bytes of value i-1 followed by suffix i.
    static Status decode_delta_strings(int32_t encoding, std::string_view body, std::size_t count,
                                       std::vector<std::string_view>& values, std::string& arena) {
        const uint8_t* data = reinterpret_cast<const uint8_t*>(body.data());
        const uint8_t* end = data + body.size();
        std::vector<int64_t> prefixes;
        if (encoding == static_cast<int32_t>(Encoding::kDeltaByteArray)) {
            DeltaBinaryPackedDecoder decoder(data, body.size());
            if (!decoder.decode(prefixes, count) || prefixes.size() != count) {
                return Error(ErrorCode::kCorruption, "bad DELTA_BYTE_ARRAY prefix lengths");
            }
            data = decoder.position();
        }
        std::vector<int64_t> lengths;
        DeltaBinaryPackedDecoder decoder(data, static_cast<std::size_t>(end - data));
        if (!decoder.decode(lengths, count) || lengths.size() != count) {
            return Error(ErrorCode::kCorruption, "bad DELTA_LENGTH_BYTE_ARRAY lengths");
        }
        data = decoder.position();
        const std::size_t available = static_cast<std::size_t>(end - data);
        std::size_t used = 0;
        for (int64_t length : lengths) {
            if (length < 0 || static_cast<uint64_t>(length) > available - used) {
                return Error(ErrorCode::kCorruption, "string lengths exceed the page");
            }
            used += static_cast<std::size_t>(length);
        }
        const char* bytes = reinterpret_cast<const char*>(data);
        if (prefixes.empty()) {
            for (int64_t length : lengths) {
                values.emplace_back(bytes, static_cast<std::size_t>(length));
                bytes += length;
            }
            return {};
        }
        // Size the arena first: values point into it, so it must not reallocate.
        uint64_t total = 0;
        uint64_t previous = 0;
        for (std::size_t i = 0; i < count; ++i) {
            if (prefixes[i] < 0 || static_cast<uint64_t>(prefixes[i]) > previous) {
                return Error(ErrorCode::kCorruption,
                             "DELTA_BYTE_ARRAY prefix longer than the previous value");
            }
            previous = static_cast<uint64_t>(prefixes[i]) + static_cast<uint64_t>(lengths[i]);
            total += previous;
            if (total > kMaxPageBytes)
                return Error(ErrorCode::kCorruption, "DELTA_BYTE_ARRAY values too large");
        }
        arena.clear();
        arena.reserve(total);
        std::string_view last;
        for (std::size_t i = 0; i < count; ++i) {
            const std::size_t start = arena.size();
            arena.append(last.substr(0, static_cast<std::size_t>(prefixes[i])));
            arena.append(bytes, static_cast<std::size_t>(lengths[i]));
            bytes += lengths[i];
            last = std::string_view(arena.data() + start, arena.size() - start);
            values.push_back(last);
        }
        return {};
    }

    static Error unsupported_encoding(int32_t encoding, const char* where = "") {
        return Error(ErrorCode::kUnsupported, "unsupported encoding " +
                                                  std::string(parquet::encoding_name(encoding)) +
                                                  " (" + std::to_string(encoding) + ")" + where);
    }

    std::optional<MappedFile> file_;
    std::string path_;
    std::string owned_;
    std::string_view bytes_;
    ParquetReaderOptions options_;
    parquet::FileMetaData metadata_;
    std::vector<ColumnInfo> columns_;
    std::shared_ptr<const Schema> schema_;
    uint64_t data_end_ = 0;  // where the footer starts
};

Result<std::unique_ptr<ParquetReader>> ParquetReader::open(const std::string& path,
                                                           ParquetReaderOptions options) {
    MILLRACE_ASSIGN_OR_RETURN(MappedFile file, MappedFile::open(path));
    auto impl = std::make_unique<Impl>(std::move(file), options);
    MILLRACE_TRY(impl->load());
    return std::unique_ptr<ParquetReader>(new ParquetReader(std::move(impl)));
}

Result<std::unique_ptr<ParquetReader>> ParquetReader::from_bytes(std::string name,
                                                                 std::string bytes,
                                                                 ParquetReaderOptions options) {
    auto impl = std::make_unique<Impl>(std::move(name), std::move(bytes), options);
    MILLRACE_TRY(impl->load());
    return std::unique_ptr<ParquetReader>(new ParquetReader(std::move(impl)));
}

ParquetReader::ParquetReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ParquetReader::~ParquetReader() = default;

const std::string& ParquetReader::path() const { return impl_->path(); }
const std::shared_ptr<const Schema>& ParquetReader::schema() const { return impl_->schema(); }
uint64_t ParquetReader::num_rows() const {
    return static_cast<uint64_t>(impl_->metadata().num_rows);
}
std::size_t ParquetReader::num_row_groups() const { return impl_->metadata().row_groups.size(); }
uint64_t ParquetReader::row_group_rows(std::size_t group) const {
    return static_cast<uint64_t>(impl_->metadata().row_groups.at(group).num_rows);
}
ColumnStatistics ParquetReader::row_group_statistics(std::size_t group, std::size_t column) const {
    return impl_->statistics(group, column);
}
ColumnStatistics ParquetReader::file_statistics(std::size_t column) const {
    ColumnStatistics total;
    for (std::size_t g = 0; g < num_row_groups(); ++g) total.merge(impl_->statistics(g, column));
    return total;
}
std::optional<int32_t> ParquetReader::field_id(std::size_t column) const {
    const auto& elements = impl_->metadata().schema;
    if (column + 1 >= elements.size()) return std::nullopt;
    return elements[column + 1].field_id;
}
std::optional<std::string> ParquetReader::metadata(const std::string& key) const {
    for (const auto& kv : impl_->metadata().key_value) {
        if (kv.key == key) return kv.value.value_or("");
    }
    return std::nullopt;
}

Result<std::vector<std::size_t>> ParquetReader::column_indices(
    std::span<const std::string> names) const {
    std::vector<std::size_t> indices;
    for (const std::string& name : names) {
        auto index = schema()->index_of(name);
        if (!index) {
            return Error(ErrorCode::kNotFound, path() + " has no column `" + name + "`");
        }
        indices.push_back(*index);
    }
    return indices;
}

Result<bool> ParquetReader::row_group_may_match(std::size_t group,
                                                std::span<const ColumnPredicate> predicates) const {
    for (const ColumnPredicate& predicate : predicates) {
        auto index = schema()->index_of(predicate.column);
        if (!index) {
            return Error(ErrorCode::kNotFound,
                         path() + " has no column `" + predicate.column + "`");
        }
        if (!statistics_may_match(impl_->statistics(group, *index), predicate.op,
                                  predicate.value)) {
            return false;
        }
    }
    return true;
}

Result<Batch> ParquetReader::read_row_group(std::size_t group,
                                            std::span<const std::size_t> columns) const {
    return impl_->read_row_group(group, columns);
}

Result<Batch> ParquetReader::read_row_group(std::size_t group) const {
    std::vector<std::size_t> all(schema()->size());
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
    return impl_->read_row_group(group, all);
}

Result<std::size_t> ParquetReader::scan(const ParquetScanOptions& options,
                                        const std::function<Status(Batch)>& on_batch) const {
    std::vector<std::size_t> columns = options.columns;
    if (columns.empty()) {
        columns.resize(schema()->size());
        for (std::size_t i = 0; i < columns.size(); ++i) columns[i] = i;
    }
    std::size_t skipped = 0;
    for (std::size_t g = 0; g < num_row_groups(); ++g) {
        MILLRACE_ASSIGN_OR_RETURN(bool may_match, row_group_may_match(g, options.predicates));
        if (!may_match) {
            ++skipped;
            continue;
        }
        MILLRACE_ASSIGN_OR_RETURN(Batch batch, impl_->read_row_group(g, columns));
        MILLRACE_TRY(on_batch(std::move(batch)));
    }
    return skipped;
}

}  // namespace millrace
