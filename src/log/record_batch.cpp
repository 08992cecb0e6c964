#include "log/record_batch.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "log/batch_compression.h"
#include "log/crc32c.h"

namespace millrace::record_batch {

namespace {

void put_be16(char* out, uint16_t value) {
    out[0] = static_cast<char>(value >> 8);
    out[1] = static_cast<char>(value);
}
void put_be32(char* out, uint32_t value) {
    for (int i = 3; i >= 0; --i) {
        out[i] = static_cast<char>(value);
        value >>= 8;
    }
}
void put_be64(char* out, uint64_t value) {
    for (int i = 7; i >= 0; --i) {
        out[i] = static_cast<char>(value);
        value >>= 8;
    }
}
uint32_t get_be32(const char* in) {
    const auto* b = reinterpret_cast<const unsigned char*>(in);
    return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
}
uint64_t get_be64(const char* in) { return (uint64_t{get_be32(in)} << 32) | get_be32(in + 4); }

std::size_t varint_size(int64_t value) {
    auto zigzag = (static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63);
    std::size_t length = 1;
    while (zigzag >= 0x80) {
        zigzag >>= 7;
        ++length;
    }
    return length;
}

/// Writes a zig-zag varint at `out` (room for 10 bytes); returns the end.
char* write_varint(char* out, int64_t value) {
    auto zigzag = (static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63);
    while (zigzag >= 0x80) {
        *out++ = static_cast<char>((zigzag & 0x7f) | 0x80);
        zigzag >>= 7;
    }
    *out++ = static_cast<char>(zigzag);
    return out;
}

/// The bytes of one record after its length varint.
std::size_t record_body_size(const RecordInput& record, int64_t base_timestamp, std::size_t index) {
    const int64_t key_length = record.key ? static_cast<int64_t>(record.key->size()) : int64_t{-1};
    const auto value_length = static_cast<int64_t>(record.value.size());
    return 1 + varint_size(record.timestamp_ms - base_timestamp) +
           varint_size(static_cast<int64_t>(index)) + varint_size(key_length) +
           (record.key ? record.key->size() : 0) + varint_size(value_length) + record.value.size() +
           1;
}

/// Reads a zig-zag varint at `pos` in `in`; false when it runs past the end or over 10 bytes.
bool get_varint(std::string_view in, std::size_t& pos, int64_t& value) {
    uint64_t raw = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (pos >= in.size()) return false;
        const auto byte = static_cast<unsigned char>(in[pos++]);
        raw |= static_cast<uint64_t>(byte & 0x7f) << shift;
        if ((byte & 0x80) == 0) {
            value = static_cast<int64_t>(raw >> 1) ^ -static_cast<int64_t>(raw & 1);
            return true;
        }
    }
    return false;
}

Error corrupt(std::string message) { return Error(ErrorCode::kCorruption, std::move(message)); }

/// Parses one record at `pos`; fills `view` (offset relative) and advances `pos`.
bool parse_record(std::string_view batch, std::size_t& pos, const Header& header,
                  RecordView& view) {
    int64_t length = 0;
    if (!get_varint(batch, pos, length)) return false;
    if (length < 1 || static_cast<uint64_t>(length) > batch.size() - pos) return false;
    const std::string_view record = batch.substr(pos, static_cast<std::size_t>(length));
    pos += static_cast<std::size_t>(length);
    std::size_t at = 1;  // attributes
    int64_t timestamp_delta = 0;
    int64_t offset_delta = 0;
    int64_t key_length = 0;
    if (!get_varint(record, at, timestamp_delta) || !get_varint(record, at, offset_delta) ||
        !get_varint(record, at, key_length)) {
        return false;
    }
    if (offset_delta < 0 || offset_delta > header.last_offset_delta) return false;
    view.offset = header.base_offset + offset_delta;
    view.timestamp_ms = header.base_timestamp + timestamp_delta;
    if (key_length >= 0) {
        if (static_cast<uint64_t>(key_length) > record.size() - at) return false;
        view.key = record.substr(at, static_cast<std::size_t>(key_length));
        at += static_cast<std::size_t>(key_length);
    } else if (key_length == -1) {
        view.key.reset();
    } else {
        return false;
    }
    int64_t value_length = 0;
    if (!get_varint(record, at, value_length)) return false;
    if (value_length >= 0) {
        if (static_cast<uint64_t>(value_length) > record.size() - at) return false;
        view.value = record.substr(at, static_cast<std::size_t>(value_length));
        at += static_cast<std::size_t>(value_length);
    } else if (value_length == -1) {
        view.value = {};
    } else {
        return false;
    }
    int64_t header_count = 0;
    if (!get_varint(record, at, header_count) || header_count < 0) return false;
    for (int64_t h = 0; h < header_count; ++h) {  // headers: skipped (we never write them)
        for (int part = 0; part < 2; ++part) {
            int64_t size = 0;
            if (!get_varint(record, at, size)) return false;
            if (size < 0) continue;
            if (static_cast<uint64_t>(size) > record.size() - at) return false;
            at += static_cast<std::size_t>(size);
        }
    }
    return at == record.size();
}

}  // namespace

void encode(std::span<const RecordInput> records, std::string& out) {
    const std::size_t start = out.size();
    int64_t base_timestamp = records.front().timestamp_ms;
    int64_t max_timestamp = base_timestamp;
    // One pass for the sizes, so the batch grows once: a copy per byte of payload, no
    // reallocation while records are appended.
    std::size_t encoded_size = kHeaderSize;
    for (std::size_t i = 0; i < records.size(); ++i) {
        const RecordInput& record = records[i];
        max_timestamp = std::max(max_timestamp, record.timestamp_ms);
        const std::size_t body = record_body_size(record, base_timestamp, i);
        encoded_size += varint_size(static_cast<int64_t>(body)) + body;
    }
    out.reserve(start + encoded_size);
    out.resize(start + kHeaderSize);
    // Each record is at most four appends: the fixed fields up to the key's length, the key,
    // the value's length, the value (the header count, 0, rides with the next prefix or ends
    // the batch).
    for (std::size_t i = 0; i < records.size(); ++i) {
        const RecordInput& record = records[i];
        const int64_t key_length =
            record.key ? static_cast<int64_t>(record.key->size()) : int64_t{-1};
        const auto value_length = static_cast<int64_t>(record.value.size());
        char prefix[64];
        char* at = prefix;
        at = write_varint(at, static_cast<int64_t>(record_body_size(record, base_timestamp, i)));
        *at++ = 0;  // attributes
        at = write_varint(at, record.timestamp_ms - base_timestamp);
        at = write_varint(at, static_cast<int64_t>(i));
        at = write_varint(at, key_length);
        if (record.key) {
            out.append(prefix, static_cast<std::size_t>(at - prefix));
            out.append(*record.key);
            at = prefix;
        }
        at = write_varint(at, value_length);
        out.append(prefix, static_cast<std::size_t>(at - prefix));
        out.append(record.value);
        out.push_back(0);  // header count
    }
    char* header = out.data() + start;
    const std::size_t total = out.size() - start;
    put_be64(header, 0);
    put_be32(header + 8, static_cast<uint32_t>(total - kLengthPrefix));
    put_be32(header + 12, 0);
    header[16] = kMagic;
    put_be16(header + 21, 0);
    put_be32(header + 23, static_cast<uint32_t>(records.size() - 1));
    put_be64(header + 27, static_cast<uint64_t>(base_timestamp));
    put_be64(header + 35, static_cast<uint64_t>(max_timestamp));
    put_be64(header + 43, std::numeric_limits<uint64_t>::max());
    put_be16(header + 51, 0xffff);
    put_be32(header + 53, 0xffffffffu);
    put_be32(header + 57, static_cast<uint32_t>(records.size()));
    put_be32(header + 17, crc32c(header + 21, total - 21));
}

void encode_control(int64_t producer_id, int16_t epoch, bool commit, int64_t timestamp_ms,
                    std::string& out) {
    constexpr uint16_t kTransactionalAndControl = 0x30;
    const char key[4] = {0, 0, 0, static_cast<char>(commit ? 1 : 0)};
    const char value[6] = {0, 0, 0, 0, 0, 0};
    const RecordInput marker{std::string_view(key, sizeof(key)),
                             std::string_view(value, sizeof(value)), timestamp_ms};
    const std::size_t start = out.size();
    encode(std::span<const RecordInput>(&marker, 1), out);
    char* header = out.data() + start;
    put_be16(header + 21, kTransactionalAndControl);
    put_be64(header + 43, static_cast<uint64_t>(producer_id));
    put_be16(header + 51, static_cast<uint16_t>(epoch));
    put_be32(header + 17, crc32c(header + 21, out.size() - start - 21));
}

void set_base_offset(char* batch, Offset base) { put_be64(batch, static_cast<uint64_t>(base)); }

Header read_header(const char* bytes) {
    Header header;
    header.base_offset = static_cast<Offset>(get_be64(bytes));
    header.batch_length = static_cast<int32_t>(get_be32(bytes + 8));
    header.magic = static_cast<int8_t>(bytes[16]);
    header.crc = get_be32(bytes + 17);
    header.attributes = static_cast<int16_t>((static_cast<unsigned char>(bytes[21]) << 8) |
                                             static_cast<unsigned char>(bytes[22]));
    header.last_offset_delta = static_cast<int32_t>(get_be32(bytes + 23));
    header.base_timestamp = static_cast<int64_t>(get_be64(bytes + 27));
    header.max_timestamp = static_cast<int64_t>(get_be64(bytes + 35));
    header.producer_id = static_cast<int64_t>(get_be64(bytes + 43));
    header.producer_epoch = static_cast<int16_t>((static_cast<unsigned char>(bytes[51]) << 8) |
                                                 static_cast<unsigned char>(bytes[52]));
    header.record_count = static_cast<int32_t>(get_be32(bytes + 57));
    return header;
}

Status validate(std::string_view batch) {
    if (batch.size() < kHeaderSize) return corrupt("record batch shorter than its header");
    const Header header = read_header(batch.data());
    if (header.batch_length < 0 || header.total_size() != batch.size()) {
        return corrupt("record batch length does not match");
    }
    if (header.magic != kMagic) return corrupt("record batch magic is not 2");
    if (crc32c(batch.data() + 21, batch.size() - 21) != header.crc) {
        return corrupt("record batch CRC mismatch");
    }
    if (header.base_offset < 0 || header.record_count <= 0 ||
        header.last_offset_delta != header.record_count - 1) {
        return corrupt("record batch counts are inconsistent");
    }
    if (header.codec() > static_cast<int8_t>(BatchCodec::kZstd)) {
        return corrupt("record batch has unknown compression codec " +
                       std::to_string(header.codec()));
    }
    std::string expanded;
    std::string_view records = batch;
    std::size_t pos = kHeaderSize;
    if (header.codec() != 0) {
        expanded.assign(batch.substr(0, kHeaderSize));
        MILLRACE_TRY(batch_compression::decompress(static_cast<BatchCodec>(header.codec()),
                                                   batch.substr(kHeaderSize), kMaxBatchSize,
                                                   expanded));
        records = expanded;
    }
    RecordView view;
    for (int32_t i = 0; i < header.record_count; ++i) {
        if (!parse_record(records, pos, header, view)) return corrupt("record does not parse");
        if (view.offset != header.base_offset + i) {
            return corrupt("record offset deltas do not run 0..count-1");
        }
    }
    if (pos != records.size()) return corrupt("bytes after the last record");
    return {};
}

Result<bool> decompress_all(std::string_view batches, std::string& out) {
    bool any = false;
    for (std::size_t at = 0; at + kHeaderSize <= batches.size();) {
        const Header header = read_header(batches.data() + at);
        if (header.codec() != 0) any = true;
        at += header.total_size();
    }
    if (!any) return false;
    out.clear();
    for (std::size_t at = 0; at + kHeaderSize <= batches.size();) {
        const Header header = read_header(batches.data() + at);
        if (header.batch_length < 0 || header.total_size() < kHeaderSize ||
            header.total_size() > batches.size() - at) {
            return corrupt("record batch length does not match");
        }
        const std::string_view batch = batches.substr(at, header.total_size());
        at += header.total_size();
        if (header.codec() == 0) {
            out.append(batch);
            continue;
        }
        const std::size_t start = out.size();
        out.append(batch.substr(0, kHeaderSize));
        MILLRACE_TRY(batch_compression::decompress(static_cast<BatchCodec>(header.codec()),
                                                   batch.substr(kHeaderSize), kMaxBatchSize, out));
        char* copy = out.data() + start;
        const std::size_t total = out.size() - start;
        put_be32(copy + 8, static_cast<uint32_t>(total - kLengthPrefix));
        put_be16(copy + 21, static_cast<uint16_t>(header.attributes & ~0x7));
        put_be32(copy + 17, crc32c(copy + 21, total - 21));
    }
    return true;
}

Status decode(std::string_view batch, Offset min_offset, std::vector<RecordView>& out) {
    const Header header = read_header(batch.data());
    if (header.codec() != 0) return corrupt("compressed record batch (expand it first)");
    if (header.control()) return {};
    std::size_t pos = kHeaderSize;
    RecordView view;
    for (int32_t i = 0; i < header.record_count; ++i) {
        if (!parse_record(batch, pos, header, view)) return corrupt("record does not parse");
        if (view.offset >= min_offset) out.push_back(view);
    }
    return {};
}

}  // namespace millrace::record_batch
