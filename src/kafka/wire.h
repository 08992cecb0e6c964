#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace millrace::kafka {

/// Reads Kafka's primitive types (big-endian integers, strings, bytes, varints) from a
/// borrowed buffer. Every read is bounds-checked: past the end, or on a malformed length, the
/// reader enters a failed state, returns zeros and empty values from then on, and ok() says
/// false. Callers check ok() once at the end, so truncated or hostile input never crashes.
class WireReader {
public:
    explicit WireReader(std::string_view bytes) : bytes_(bytes) {}

    bool ok() const { return ok_; }
    void fail() { ok_ = false; }
    std::size_t position() const { return pos_; }
    std::size_t remaining() const { return ok_ ? bytes_.size() - pos_ : 0; }
    std::string_view rest() const { return ok_ ? bytes_.substr(pos_) : std::string_view(); }

    int8_t int8();
    int16_t int16();
    int32_t int32();
    int64_t int64();
    uint32_t uint32();
    double float64();
    /// Unsigned LEB128 (at most 5 bytes), the lengths of flexible versions.
    uint32_t unsigned_varint();
    /// Zig-zag signed varint (records) and varlong.
    int32_t varint();
    int64_t varlong();
    /// A view of the next `size` bytes (the reader fails when fewer remain).
    std::string_view take(std::size_t size);
    void skip(std::size_t size) { take(size); }

    /// int16 length (-1 = null) or, when `compact`, unsigned varint length + 1 (0 = null).
    std::optional<std::string_view> string(bool compact);
    /// int32 length (-1 = null) or, when `compact`, unsigned varint length + 1 (0 = null).
    std::optional<std::string_view> bytes(bool compact);
    /// An array length: int32 (-1 = null) or compact (0 = null). nullopt for null. A count that
    /// the remaining bytes cannot hold (each element takes at least one byte) fails the reader.
    std::optional<std::size_t> array_length(bool compact);
    /// Skips a tagged-field section (KIP-482): count, then (tag, size, bytes) each.
    void skip_tagged_fields();

private:
    bool need(std::size_t size);
    /// A length prefix: unsigned varint N + 1 when `compact`, else int32 (`wide`) or int16.
    /// nullopt for null (-1); any other negative length fails the reader.
    std::optional<std::size_t> length_prefix(bool compact, bool wide);

    std::string_view bytes_;
    std::size_t pos_ = 0;
    bool ok_ = true;
};

/// Writes Kafka's primitive types, appending to a string it owns.
class WireWriter {
public:
    WireWriter() = default;
    explicit WireWriter(std::string out) : out_(std::move(out)) {}

    void int8(int8_t value) { out_.push_back(static_cast<char>(value)); }
    void int16(int16_t value);
    void int32(int32_t value);
    void int64(int64_t value);
    void uint32(uint32_t value);
    void float64(double value);
    void unsigned_varint(uint32_t value);
    void varint(int32_t value);
    void varlong(int64_t value);
    void raw(std::string_view bytes) { out_.append(bytes); }

    /// Null when `value` is nullopt; see WireReader::string for the two layouts.
    void string(std::optional<std::string_view> value, bool compact);
    void bytes(std::optional<std::string_view> value, bool compact);
    /// -1 / 0 for null (`size` nullopt).
    void array_length(std::optional<std::size_t> size, bool compact);
    /// An empty tagged-field section.
    void empty_tagged_fields() { unsigned_varint(0); }

    std::size_t size() const { return out_.size(); }
    std::string& buffer() { return out_; }
    std::string take() { return std::move(out_); }

private:
    std::string out_;
};

}  // namespace millrace::kafka
