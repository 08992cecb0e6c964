#include "exec/operator_state.h"

#include <fmt/format.h>

#include <bit>
#include <cstring>

#include "types/column_builder.h"

namespace millrace {

namespace {

constexpr std::string_view kMagic = "MRST";

}  // namespace

StateWriter::StateWriter(OperatorStateKind kind) {
    out_.append(kMagic);
    u16(kOperatorStateVersion);
    u8(static_cast<uint8_t>(kind));
}

namespace {

/// Writes the low `width` bytes of `v`, little-endian, at `p`.
inline char* put_fixed(char* p, uint64_t v, std::size_t width) {
    if constexpr (std::endian::native == std::endian::little) {
        std::memcpy(p, &v, width);
    } else {
        for (std::size_t i = 0; i < width; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
    }
    return p + width;
}

}  // namespace

void StateWriter::fixed(uint64_t v, int width) {
    char buffer[8];
    put_fixed(buffer, v, static_cast<std::size_t>(width));
    out_.append(buffer, static_cast<std::size_t>(width));
}

void StateWriter::f64(double v) {
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof bits);
    u64(bits);
}

void StateWriter::bytes(std::string_view v) {
    u64(v.size());
    out_.append(v);
}

void StateWriter::batch(const Batch& batch) {
    // Per column: the type, then per row a presence byte and, when present, the value (fixed
    // width little-endian; a string as u64 length and bytes). Each column is sized first and
    // written in place: a large state is one pass over its values, not one append per byte.
    const std::size_t rows = batch.num_rows();
    u64(rows);
    u32(static_cast<uint32_t>(batch.num_columns()));
    for (std::size_t c = 0; c < batch.num_columns(); ++c) {
        const Column& column = batch.column(c);
        u8(static_cast<uint8_t>(column.type()));
        const bool strings =
            column.type() == DataType::kString || column.type() == DataType::kBytes;
        std::size_t width = 8;
        if (column.type() == DataType::kBool) width = 1;
        if (column.type() == DataType::kInt32 || column.type() == DataType::kDate) width = 4;
        std::size_t size = rows;
        for (std::size_t r = 0; r < rows; ++r) {
            if (!column.is_null(r)) size += strings ? 8 + column.string_at(r).size() : width;
        }
        const std::size_t at = out_.size();
        out_.resize(at + size);
        char* p = out_.data() + at;
        for (std::size_t r = 0; r < rows; ++r) {
            if (column.is_null(r)) {
                *p++ = 0;
                continue;
            }
            *p++ = 1;
            switch (column.type()) {
                case DataType::kBool:
                    p = put_fixed(p, column.value<uint8_t>(r), 1);
                    break;
                case DataType::kInt32:
                case DataType::kDate:
                    p = put_fixed(p, static_cast<uint32_t>(column.value<int32_t>(r)), 4);
                    break;
                case DataType::kInt64:
                case DataType::kTimestamp:
                    p = put_fixed(p, static_cast<uint64_t>(column.value<int64_t>(r)), 8);
                    break;
                case DataType::kFloat64: {
                    uint64_t bits = 0;
                    const double value = column.value<double>(r);
                    std::memcpy(&bits, &value, sizeof bits);
                    p = put_fixed(p, bits, 8);
                    break;
                }
                case DataType::kString:
                case DataType::kBytes: {
                    const std::string_view text = column.string_at(r);
                    p = put_fixed(p, text.size(), 8);
                    if (!text.empty()) std::memcpy(p, text.data(), text.size());
                    p += text.size();
                    break;
                }
            }
        }
    }
}

Result<StateReader> StateReader::open(std::string_view bytes, OperatorStateKind kind) {
    StateReader reader(bytes);
    if (bytes.substr(0, kMagic.size()) != kMagic) return reader.corrupt("not an operator state");
    reader.pos_ = kMagic.size();
    MILLRACE_ASSIGN_OR_RETURN(uint16_t version, reader.u16());
    if (version < kOldestOperatorStateVersion || version > kOperatorStateVersion) {
        return reader.corrupt(fmt::format("state format version {} (this build reads {} to {})",
                                          version, kOldestOperatorStateVersion,
                                          kOperatorStateVersion));
    }
    reader.version_ = version;
    MILLRACE_ASSIGN_OR_RETURN(uint8_t stored_kind, reader.u8());
    if (stored_kind != static_cast<uint8_t>(kind))
        return reader.corrupt(fmt::format("state of operator kind {}, expected {}", stored_kind,
                                          static_cast<int>(kind)));
    return reader;
}

Error StateReader::corrupt(std::string_view what) const {
    return Error(ErrorCode::kCorruption,
                 fmt::format("operator state: {} (at byte {} of {})", what, pos_, in_.size()));
}

Result<uint64_t> StateReader::fixed(int width) {
    if (in_.size() - pos_ < static_cast<std::size_t>(width)) return corrupt("truncated");
    uint64_t v = 0;
    for (int i = 0; i < width; ++i)
        v |= uint64_t{static_cast<uint8_t>(in_[pos_ + static_cast<std::size_t>(i)])} << (8 * i);
    pos_ += static_cast<std::size_t>(width);
    return v;
}

Result<uint8_t> StateReader::u8() {
    MILLRACE_ASSIGN_OR_RETURN(uint64_t v, fixed(1));
    return static_cast<uint8_t>(v);
}
Result<uint16_t> StateReader::u16() {
    MILLRACE_ASSIGN_OR_RETURN(uint64_t v, fixed(2));
    return static_cast<uint16_t>(v);
}
Result<uint32_t> StateReader::u32() {
    MILLRACE_ASSIGN_OR_RETURN(uint64_t v, fixed(4));
    return static_cast<uint32_t>(v);
}
Result<uint64_t> StateReader::u64() { return fixed(8); }
Result<int64_t> StateReader::i64() {
    MILLRACE_ASSIGN_OR_RETURN(uint64_t v, fixed(8));
    return static_cast<int64_t>(v);
}
Result<double> StateReader::f64() {
    MILLRACE_ASSIGN_OR_RETURN(uint64_t bits, fixed(8));
    double v = 0;
    std::memcpy(&v, &bits, sizeof v);
    return v;
}

Result<std::string_view> StateReader::bytes() {
    MILLRACE_ASSIGN_OR_RETURN(uint64_t size, u64());
    if (size > in_.size() - pos_) return corrupt("truncated byte string");
    std::string_view v = in_.substr(pos_, size);
    pos_ += size;
    return v;
}

Result<uint64_t> StateReader::count(std::size_t min_item_bytes) {
    MILLRACE_ASSIGN_OR_RETURN(uint64_t n, u64());
    if (min_item_bytes > 0 && n > (in_.size() - pos_) / min_item_bytes)
        return corrupt("count larger than the bytes left");
    return n;
}

Result<Batch> StateReader::batch(const std::shared_ptr<const Schema>& schema) {
    MILLRACE_ASSIGN_OR_RETURN(uint64_t rows, u64());
    MILLRACE_ASSIGN_OR_RETURN(uint32_t columns, u32());
    if (columns != schema->size()) return corrupt("batch of another schema");
    // Every column of every row takes at least its validity byte.
    if (columns > 0 && rows > (in_.size() - pos_) / columns) return corrupt("truncated batch");
    std::vector<std::shared_ptr<const Column>> built;
    for (std::size_t c = 0; c < columns; ++c) {
        const DataType type = schema->field(c).type;
        MILLRACE_ASSIGN_OR_RETURN(uint8_t stored_type, u8());
        if (stored_type != static_cast<uint8_t>(type)) return corrupt("column of another type");
        ColumnBuilder builder(type, static_cast<std::size_t>(rows));
        for (uint64_t r = 0; r < rows; ++r) {
            MILLRACE_ASSIGN_OR_RETURN(uint8_t valid, u8());
            if (valid == 0) {
                builder.append_null();
                continue;
            }
            switch (type) {
                case DataType::kBool: {
                    MILLRACE_ASSIGN_OR_RETURN(uint8_t v, u8());
                    builder.append_bool(v != 0);
                    break;
                }
                case DataType::kInt32:
                case DataType::kDate: {
                    MILLRACE_ASSIGN_OR_RETURN(uint32_t v, u32());
                    builder.append<int32_t>(static_cast<int32_t>(v));
                    break;
                }
                case DataType::kInt64:
                case DataType::kTimestamp: {
                    MILLRACE_ASSIGN_OR_RETURN(int64_t v, i64());
                    builder.append<int64_t>(v);
                    break;
                }
                case DataType::kFloat64: {
                    MILLRACE_ASSIGN_OR_RETURN(double v, f64());
                    builder.append_double(v);
                    break;
                }
                case DataType::kString:
                case DataType::kBytes: {
                    MILLRACE_ASSIGN_OR_RETURN(std::string_view v, bytes());
                    builder.append_string(v);
                    break;
                }
            }
        }
        built.push_back(std::make_shared<const Column>(builder.finish()));
    }
    return Batch(schema, std::move(built), static_cast<std::size_t>(rows));
}

Status StateReader::expect_end() const {
    if (pos_ != in_.size()) return corrupt("bytes after the end of the state");
    return {};
}

}  // namespace millrace
