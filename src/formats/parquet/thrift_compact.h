#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace millrace::parquet {

/// Element and field types of the Thrift compact protocol (the encoding of all Parquet
/// metadata). A field header is one byte `delta << 4 | type` when the field id grows by 1..15
/// over the previous field of the same struct, else the type byte followed by the zigzag-varint
/// field id. Booleans live in the type nibble of their field header.
///
///   struct   := field* stop
///   field    := header value
///   i16/i32/i64 := zigzag varint      double := 8 bytes LE
///   binary   := varint length, bytes
///   list     := (size << 4 | elem) if size < 15, else (0xF0 | elem) varint size; elements
///   stop     := 0x00
enum class CompactType : uint8_t {
    kStop = 0,
    kTrue = 1,
    kFalse = 2,
    kByte = 3,
    kI16 = 4,
    kI32 = 5,
    kI64 = 6,
    kDouble = 7,
    kBinary = 8,
    kList = 9,
    kSet = 10,
    kMap = 11,
    kStruct = 12,
};

/// Writes compact-protocol structs into a string. Fields must be written in increasing id order
/// inside one struct (they are here: the Parquet structs list them that way).
class CompactWriter {
public:
    explicit CompactWriter(std::string& out) : out_(out) {}

    void field_i32(int16_t id, int32_t value);
    void field_i64(int16_t id, int64_t value);
    void field_bool(int16_t id, bool value);
    void field_i8(int16_t id, int8_t value);
    void field_i16(int16_t id, int16_t value);
    void field_binary(int16_t id, std::string_view value);
    /// Opens a struct-valued field; close it with end_struct().
    void field_struct(int16_t id);
    /// Opens a list-valued field of `size` elements of `element` type.
    void field_list(int16_t id, CompactType element, std::size_t size);
    /// Opens a struct that is a list element (no field header).
    void begin_struct();
    /// Writes the stop byte and returns to the enclosing struct.
    void end_struct();

    void write_i32(int32_t value) { write_varint(zigzag(value)); }
    void write_binary(std::string_view value);

private:
    static uint64_t zigzag(int64_t value) {
        return (static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63);
    }
    void write_varint(uint64_t value);
    void field_header(int16_t id, CompactType type);

    std::string& out_;
    int16_t last_id_ = 0;
    int16_t stack_[64] = {};
    int depth_ = 0;
};

/// Reads compact-protocol values from a byte range. Every read is bounds-checked; on malformed
/// input it sets failed() and returns zeros, so parsers check once per struct. Nesting is limited
/// and list sizes are capped by the bytes that remain, so hostile input cannot make a caller
/// allocate more than the input's size.
class CompactReader {
public:
    explicit CompactReader(std::string_view bytes) : bytes_(bytes) {}

    bool failed() const { return failed_; }
    const char* failure() const { return failure_; }
    std::size_t position() const { return position_; }

    /// Enters a struct (resets the field-id delta base).
    bool begin_struct();
    void end_struct();
    /// Reads the next field header; false at the struct's stop byte (or on failure).
    bool next_field(CompactType& type, int16_t& id);

    int32_t read_i32();
    int64_t read_i64();
    int8_t read_i8() { return static_cast<int8_t>(read_byte()); }
    bool read_bool(CompactType field_type) { return field_type == CompactType::kTrue; }
    std::string_view read_binary();
    /// Reads a list header; `size` is capped by the bytes left (each element takes >= 1 byte).
    bool read_list_header(CompactType& element, uint32_t& size);
    /// Skips a value of `type` (nested structs and lists included).
    void skip(CompactType type);

private:
    uint64_t read_varint();
    uint8_t read_byte();
    void fail(const char* why) {
        if (!failed_) failure_ = why;
        failed_ = true;
    }

    std::string_view bytes_;
    std::size_t position_ = 0;
    bool failed_ = false;
    const char* failure_ = "";
    int16_t last_id_ = 0;
    int16_t stack_[64] = {};
    int depth_ = 0;
};

}  // namespace millrace::parquet
