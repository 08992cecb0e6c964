#include "formats/parquet/thrift_compact.h"

#include <cstring>

namespace millrace::parquet {

void CompactWriter::write_varint(uint64_t value) {
    while (value >= 0x80) {
        out_.push_back(static_cast<char>((value & 0x7F) | 0x80));
        value >>= 7;
    }
    out_.push_back(static_cast<char>(value));
}

void CompactWriter::field_header(int16_t id, CompactType type) {
    const int delta = id - last_id_;
    if (delta > 0 && delta <= 15) {
        out_.push_back(static_cast<char>((delta << 4) | static_cast<int>(type)));
    } else {
        out_.push_back(static_cast<char>(type));
        write_varint(zigzag(id));
    }
    last_id_ = id;
}

void CompactWriter::field_i32(int16_t id, int32_t value) {
    field_header(id, CompactType::kI32);
    write_varint(zigzag(value));
}

void CompactWriter::field_i64(int16_t id, int64_t value) {
    field_header(id, CompactType::kI64);
    write_varint(zigzag(value));
}

void CompactWriter::field_bool(int16_t id, bool value) {
    field_header(id, value ? CompactType::kTrue : CompactType::kFalse);
}

void CompactWriter::field_i8(int16_t id, int8_t value) {
    field_header(id, CompactType::kByte);
    out_.push_back(static_cast<char>(value));
}

void CompactWriter::field_i16(int16_t id, int16_t value) {
    field_header(id, CompactType::kI16);
    write_varint(zigzag(value));
}

void CompactWriter::write_binary(std::string_view value) {
    write_varint(value.size());
    out_.append(value);
}

void CompactWriter::field_binary(int16_t id, std::string_view value) {
    field_header(id, CompactType::kBinary);
    write_binary(value);
}

void CompactWriter::field_struct(int16_t id) {
    field_header(id, CompactType::kStruct);
    begin_struct();
}

void CompactWriter::field_list(int16_t id, CompactType element, std::size_t size) {
    field_header(id, CompactType::kList);
    if (size < 15) {
        out_.push_back(static_cast<char>((size << 4) | static_cast<int>(element)));
    } else {
        out_.push_back(static_cast<char>(0xF0 | static_cast<int>(element)));
        write_varint(size);
    }
}

void CompactWriter::begin_struct() {
    stack_[depth_++] = last_id_;
    last_id_ = 0;
}

void CompactWriter::end_struct() {
    out_.push_back(0);
    last_id_ = stack_[--depth_];
}

uint8_t CompactReader::read_byte() {
    if (position_ >= bytes_.size()) {
        fail("unexpected end of metadata");
        return 0;
    }
    return static_cast<uint8_t>(bytes_[position_++]);
}

uint64_t CompactReader::read_varint() {
    uint64_t result = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        const uint8_t byte = read_byte();
        if (failed_) return 0;
        result |= static_cast<uint64_t>(byte & 0x7F) << shift;
        if ((byte & 0x80) == 0) return result;
    }
    fail("varint longer than 10 bytes");
    return 0;
}

bool CompactReader::begin_struct() {
    if (depth_ >= 63) {
        fail("metadata nested too deeply");
        return false;
    }
    stack_[depth_++] = last_id_;
    last_id_ = 0;
    return true;
}

void CompactReader::end_struct() {
    if (depth_ > 0) last_id_ = stack_[--depth_];
}

bool CompactReader::next_field(CompactType& type, int16_t& id) {
    const uint8_t byte = read_byte();
    if (failed_ || byte == 0) return false;
    type = static_cast<CompactType>(byte & 0x0F);
    const int delta = byte >> 4;
    if (delta != 0) {
        id = static_cast<int16_t>(last_id_ + delta);
    } else {
        const uint64_t raw = read_varint();
        id = static_cast<int16_t>(static_cast<int64_t>(raw >> 1) ^ -static_cast<int64_t>(raw & 1));
    }
    if (static_cast<uint8_t>(type) > static_cast<uint8_t>(CompactType::kStruct) ||
        type == CompactType::kStop) {
        fail("unknown field type");
        return false;
    }
    last_id_ = id;
    return !failed_;
}

int32_t CompactReader::read_i32() {
    const uint64_t raw = read_varint();
    return static_cast<int32_t>(static_cast<int64_t>(raw >> 1) ^ -static_cast<int64_t>(raw & 1));
}

int64_t CompactReader::read_i64() {
    const uint64_t raw = read_varint();
    return static_cast<int64_t>(raw >> 1) ^ -static_cast<int64_t>(raw & 1);
}

std::string_view CompactReader::read_binary() {
    const uint64_t size = read_varint();
    if (failed_) return {};
    if (size > bytes_.size() - position_) {
        fail("string length past the end of metadata");
        return {};
    }
    std::string_view value = bytes_.substr(position_, size);
    position_ += size;
    return value;
}

bool CompactReader::read_list_header(CompactType& element, uint32_t& size) {
    const uint8_t byte = read_byte();
    if (failed_) return false;
    element = static_cast<CompactType>(byte & 0x0F);
    uint64_t count = byte >> 4;
    if (count == 15) count = read_varint();
    if (failed_) return false;
    if (count > bytes_.size() - position_) {
        fail("list longer than the metadata");
        return false;
    }
    size = static_cast<uint32_t>(count);
    return true;
}

void CompactReader::skip(CompactType type) {
    if (failed_) return;
    switch (type) {
        case CompactType::kTrue:
        case CompactType::kFalse:
            return;
        case CompactType::kByte:
            read_byte();
            return;
        case CompactType::kI16:
        case CompactType::kI32:
        case CompactType::kI64:
            read_varint();
            return;
        case CompactType::kDouble:
            if (bytes_.size() - position_ < 8) {
                fail("unexpected end of metadata");
            } else {
                position_ += 8;
            }
            return;
        case CompactType::kBinary:
            read_binary();
            return;
        case CompactType::kList:
        case CompactType::kSet: {
            CompactType element;
            uint32_t size = 0;
            if (!read_list_header(element, size)) return;
            if (!begin_struct()) return;  // depth accounting for nested lists
            for (uint32_t i = 0; i < size && !failed_; ++i) {
                if (element == CompactType::kTrue || element == CompactType::kFalse) {
                    read_byte();  // booleans in lists take one byte each
                } else {
                    skip(element);
                }
            }
            end_struct();
            return;
        }
        case CompactType::kMap: {
            const uint64_t size = read_varint();
            if (size == 0 || failed_) return;
            if (size > bytes_.size() - position_) {
                fail("map longer than the metadata");
                return;
            }
            const uint8_t types = read_byte();
            if (!begin_struct()) return;
            for (uint64_t i = 0; i < size && !failed_; ++i) {
                skip(static_cast<CompactType>(types >> 4));
                skip(static_cast<CompactType>(types & 0x0F));
            }
            end_struct();
            return;
        }
        case CompactType::kStruct: {
            if (!begin_struct()) return;
            CompactType field_type;
            int16_t id;
            while (next_field(field_type, id)) skip(field_type);
            end_struct();
            return;
        }
        default:
            fail("unknown value type");
    }
}

}  // namespace millrace::parquet
