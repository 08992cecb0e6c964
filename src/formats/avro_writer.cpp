#include "formats/avro_writer.h"

#include <zlib.h>

#include <cstring>
#include <random>

namespace millrace {

namespace {

void put_long(std::string& out, int64_t value) {
    // Zig-zag, then base-128 little-endian groups (Avro's int and long encoding).
    uint64_t n = (static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63);
    while (n >= 0x80) {
        out.push_back(static_cast<char>((n & 0x7f) | 0x80));
        n >>= 7;
    }
    out.push_back(static_cast<char>(n));
}

void put_bytes(std::string& out, std::string_view bytes) {
    put_long(out, static_cast<int64_t>(bytes.size()));
    out.append(bytes);
}

Error mismatch(const AvroNode& node, const AvroValue& value) {
    return Error(ErrorCode::kInvalidArgument,
                 "Avro value of kind " + std::to_string(static_cast<int>(value.kind)) +
                     " does not fit type " + std::string(avro_type_name(node.type)) +
                     (node.name.empty() ? "" : " `" + node.name + "`"));
}

bool branch_matches(const AvroNode& branch, const AvroValue& value) {
    using Kind = AvroValue::Kind;
    switch (branch.type) {
        case AvroType::kNull:
            return value.kind == Kind::kNull;
        case AvroType::kBoolean:
            return value.kind == Kind::kBool;
        case AvroType::kInt:
        case AvroType::kLong:
        case AvroType::kEnum:
            return value.kind == Kind::kLong;
        case AvroType::kFloat:
        case AvroType::kDouble:
            return value.kind == Kind::kDouble;
        case AvroType::kBytes:
        case AvroType::kString:
            return value.kind == Kind::kBytes;
        case AvroType::kFixed:
            return value.kind == Kind::kBytes && value.bytes.size() == branch.fixed_size;
        case AvroType::kRecord:
            return value.kind == Kind::kRecord;
        case AvroType::kArray:
            return value.kind == Kind::kArray;
        case AvroType::kMap:
            return value.kind == Kind::kMap;
        case AvroType::kUnion:
            return false;
    }
    return false;
}

Result<std::string> deflate_raw(std::string_view input) {
    z_stream stream{};
    if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK) {
        return Error(ErrorCode::kInternal, "deflateInit2 failed");
    }
    std::string out(deflateBound(&stream, input.size()), '\0');
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
    stream.avail_in = static_cast<uInt>(input.size());
    stream.next_out = reinterpret_cast<Bytef*>(out.data());
    stream.avail_out = static_cast<uInt>(out.size());
    const int rc = deflate(&stream, Z_FINISH);
    out.resize(stream.total_out);
    deflateEnd(&stream);
    if (rc != Z_STREAM_END) return Error(ErrorCode::kInternal, "deflate failed");
    return out;
}

}  // namespace

Status avro_encode(const AvroNode& node, const AvroValue& value, std::string& out) {
    using Kind = AvroValue::Kind;
    switch (node.type) {
        case AvroType::kNull:
            if (value.kind != Kind::kNull) return mismatch(node, value);
            return {};
        case AvroType::kBoolean:
            if (value.kind != Kind::kBool) return mismatch(node, value);
            out.push_back(value.boolean ? 1 : 0);
            return {};
        case AvroType::kInt:
            if (value.kind != Kind::kLong || value.integer < INT32_MIN ||
                value.integer > INT32_MAX) {
                return mismatch(node, value);
            }
            put_long(out, value.integer);
            return {};
        case AvroType::kLong:
            if (value.kind != Kind::kLong) return mismatch(node, value);
            put_long(out, value.integer);
            return {};
        case AvroType::kEnum:
            if (value.kind != Kind::kLong || value.integer < 0 ||
                static_cast<uint64_t>(value.integer) >= node.symbols.size()) {
                return mismatch(node, value);
            }
            put_long(out, value.integer);
            return {};
        case AvroType::kFloat: {
            if (value.kind != Kind::kDouble) return mismatch(node, value);
            const float f = static_cast<float>(value.real);
            char buffer[4];
            std::memcpy(buffer, &f, 4);
            out.append(buffer, 4);
            return {};
        }
        case AvroType::kDouble: {
            if (value.kind != Kind::kDouble) return mismatch(node, value);
            char buffer[8];
            std::memcpy(buffer, &value.real, 8);
            out.append(buffer, 8);
            return {};
        }
        case AvroType::kBytes:
        case AvroType::kString:
            if (value.kind != Kind::kBytes) return mismatch(node, value);
            put_bytes(out, value.bytes);
            return {};
        case AvroType::kFixed:
            if (value.kind != Kind::kBytes || value.bytes.size() != node.fixed_size) {
                return mismatch(node, value);
            }
            out.append(value.bytes);
            return {};
        case AvroType::kRecord:
            if (value.kind != Kind::kRecord || value.items.size() != node.fields.size()) {
                return mismatch(node, value);
            }
            for (std::size_t i = 0; i < node.fields.size(); ++i) {
                auto status = avro_encode(*node.fields[i].type, value.items[i], out);
                if (!status.ok()) {
                    return Error(ErrorCode::kInvalidArgument, "field `" + node.fields[i].name +
                                                                  "`: " + status.error().message());
                }
            }
            return {};
        case AvroType::kArray:
            if (value.kind != Kind::kArray) return mismatch(node, value);
            if (!value.items.empty()) {
                put_long(out, static_cast<int64_t>(value.items.size()));
                for (const AvroValue& item : value.items) {
                    MILLRACE_TRY(avro_encode(*node.items, item, out));
                }
            }
            put_long(out, 0);
            return {};
        case AvroType::kMap:
            if (value.kind != Kind::kMap) return mismatch(node, value);
            if (value.keys.size() != value.items.size()) return mismatch(node, value);
            if (!value.keys.empty()) {
                put_long(out, static_cast<int64_t>(value.keys.size()));
                for (std::size_t i = 0; i < value.keys.size(); ++i) {
                    put_bytes(out, value.keys[i]);
                    MILLRACE_TRY(avro_encode(*node.values, value.items[i], out));
                }
            }
            put_long(out, 0);
            return {};
        case AvroType::kUnion: {
            std::optional<std::size_t> branch = value.branch;
            if (!branch) {
                for (std::size_t b = 0; b < node.branches.size(); ++b) {
                    if (branch_matches(*node.branches[b], value)) {
                        branch = b;
                        break;
                    }
                }
            }
            if (!branch || *branch >= node.branches.size()) return mismatch(node, value);
            put_long(out, static_cast<int64_t>(*branch));
            return avro_encode(*node.branches[*branch], value, out);
        }
    }
    return mismatch(node, value);
}

AvroWriter::AvroWriter(std::shared_ptr<const AvroSchema> schema, AvroCodec codec,
                       std::map<std::string, std::string> metadata)
    : schema_(std::move(schema)), codec_(codec), metadata_(std::move(metadata)) {
    std::random_device device;
    sync_.resize(16);
    for (char& c : sync_) c = static_cast<char>(device() & 0xff);
    metadata_["avro.schema"] = schema_->json();
    metadata_["avro.codec"] = codec_ == AvroCodec::kDeflate ? "deflate" : "null";
}

Status AvroWriter::append(const AvroValue& value) {
    const std::size_t before = block_.size();
    auto status = avro_encode(schema_->root(), value, block_);
    if (!status.ok()) {
        block_.resize(before);
        return status;
    }
    if (++block_rows_ >= kBlockRows) return flush_block();
    return {};
}

Status AvroWriter::flush_block() {
    if (!header_written_) {
        out_.append("Obj\x01", 4);
        put_long(out_, static_cast<int64_t>(metadata_.size()));
        for (const auto& [key, value] : metadata_) {
            put_bytes(out_, key);
            put_bytes(out_, value);
        }
        put_long(out_, 0);
        out_.append(sync_);
        header_written_ = true;
    }
    if (block_rows_ == 0) return {};
    std::string data;
    if (codec_ == AvroCodec::kDeflate) {
        MILLRACE_ASSIGN_OR_RETURN(data, deflate_raw(block_));
    } else {
        data = std::move(block_);
    }
    put_long(out_, static_cast<int64_t>(block_rows_));
    put_long(out_, static_cast<int64_t>(data.size()));
    out_.append(data);
    out_.append(sync_);
    block_.clear();
    block_rows_ = 0;
    return {};
}

Result<std::string> AvroWriter::finish() {
    MILLRACE_TRY(flush_block());
    return std::move(out_);
}

}  // namespace millrace
