#include "formats/parquet/parquet_writer.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <functional>
#include <thread>
#include <vector>

#include "formats/parquet/column_statistics.h"
#include "formats/parquet/file_metadata.h"
#include "formats/parquet/page_compressor.h"
#include "formats/parquet/rle_hybrid.h"

namespace millrace {

using parquet::Codec;
using parquet::Encoding;

namespace {

constexpr std::size_t kMaxStatisticBytes = 4096;  // longer strings get no min/max

Codec to_codec(ParquetCodec codec) {
    switch (codec) {
        case ParquetCodec::kSnappy:
            return Codec::kSnappy;
        case ParquetCodec::kZstd:
            return Codec::kZstd;
        default:
            return Codec::kUncompressed;
    }
}

parquet::SchemaElement schema_element(const Field& field, bool as_float = false) {
    using parquet::ConvertedType;
    using parquet::PhysicalType;
    using Kind = parquet::LogicalType::Kind;
    parquet::SchemaElement e;
    e.name = field.name;
    e.repetition = field.nullable ? parquet::Repetition::kOptional : parquet::Repetition::kRequired;
    switch (field.type) {
        case DataType::kBool:
            e.type = PhysicalType::kBoolean;
            break;
        case DataType::kInt32:
            e.type = PhysicalType::kInt32;
            break;
        case DataType::kInt64:
            e.type = PhysicalType::kInt64;
            break;
        case DataType::kFloat64:
            e.type = as_float ? PhysicalType::kFloat : PhysicalType::kDouble;
            break;
        case DataType::kString:
            e.type = PhysicalType::kByteArray;
            e.converted = ConvertedType::kUtf8;
            e.logical.kind = Kind::kString;
            break;
        case DataType::kBytes:
            e.type = PhysicalType::kByteArray;
            break;
        case DataType::kTimestamp:
            e.type = PhysicalType::kInt64;
            e.converted = ConvertedType::kTimestampMicros;
            e.logical.kind = Kind::kTimestamp;
            e.logical.adjusted_to_utc = true;
            e.logical.unit = parquet::TimeUnit::kMicros;
            break;
        case DataType::kDate:
            e.type = PhysicalType::kInt32;
            e.converted = ConvertedType::kDate;
            e.logical.kind = Kind::kDate;
            break;
    }
    return e;
}

// ---- per-type value handling ----
//
// Each column chunk is encoded by one instantiation of encode_chunk<T> with T the physical value:
// int32_t, int64_t, double, float (a double column written as FLOAT), uint8_t (bool, one byte per
// value) or std::string_view.

template <typename T>
std::size_t plain_size(const T&) {
    return sizeof(T);
}
std::size_t plain_size(const std::string_view& v) { return 4 + v.size(); }

template <typename T>
void append_plain(const T* values, std::size_t count, std::string& out) {
    out.append(reinterpret_cast<const char*>(values), count * sizeof(T));
}
void append_plain(const uint8_t* values, std::size_t count, std::string& out) {
    const std::size_t start = out.size();
    out.resize(start + (count + 7) / 8, '\0');
    uint8_t* bits = reinterpret_cast<uint8_t*>(out.data() + start);
    for (std::size_t i = 0; i < count; ++i) {
        bits[i >> 3] |= static_cast<uint8_t>(values[i] ? 1u << (i & 7) : 0u);
    }
}
void append_plain(const std::string_view* values, std::size_t count, std::string& out) {
    std::size_t total = 0;
    for (std::size_t i = 0; i < count; ++i) total += 4 + values[i].size();
    const std::size_t start = out.size();
    out.resize(start + total);
    char* dst = out.data() + start;
    for (std::size_t i = 0; i < count; ++i) {
        const uint32_t n = static_cast<uint32_t>(values[i].size());
        std::memcpy(dst, &n, 4);
        if (n > 0) std::memcpy(dst + 4, values[i].data(), n);
        dst += 4 + n;
    }
}

template <typename T>
std::string stat_bytes(const T& v) {
    return std::string(reinterpret_cast<const char*>(&v), sizeof(T));
}
std::string stat_bytes(const std::string_view& v) { return std::string(v); }

template <typename T>
bool skip_in_stats(const T&) {
    return false;
}
bool skip_in_stats(const double& v) { return std::isnan(v); }
bool skip_in_stats(const float& v) { return std::isnan(v); }

Value to_value(DataType type, const int32_t& v) {
    return type == DataType::kDate ? Value::date(v) : Value::int32(v);
}
Value to_value(DataType type, const int64_t& v) {
    return type == DataType::kTimestamp ? Value::timestamp(v) : Value::int64(v);
}
Value to_value(DataType, const double& v) { return Value::float64(v); }
Value to_value(DataType, const float& v) { return Value::float64(v); }
Value to_value(DataType, const uint8_t& v) { return Value::boolean(v != 0); }
Value to_value(DataType type, const std::string_view& v) {
    return type == DataType::kString ? Value::string(std::string(v)) : Value::bytes(std::string(v));
}

// Min and max of a run of values in the type's order.
template <typename T>
struct MinMax {
    bool any = false;
    T min{};
    T max{};

    void add(const T* values, std::size_t count) {
        for (std::size_t i = 0; i < count; ++i) {
            const T& v = values[i];
            if (skip_in_stats(v)) continue;
            if (!any) {
                min = max = v;
                any = true;
            } else {
                if (v < min) min = v;
                if (max < v) max = v;
            }
        }
    }
    void add(const MinMax& other) {
        if (!other.any) return;
        add(&other.min, 1);
        add(&other.max, 1);
    }
    // The spec's rule for floating point: a zero min is written -0.0, a zero max +0.0.
    T stat_min() const {
        if constexpr (std::is_floating_point_v<T>) return min == T(0) ? -T(0) : min;
        return min;
    }
    T stat_max() const {
        if constexpr (std::is_floating_point_v<T>) return max == T(0) ? T(0) : max;
        return max;
    }
    bool too_long() const {
        if constexpr (std::is_same_v<T, std::string_view>) {
            return min.size() > kMaxStatisticBytes || max.size() > kMaxStatisticBytes;
        }
        return false;
    }
};

template <typename T>
parquet::Statistics make_statistics(const MinMax<T>& range, int64_t nulls) {
    parquet::Statistics s;
    s.null_count = nulls;
    if (range.any && !range.too_long()) {
        s.min_value = stat_bytes(range.stat_min());
        s.max_value = stat_bytes(range.stat_max());
    }
    return s;
}

// Open-addressing map from values to dictionary indices.
template <typename T>
class DictionaryBuilder {
public:
    explicit DictionaryBuilder(std::size_t max_bytes) : max_bytes_(max_bytes) { rehash(1024); }

    // Indexes every value; false when the dictionary grew past its byte limit.
    bool build(const std::vector<T>& values, std::vector<uint32_t>& indices) {
        indices.resize(values.size());
        for (std::size_t i = 0; i < values.size(); ++i) {
            const T& v = values[i];
            std::size_t slot = hash(v) & mask_;
            while (true) {
                const uint32_t entry = slots_[slot];
                if (entry == 0) {
                    entries_.push_back(v);
                    bytes_ += plain_size(v);
                    if (bytes_ > max_bytes_) return false;
                    slots_[slot] = static_cast<uint32_t>(entries_.size());
                    if (entries_.size() * 2 > slots_.size()) rehash(slots_.size() * 2);
                    break;
                }
                if (equal(entries_[entry - 1], v)) break;
                slot = (slot + 1) & mask_;
            }
            indices[i] = lookup_index(v);
        }
        return true;
    }
    const std::vector<T>& entries() const { return entries_; }

private:
    static bool equal(const T& a, const T& b) {
        if constexpr (std::is_floating_point_v<T>) {
            return std::memcmp(&a, &b, sizeof(T)) == 0;  // NaN == NaN, -0 != +0
        } else {
            return a == b;
        }
    }
    static uint64_t hash(const T& v) {
        if constexpr (std::is_same_v<T, std::string_view>) {
            return std::hash<std::string_view>()(v) * 0x9E3779B97F4A7C15ull >> 20;
        } else {
            // A full 64-bit mix (murmur3's finalizer): doubles such as prices differ mostly in
            // high mantissa bits, which a plain multiply never moves into the slot bits.
            uint64_t bits = 0;
            std::memcpy(&bits, &v, sizeof(T));
            bits ^= bits >> 33;
            bits *= 0xff51afd7ed558ccdull;
            bits ^= bits >> 33;
            bits *= 0xc4ceb9fe1a85ec53ull;
            return bits ^ (bits >> 33);
        }
    }
    uint32_t lookup_index(const T& v) const {
        std::size_t slot = hash(v) & mask_;
        while (!equal(entries_[slots_[slot] - 1], v)) slot = (slot + 1) & mask_;
        return slots_[slot] - 1;
    }
    void rehash(std::size_t size) {
        slots_.assign(size, 0);
        mask_ = size - 1;
        for (std::size_t i = 0; i < entries_.size(); ++i) {
            std::size_t slot = hash(entries_[i]) & mask_;
            while (slots_[slot] != 0) slot = (slot + 1) & mask_;
            slots_[slot] = static_cast<uint32_t>(i + 1);
        }
    }

    std::size_t max_bytes_;
    std::size_t bytes_ = 0;
    std::vector<T> entries_;
    std::vector<uint32_t> slots_;
    std::size_t mask_ = 0;
};

}  // namespace

std::string schema_metadata_text(const Schema& schema) {
    std::string text;
    for (const Field& field : schema.fields()) {
        if (!text.empty()) text += ", ";
        text += field.name;
        text += ": ";
        text += type_name(field.type);
        if (!field.nullable) text += " not null";
    }
    return text;
}

// The rows of a row group, as slices of the Batches written.
struct Piece {
    Batch batch;
    std::size_t offset;
    std::size_t count;
};

// Encodes column chunks of one row group into its own buffer, with offsets relative to the
// chunk's start (the writer rebases them). One per thread: it owns its scratch buffers and
// compression contexts.
class ColumnChunkEncoder {
public:
    ColumnChunkEncoder(const Schema& schema, const ParquetWriterOptions& options)
        : schema_(&schema), options_(options), codec_(to_codec(options.codec)) {}

    // Encodes column c of `pending` (pending_rows_ rows) into out_ (cleared first).
    void encode(const std::vector<Piece>& pending, std::size_t rows, std::size_t c,
                parquet::ColumnChunk& chunk, ColumnStatistics& statistics, std::string& out) {
        pending_ = &pending;
        pending_rows_ = rows;
        out_.clear();
        encode_column(c, chunk);
        statistics = std::move(statistics_);
        out.swap(out_);
    }

private:
    void encode_column(std::size_t c, parquet::ColumnChunk& chunk) {
        const Field& field = schema_->field(c);
        switch (field.type) {
            case DataType::kBool:
                encode_chunk<uint8_t>(c, chunk);
                break;
            case DataType::kInt32:
            case DataType::kDate:
                encode_chunk<int32_t>(c, chunk);
                break;
            case DataType::kInt64:
            case DataType::kTimestamp:
                encode_chunk<int64_t>(c, chunk);
                break;
            case DataType::kFloat64:
                if (is_float(c)) {
                    encode_chunk<float>(c, chunk);
                } else {
                    encode_chunk<double>(c, chunk);
                }
                break;
            case DataType::kString:
            case DataType::kBytes:
                encode_chunk<std::string_view>(c, chunk);
                break;
        }
    }

    // Gathers the definition levels (nullable columns) and the non-null values of column c.
    template <typename T>
    void gather(std::size_t c, std::vector<uint32_t>& levels, std::vector<T>& values) {
        const bool nullable = schema_->field(c).nullable;
        levels.clear();
        values.clear();
        values.reserve(pending_rows_);
        if (nullable) levels.reserve(pending_rows_);
        for (const Piece& piece : *pending_) {
            const Column& column = piece.batch.column(c);
            const std::size_t end = piece.offset + piece.count;
            const bool has_nulls = column.has_nulls();
            if (nullable && !has_nulls) levels.insert(levels.end(), piece.count, 1u);
            for (std::size_t row = piece.offset; row < end; ++row) {
                if (has_nulls) {
                    const bool valid = column.is_valid(row);
                    if (nullable) levels.push_back(valid ? 1u : 0u);
                    if (!valid) continue;
                }
                if constexpr (std::is_same_v<T, std::string_view>) {
                    values.push_back(column.string_at(row));
                } else if constexpr (std::is_same_v<T, uint8_t>) {
                    values.push_back(column.value<uint8_t>(row) != 0 ? 1 : 0);
                } else if constexpr (std::is_same_v<T, float>) {
                    values.push_back(static_cast<float>(column.value<double>(row)));
                } else {
                    values.push_back(column.value<T>(row));
                }
            }
        }
    }

    template <typename T>
    void encode_chunk(std::size_t c, parquet::ColumnChunk& chunk) {
        const Field& field = schema_->field(c);
        std::vector<uint32_t> levels;
        std::vector<T> values;
        gather<T>(c, levels, values);
        const std::size_t rows = pending_rows_;
        const int64_t nulls = static_cast<int64_t>(rows - values.size());

        parquet::ColumnMetaData& meta = chunk.meta;
        chunk.has_meta = true;
        meta.type = *schema_element(field, is_float(c)).type;
        meta.path = {field.name};
        meta.codec = static_cast<int32_t>(codec_);
        meta.num_values = static_cast<int64_t>(rows);
        const uint64_t chunk_start = static_cast<uint64_t>(out_.size());
        chunk.file_offset = static_cast<int64_t>(chunk_start);

        // Dictionary: all types but bool, when the distinct values stay under the limit.
        std::vector<uint32_t> indices;
        int index_width = 0;
        bool use_dictionary = false;
        std::size_t plain_bytes = 0;
        if constexpr (std::is_same_v<T, std::string_view>) {
            for (const auto& v : values) plain_bytes += 4 + v.size();
        } else {
            plain_bytes = values.size() * sizeof(T);
        }
        if constexpr (!std::is_same_v<T, uint8_t>) {  // bool: always PLAIN
            if (options_.dictionary && !values.empty()) {
                DictionaryBuilder<T> dictionary(options_.max_dictionary_bytes);
                if (dictionary.build(values, indices)) {
                    use_dictionary = true;
                    index_width = parquet::bit_width_for(dictionary.entries().size() - 1);
                    meta.dictionary_page_offset =
                        static_cast<int64_t>(static_cast<uint64_t>(out_.size()));
                    body_.clear();
                    append_plain(dictionary.entries().data(), dictionary.entries().size(), body_);
                    parquet::PageHeader header;
                    header.type = static_cast<int32_t>(parquet::PageType::kDictionaryPage);
                    header.dictionary.emplace();
                    header.dictionary->num_values =
                        static_cast<int32_t>(dictionary.entries().size());
                    header.dictionary->encoding = static_cast<int32_t>(Encoding::kPlain);
                    write_page(header, meta);
                }
            }
        }

        meta.data_page_offset = static_cast<int64_t>(static_cast<uint64_t>(out_.size()));
        // Rows per page from the average plain size of a row.
        const std::size_t row_bytes =
            std::max<std::size_t>(1, (plain_bytes + rows - 1) / std::max<std::size_t>(rows, 1));
        const std::size_t page_rows = std::max<std::size_t>(1, options_.page_bytes / row_bytes);
        const bool nullable = field.nullable;
        MinMax<T> chunk_range;
        std::size_t value_pos = 0;
        for (std::size_t row = 0; row < rows; row += page_rows) {
            const std::size_t page_end = std::min(rows, row + page_rows);
            const std::size_t page_count = page_end - row;
            std::size_t page_values = page_count;
            body_.clear();
            if (nullable) {
                page_values = 0;
                for (std::size_t i = row; i < page_end; ++i) page_values += levels[i];
                body_.resize(4);
                if (page_values == page_count) {
                    encode_rle_run_levels(page_count);
                } else {
                    parquet::encode_rle_hybrid(levels.data() + row, page_count, 1, body_);
                }
                const uint32_t length = static_cast<uint32_t>(body_.size() - 4);
                std::memcpy(body_.data(), &length, 4);
            }
            if (use_dictionary) {
                body_.push_back(static_cast<char>(index_width));
                parquet::encode_rle_hybrid(indices.data() + value_pos, page_values, index_width,
                                           body_);
            } else {
                append_plain(values.data() + value_pos, page_values, body_);
            }
            MinMax<T> range;
            range.add(values.data() + value_pos, page_values);
            chunk_range.add(range);
            value_pos += page_values;

            parquet::PageHeader header;
            header.type = static_cast<int32_t>(parquet::PageType::kDataPage);
            header.data.emplace();
            header.data->num_values = static_cast<int32_t>(page_count);
            header.data->encoding =
                static_cast<int32_t>(use_dictionary ? Encoding::kRleDictionary : Encoding::kPlain);
            header.data->statistics =
                make_statistics(range, static_cast<int64_t>(page_count - page_values));
            write_page(header, meta);
        }
        meta.total_compressed_size =
            static_cast<int64_t>(static_cast<uint64_t>(out_.size()) - chunk_start);
        meta.statistics = make_statistics(chunk_range, nulls);
        if (use_dictionary) {
            meta.encodings = {static_cast<int32_t>(Encoding::kPlain),
                              static_cast<int32_t>(Encoding::kRleDictionary),
                              static_cast<int32_t>(Encoding::kRle)};
        } else {
            meta.encodings = {static_cast<int32_t>(Encoding::kPlain),
                              static_cast<int32_t>(Encoding::kRle)};
        }

        ColumnStatistics stats;
        stats.row_count = rows;
        stats.null_count = static_cast<uint64_t>(nulls);
        if (chunk_range.any && !chunk_range.too_long()) {
            stats.min = to_value(field.type, chunk_range.min);
            stats.max = to_value(field.type, chunk_range.max);
        }
        statistics_ = stats;
    }

    void encode_rle_run_levels(std::size_t count) { parquet::encode_rle_run(1, count, 1, body_); }

    bool is_float(std::size_t c) const {
        return std::find(options_.float_columns.begin(), options_.float_columns.end(), c) !=
               options_.float_columns.end();
    }

    // Compresses body_ and appends header + compressed body to out_.
    void write_page(parquet::PageHeader& header, parquet::ColumnMetaData& meta) {
        std::string_view payload = body_;
        if (codec_ != Codec::kUncompressed) {
            compressor_.compress(codec_, options_.zstd_level, body_, compressed_);
            payload = compressed_;
        }
        header.uncompressed_page_size = static_cast<int32_t>(body_.size());
        header.compressed_page_size = static_cast<int32_t>(payload.size());
        header.crc = static_cast<int32_t>(::crc32(0, reinterpret_cast<const Bytef*>(payload.data()),
                                                  static_cast<uInt>(payload.size())));
        header_.clear();
        parquet::serialize_page_header(header, header_);
        out_.append(header_);
        out_.append(payload);
        meta.total_uncompressed_size += static_cast<int64_t>(header_.size() + body_.size());
    }

    const Schema* schema_;
    ParquetWriterOptions options_;
    Codec codec_;
    const std::vector<Piece>* pending_ = nullptr;
    std::size_t pending_rows_ = 0;
    parquet::PageCompressor compressor_;
    std::string out_;
    std::string body_;
    std::string compressed_;
    std::string header_;
    ColumnStatistics statistics_;
};

class ParquetWriter::Impl {
public:
    Impl(std::string path, int fd, std::shared_ptr<const Schema> schema,
         ParquetWriterOptions options)
        : path_(std::move(path)), fd_(fd), schema_(std::move(schema)), options_(options) {
        if (options_.row_group_rows == 0) options_.row_group_rows = 1;
        if (options_.page_bytes == 0) options_.page_bytes = 1;
        metadata_.schema.reserve(schema_->size() + 1);
        parquet::SchemaElement root;
        root.name = "schema";
        root.num_children = static_cast<int32_t>(schema_->size());
        metadata_.schema.push_back(root);
        for (std::size_t c = 0; c < schema_->size(); ++c) {
            const Field& field = schema_->field(c);
            const bool as_float =
                std::find(options_.float_columns.begin(), options_.float_columns.end(), c) !=
                options_.float_columns.end();
            metadata_.schema.push_back(schema_element(field, as_float));
            if (!options_.iceberg_schema.empty()) {
                const std::size_t position = metadata_.schema.size() - 2;
                metadata_.schema.back().field_id = position < options_.field_ids.size()
                                                       ? options_.field_ids[position]
                                                       : static_cast<int32_t>(position + 1);
            }
        }
        metadata_.key_value.push_back({"millrace.schema", schema_metadata_text(*schema_)});
        if (!options_.iceberg_schema.empty()) {
            metadata_.key_value.push_back({"iceberg.schema", options_.iceberg_schema});
        }
        metadata_.created_by = "millrace version 0.1.0";
        metadata_.type_defined_column_order = true;
        out_.assign("PAR1");
        file_statistics_.resize(schema_->size());
    }
    ~Impl() {
        if (fd_ >= 0) ::close(fd_);
    }

    Status write(const Batch& batch) {
        if (closed_) return Error(ErrorCode::kInvalidArgument, "write after close: " + path_);
        if (batch.schema_ptr() != schema_ && !(batch.schema() == *schema_)) {
            return Error(ErrorCode::kTypeMismatch, "batch schema " + batch.schema().to_string() +
                                                       " differs from the file's " +
                                                       schema_->to_string() + ": " + path_);
        }
        // A REQUIRED column has no definition levels: a null in it cannot be written.
        for (std::size_t c = 0; c < schema_->size(); ++c) {
            if (!schema_->field(c).nullable && batch.column(c).has_nulls()) {
                return Error(ErrorCode::kTypeMismatch, "column `" + schema_->field(c).name +
                                                           "` is not null but the batch has " +
                                                           "nulls in it: " + path_);
            }
        }
        std::size_t offset = 0;
        while (offset < batch.num_rows()) {
            const std::size_t take =
                std::min(batch.num_rows() - offset, options_.row_group_rows - pending_rows_);
            pending_.push_back({batch, offset, take});
            pending_rows_ += take;
            offset += take;
            if (pending_rows_ == options_.row_group_rows) MILLRACE_TRY(flush_row_group());
        }
        return {};
    }

    Status close() {
        if (closed_) return {};
        closed_ = true;
        if (pending_rows_ > 0) MILLRACE_TRY(flush_row_group());
        std::string footer;
        metadata_.num_rows = static_cast<int64_t>(rows_);
        parquet::serialize_file_metadata(metadata_, footer);
        const uint32_t length = static_cast<uint32_t>(footer.size());
        out_.append(footer);
        out_.append(reinterpret_cast<const char*>(&length), 4);
        out_.append("PAR1");
        MILLRACE_TRY(flush_bytes());
        if (options_.sync && ::fsync(fd_) != 0) return io_error("cannot fsync");
        const int fd = fd_;
        fd_ = -1;
        if (::close(fd) != 0) return io_error("cannot close");
        return {};
    }

    uint64_t rows() const { return rows_; }
    uint64_t bytes() const { return file_offset_ + out_.size(); }
    const std::vector<ColumnStatistics>& statistics() const { return file_statistics_; }

private:
    Error io_error(const char* what) const {
        return Error(ErrorCode::kIo, std::string(what) + " " + path_ + ": " + std::strerror(errno));
    }

    Status flush_bytes() {
        const char* data = out_.data();
        std::size_t left = out_.size();
        while (left > 0) {
            const ssize_t n = ::write(fd_, data, left);
            if (n < 0) {
                if (errno == EINTR) continue;
                return io_error("cannot write");
            }
            data += n;
            left -= static_cast<std::size_t>(n);
        }
        file_offset_ += out_.size();
        out_.clear();
        return {};
    }

    Status flush_row_group() {
        const std::size_t columns = schema_->size();
        std::vector<parquet::ColumnChunk> chunks(columns);
        std::vector<ColumnStatistics> stats(columns);
        std::vector<std::string> encoded(columns);
        // Columns are independent: encode them on up to options_.threads threads, then append
        // them in schema order.
        const std::size_t threads =
            std::min<std::size_t>(std::max<std::size_t>(1, options_.threads), columns);
        while (encoders_.size() < threads) encoders_.emplace_back(*schema_, options_);
        std::atomic<std::size_t> next{0};
        auto work = [&](ColumnChunkEncoder& encoder) {
            for (std::size_t c = next++; c < columns; c = next++) {
                encoder.encode(pending_, pending_rows_, c, chunks[c], stats[c], encoded[c]);
            }
        };
        std::vector<std::thread> helpers;
        for (std::size_t t = 1; t < threads; ++t)
            helpers.emplace_back(work, std::ref(encoders_[t]));
        work(encoders_[0]);
        for (std::thread& helper : helpers) helper.join();

        parquet::RowGroup group;
        group.num_rows = static_cast<int64_t>(pending_rows_);
        group.file_offset = static_cast<int64_t>(position());
        group.ordinal = static_cast<int16_t>(metadata_.row_groups.size());
        for (std::size_t c = 0; c < columns; ++c) {
            parquet::ColumnChunk& chunk = chunks[c];
            const int64_t base = static_cast<int64_t>(position());
            chunk.file_offset += base;
            chunk.meta.data_page_offset += base;
            if (chunk.meta.dictionary_page_offset) *chunk.meta.dictionary_page_offset += base;
            out_.append(encoded[c]);
            std::string().swap(encoded[c]);
            file_statistics_[c].merge(stats[c]);
            group.total_byte_size += chunk.meta.total_uncompressed_size;
            group.total_compressed_size =
                group.total_compressed_size.value_or(0) + chunk.meta.total_compressed_size;
            group.columns.push_back(std::move(chunk));
            if (out_.size() > (8u << 20)) MILLRACE_TRY(flush_bytes());
        }
        metadata_.row_groups.push_back(std::move(group));
        rows_ += pending_rows_;
        pending_.clear();
        pending_rows_ = 0;
        return flush_bytes();
    }

    uint64_t position() const { return file_offset_ + out_.size(); }

    // ---- members ----

    std::string path_;
    int fd_;
    std::shared_ptr<const Schema> schema_;
    ParquetWriterOptions options_;
    parquet::FileMetaData metadata_;
    std::vector<ColumnChunkEncoder> encoders_;
    std::vector<Piece> pending_;
    std::size_t pending_rows_ = 0;
    uint64_t rows_ = 0;
    uint64_t file_offset_ = 0;
    std::string out_;
    std::vector<ColumnStatistics> file_statistics_;
    bool closed_ = false;
};

Result<std::unique_ptr<ParquetWriter>> ParquetWriter::open(const std::string& path,
                                                           std::shared_ptr<const Schema> schema,
                                                           ParquetWriterOptions options) {
    if (schema == nullptr || schema->empty()) {
        return Error(ErrorCode::kInvalidArgument, "a Parquet file needs at least one column");
    }
    for (std::size_t c : options.float_columns) {
        if (c >= schema->size() || schema->field(c).type != DataType::kFloat64) {
            return Error(ErrorCode::kInvalidArgument,
                         "only double columns can be written as FLOAT (column " +
                             std::to_string(c) + "): " + path);
        }
    }
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        return Error(ErrorCode::kIo, "cannot create " + path + ": " + std::strerror(errno));
    }
    return std::unique_ptr<ParquetWriter>(
        new ParquetWriter(std::make_unique<Impl>(path, fd, std::move(schema), options)));
}

ParquetWriter::ParquetWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ParquetWriter::~ParquetWriter() = default;
Status ParquetWriter::write(const Batch& batch) { return impl_->write(batch); }
Status ParquetWriter::close() { return impl_->close(); }
uint64_t ParquetWriter::rows_written() const { return impl_->rows(); }
uint64_t ParquetWriter::bytes_written() const { return impl_->bytes(); }
const std::vector<ColumnStatistics>& ParquetWriter::statistics() const {
    return impl_->statistics();
}

}  // namespace millrace
