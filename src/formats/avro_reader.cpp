#include "formats/avro_reader.h"

#include <zlib.h>

#include <cstring>

namespace millrace {

namespace {

Error truncated(const char* what) {
    return Error(ErrorCode::kCorruption, std::string("Avro data ends inside ") + what);
}

Result<int64_t> get_long(std::string_view& input) {
    uint64_t n = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (input.empty()) return truncated("a varint");
        const auto byte = static_cast<uint8_t>(input.front());
        input.remove_prefix(1);
        if (shift == 63 && (byte & 0x7e) != 0) break;  // more than 64 bits
        n |= static_cast<uint64_t>(byte & 0x7f) << shift;
        if ((byte & 0x80) == 0) {
            return static_cast<int64_t>((n >> 1) ^ (~(n & 1) + 1));
        }
    }
    return Error(ErrorCode::kCorruption, "Avro varint longer than 64 bits");
}

Result<std::string_view> get_bytes(std::string_view& input) {
    MILLRACE_ASSIGN_OR_RETURN(int64_t size, get_long(input));
    if (size < 0 || static_cast<uint64_t>(size) > input.size()) return truncated("bytes");
    std::string_view out = input.substr(0, static_cast<std::size_t>(size));
    input.remove_prefix(static_cast<std::size_t>(size));
    return out;
}

Status spend(std::size_t& budget) {
    if (budget == 0) {
        return Error(ErrorCode::kResourceExhausted, "Avro file holds too many values");
    }
    --budget;
    return {};
}

// Reads the count of the next array or map block; negative counts carry a byte size after them
// (which lets readers skip a block), read and ignored here.
Result<int64_t> block_count(std::string_view& input) {
    MILLRACE_ASSIGN_OR_RETURN(int64_t count, get_long(input));
    if (count < 0) {
        if (count == INT64_MIN) return Error(ErrorCode::kCorruption, "bad Avro block count");
        count = -count;
        MILLRACE_ASSIGN_OR_RETURN(int64_t size, get_long(input));
        if (size < 0) return Error(ErrorCode::kCorruption, "bad Avro block size");
    }
    return count;
}

Result<std::string> inflate_raw(std::string_view input, std::size_t max_bytes) {
    z_stream stream{};
    if (inflateInit2(&stream, -15) != Z_OK)
        return Error(ErrorCode::kInternal, "inflateInit2 failed");
    std::string out;
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
    stream.avail_in = static_cast<uInt>(input.size());
    int rc = Z_OK;
    char buffer[1 << 16];
    while (rc != Z_STREAM_END) {
        stream.next_out = reinterpret_cast<Bytef*>(buffer);
        stream.avail_out = sizeof(buffer);
        rc = inflate(&stream, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END) {
            inflateEnd(&stream);
            return Error(ErrorCode::kCorruption, "bad deflate data in Avro block");
        }
        out.append(buffer, sizeof(buffer) - stream.avail_out);
        if (out.size() > max_bytes) {
            inflateEnd(&stream);
            return Error(ErrorCode::kResourceExhausted, "Avro block inflates beyond the limit");
        }
        if (rc == Z_OK && stream.avail_in == 0 && stream.avail_out != 0) {
            inflateEnd(&stream);
            return truncated("a deflate stream");
        }
    }
    inflateEnd(&stream);
    return out;
}

}  // namespace

Result<AvroValue> avro_decode(const AvroNode& node, std::string_view& input, std::size_t& budget) {
    MILLRACE_TRY(spend(budget));
    switch (node.type) {
        case AvroType::kNull:
            return AvroValue::null();
        case AvroType::kBoolean: {
            if (input.empty()) return truncated("a boolean");
            const char c = input.front();
            input.remove_prefix(1);
            if (c != 0 && c != 1) return Error(ErrorCode::kCorruption, "bad Avro boolean");
            return AvroValue::of_bool(c == 1);
        }
        case AvroType::kInt: {
            MILLRACE_ASSIGN_OR_RETURN(int64_t v, get_long(input));
            if (v < INT32_MIN || v > INT32_MAX) {
                return Error(ErrorCode::kCorruption, "Avro int out of range");
            }
            return AvroValue::of_long(v);
        }
        case AvroType::kLong: {
            MILLRACE_ASSIGN_OR_RETURN(int64_t v, get_long(input));
            return AvroValue::of_long(v);
        }
        case AvroType::kEnum: {
            MILLRACE_ASSIGN_OR_RETURN(int64_t v, get_long(input));
            if (v < 0 || static_cast<uint64_t>(v) >= node.symbols.size()) {
                return Error(ErrorCode::kCorruption, "Avro enum index out of range");
            }
            return AvroValue::of_long(v);
        }
        case AvroType::kFloat: {
            if (input.size() < 4) return truncated("a float");
            float f;
            std::memcpy(&f, input.data(), 4);
            input.remove_prefix(4);
            return AvroValue::of_double(f);
        }
        case AvroType::kDouble: {
            if (input.size() < 8) return truncated("a double");
            double d;
            std::memcpy(&d, input.data(), 8);
            input.remove_prefix(8);
            return AvroValue::of_double(d);
        }
        case AvroType::kBytes:
        case AvroType::kString: {
            MILLRACE_ASSIGN_OR_RETURN(std::string_view bytes, get_bytes(input));
            return AvroValue::of_bytes(std::string(bytes));
        }
        case AvroType::kFixed: {
            if (input.size() < node.fixed_size) return truncated("a fixed");
            AvroValue v = AvroValue::of_bytes(std::string(input.substr(0, node.fixed_size)));
            input.remove_prefix(node.fixed_size);
            return v;
        }
        case AvroType::kRecord: {
            AvroValue v = AvroValue::record({});
            v.items.reserve(node.fields.size());
            for (const AvroNode::FieldDef& field : node.fields) {
                MILLRACE_ASSIGN_OR_RETURN(AvroValue item, avro_decode(*field.type, input, budget));
                v.items.push_back(std::move(item));
            }
            return v;
        }
        case AvroType::kArray:
        case AvroType::kMap: {
            AvroValue v;
            v.kind =
                node.type == AvroType::kArray ? AvroValue::Kind::kArray : AvroValue::Kind::kMap;
            for (;;) {
                MILLRACE_ASSIGN_OR_RETURN(int64_t count, block_count(input));
                if (count == 0) break;
                // Each item costs budget, so a huge count of zero-byte items (nulls) is bounded.
                if (static_cast<uint64_t>(count) > budget) {
                    return Error(ErrorCode::kResourceExhausted, "Avro block count too large");
                }
                for (int64_t i = 0; i < count; ++i) {
                    if (node.type == AvroType::kArray) {
                        MILLRACE_ASSIGN_OR_RETURN(AvroValue item,
                                                  avro_decode(*node.items, input, budget));
                        v.items.push_back(std::move(item));
                    } else {
                        MILLRACE_ASSIGN_OR_RETURN(std::string_view key, get_bytes(input));
                        MILLRACE_ASSIGN_OR_RETURN(AvroValue item,
                                                  avro_decode(*node.values, input, budget));
                        v.keys.emplace_back(key);
                        v.items.push_back(std::move(item));
                    }
                }
            }
            return v;
        }
        case AvroType::kUnion: {
            MILLRACE_ASSIGN_OR_RETURN(int64_t branch, get_long(input));
            if (branch < 0 || static_cast<uint64_t>(branch) >= node.branches.size()) {
                return Error(ErrorCode::kCorruption, "Avro union branch out of range");
            }
            MILLRACE_ASSIGN_OR_RETURN(AvroValue v,
                                      avro_decode(*node.branches[branch], input, budget));
            v.branch = static_cast<std::size_t>(branch);
            return v;
        }
    }
    return Error(ErrorCode::kCorruption, "unknown Avro type");
}

Result<AvroReader> AvroReader::open(std::string bytes, const std::string& source,
                                    AvroReaderLimits limits) {
    AvroReader reader;
    reader.bytes_ = std::move(bytes);
    reader.source_ = source;
    reader.limits_ = limits;
    auto fail = [&](const Error& error) {
        return Error(error.code(), source + ": " + error.message());
    };
    std::string_view input = reader.bytes_;
    if (input.size() < 4 || input.substr(0, 4) != std::string_view("Obj\x01", 4)) {
        return Error(ErrorCode::kCorruption, source + ": not an Avro object container file");
    }
    input.remove_prefix(4);
    for (;;) {
        auto count = block_count(input);
        if (!count.ok()) return fail(count.error());
        if (*count == 0) break;
        for (int64_t i = 0; i < *count; ++i) {
            auto key = get_bytes(input);
            if (!key.ok()) return fail(key.error());
            auto value = get_bytes(input);
            if (!value.ok()) return fail(value.error());
            reader.metadata_[std::string(*key)] = std::string(*value);
        }
    }
    if (input.size() < 16) return fail(truncated("the header"));
    reader.sync_ = std::string(input.substr(0, 16));
    input.remove_prefix(16);
    reader.data_start_ = reader.bytes_.size() - input.size();
    const std::string codec = reader.metadata_value("avro.codec");
    if (codec == "deflate") {
        reader.deflate_ = true;
    } else if (!codec.empty() && codec != "null") {
        return Error(ErrorCode::kUnsupported, source + ": Avro codec `" + codec + "`");
    }
    auto schema_it = reader.metadata_.find("avro.schema");
    if (schema_it == reader.metadata_.end()) {
        return Error(ErrorCode::kCorruption, source + ": no avro.schema in the header");
    }
    auto schema = AvroSchema::parse(schema_it->second, source);
    if (!schema.ok()) return std::move(schema).error();
    reader.schema_ = std::move(schema).value();
    return reader;
}

std::string AvroReader::metadata_value(const std::string& key) const {
    auto it = metadata_.find(key);
    return it == metadata_.end() ? "" : it->second;
}

Result<std::vector<AvroValue>> AvroReader::read_all() const {
    auto fail = [&](const Error& error) {
        return Error(error.code(), source_ + ": " + error.message());
    };
    std::vector<AvroValue> out;
    std::size_t budget = limits_.max_values;
    std::string_view input = std::string_view(bytes_).substr(data_start_);
    while (!input.empty()) {
        auto count = get_long(input);
        if (!count.ok()) return fail(count.error());
        auto size = get_long(input);
        if (!size.ok()) return fail(size.error());
        if (*count < 0 || *size < 0 || static_cast<uint64_t>(*size) > input.size()) {
            return fail(truncated("a block"));
        }
        if (static_cast<uint64_t>(*count) > budget) {
            return fail(Error(ErrorCode::kResourceExhausted, "Avro block count too large"));
        }
        std::string_view raw = input.substr(0, static_cast<std::size_t>(*size));
        input.remove_prefix(static_cast<std::size_t>(*size));
        if (input.size() < 16 || input.substr(0, 16) != sync_) {
            return fail(
                Error(ErrorCode::kCorruption, "Avro block not followed by the sync marker"));
        }
        input.remove_prefix(16);
        std::string inflated;
        std::string_view data = raw;
        if (deflate_) {
            auto result = inflate_raw(raw, limits_.max_block_bytes);
            if (!result.ok()) return fail(result.error());
            inflated = std::move(result).value();
            data = inflated;
        }
        for (int64_t i = 0; i < *count; ++i) {
            auto value = avro_decode(schema_->root(), data, budget);
            if (!value.ok()) return fail(value.error());
            out.push_back(std::move(value).value());
        }
        if (!data.empty()) {
            return fail(Error(ErrorCode::kCorruption, "Avro block has bytes after its values"));
        }
    }
    return out;
}

}  // namespace millrace
