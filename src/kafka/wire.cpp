#include "kafka/wire.h"

#include <bit>
#include <limits>

namespace millrace::kafka {

bool WireReader::need(std::size_t size) {
    if (!ok_ || bytes_.size() - pos_ < size) {
        ok_ = false;
        return false;
    }
    return true;
}

int8_t WireReader::int8() {
    if (!need(1)) return 0;
    return static_cast<int8_t>(bytes_[pos_++]);
}

uint32_t WireReader::uint32() {
    if (!need(4)) return 0;
    const auto* b = reinterpret_cast<const unsigned char*>(bytes_.data() + pos_);
    pos_ += 4;
    return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
}

int16_t WireReader::int16() {
    if (!need(2)) return 0;
    const auto* b = reinterpret_cast<const unsigned char*>(bytes_.data() + pos_);
    pos_ += 2;
    return static_cast<int16_t>((b[0] << 8) | b[1]);
}

int32_t WireReader::int32() { return static_cast<int32_t>(uint32()); }

int64_t WireReader::int64() {
    const uint64_t high = uint32();
    const uint64_t low = uint32();
    return static_cast<int64_t>((high << 32) | low);
}

double WireReader::float64() { return std::bit_cast<double>(static_cast<uint64_t>(int64())); }

uint32_t WireReader::unsigned_varint() {
    uint32_t value = 0;
    for (int shift = 0; shift < 35; shift += 7) {
        if (!need(1)) return 0;
        const auto byte = static_cast<unsigned char>(bytes_[pos_++]);
        value |= static_cast<uint32_t>(byte & 0x7f) << shift;
        if ((byte & 0x80) == 0) return value;
    }
    ok_ = false;
    return 0;
}

int64_t WireReader::varlong() {
    uint64_t raw = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (!need(1)) return 0;
        const auto byte = static_cast<unsigned char>(bytes_[pos_++]);
        raw |= static_cast<uint64_t>(byte & 0x7f) << shift;
        if ((byte & 0x80) == 0)
            return static_cast<int64_t>(raw >> 1) ^ -static_cast<int64_t>(raw & 1);
    }
    ok_ = false;
    return 0;
}

int32_t WireReader::varint() {
    const int64_t value = varlong();
    if (value < std::numeric_limits<int32_t>::min() ||
        value > std::numeric_limits<int32_t>::max()) {
        ok_ = false;
        return 0;
    }
    return static_cast<int32_t>(value);
}

std::string_view WireReader::take(std::size_t size) {
    if (!need(size)) return {};
    const std::string_view out = bytes_.substr(pos_, size);
    pos_ += size;
    return out;
}

std::optional<std::size_t> WireReader::length_prefix(bool compact, bool wide) {
    const int64_t length =
        compact ? static_cast<int64_t>(unsigned_varint()) - 1 : (wide ? int32() : int16());
    if (!ok_) return std::nullopt;
    if (length < 0) {
        if (length != -1) ok_ = false;
        return std::nullopt;
    }
    return static_cast<std::size_t>(length);
}

std::optional<std::string_view> WireReader::string(bool compact) {
    const std::optional<std::size_t> length = length_prefix(compact, false);
    if (!length) return std::nullopt;
    const std::string_view value = take(*length);
    if (!ok_) return std::nullopt;
    return value;
}

std::optional<std::string_view> WireReader::bytes(bool compact) {
    const std::optional<std::size_t> length = length_prefix(compact, true);
    if (!length) return std::nullopt;
    const std::string_view value = take(*length);
    if (!ok_) return std::nullopt;
    return value;
}

std::optional<std::size_t> WireReader::array_length(bool compact) {
    const std::optional<std::size_t> length = length_prefix(compact, true);
    if (!length) return std::nullopt;
    if (*length > remaining()) {
        ok_ = false;
        return std::nullopt;
    }
    return length;
}

void WireReader::skip_tagged_fields() {
    const uint32_t count = unsigned_varint();
    for (uint32_t i = 0; i < count && ok_; ++i) {
        unsigned_varint();  // tag
        skip(unsigned_varint());
    }
}

void WireWriter::int16(int16_t value) {
    out_.push_back(static_cast<char>(static_cast<uint16_t>(value) >> 8));
    out_.push_back(static_cast<char>(value));
}

void WireWriter::uint32(uint32_t value) {
    for (int shift = 24; shift >= 0; shift -= 8) out_.push_back(static_cast<char>(value >> shift));
}

void WireWriter::int32(int32_t value) { uint32(static_cast<uint32_t>(value)); }

void WireWriter::int64(int64_t value) {
    uint32(static_cast<uint32_t>(static_cast<uint64_t>(value) >> 32));
    uint32(static_cast<uint32_t>(value));
}

void WireWriter::float64(double value) {
    int64(static_cast<int64_t>(std::bit_cast<uint64_t>(value)));
}

void WireWriter::unsigned_varint(uint32_t value) {
    while (value >= 0x80) {
        out_.push_back(static_cast<char>((value & 0x7f) | 0x80));
        value >>= 7;
    }
    out_.push_back(static_cast<char>(value));
}

void WireWriter::varlong(int64_t value) {
    uint64_t zigzag = (static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63);
    while (zigzag >= 0x80) {
        out_.push_back(static_cast<char>((zigzag & 0x7f) | 0x80));
        zigzag >>= 7;
    }
    out_.push_back(static_cast<char>(zigzag));
}

void WireWriter::varint(int32_t value) { varlong(value); }

void WireWriter::string(std::optional<std::string_view> value, bool compact) {
    if (compact) {
        unsigned_varint(value ? static_cast<uint32_t>(value->size() + 1) : 0);
    } else {
        int16(value ? static_cast<int16_t>(value->size()) : int16_t{-1});
    }
    if (value) out_.append(*value);
}

void WireWriter::bytes(std::optional<std::string_view> value, bool compact) {
    if (compact) {
        unsigned_varint(value ? static_cast<uint32_t>(value->size() + 1) : 0);
    } else {
        int32(value ? static_cast<int32_t>(value->size()) : -1);
    }
    if (value) out_.append(*value);
}

void WireWriter::array_length(std::optional<std::size_t> size, bool compact) {
    if (compact) {
        unsigned_varint(size ? static_cast<uint32_t>(*size + 1) : 0);
    } else {
        int32(size ? static_cast<int32_t>(*size) : -1);
    }
}

}  // namespace millrace::kafka
