#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "formats/avro_schema.h"

namespace millrace {

/// Limits that keep hostile files from exhausting memory or the stack.
struct AvroReaderLimits {
    /// Decompressed bytes of one block.
    std::size_t max_block_bytes = 256u << 20;
    /// Values (of any kind, nested ones included) decoded from the whole file.
    std::size_t max_values = 64u << 20;
};

/// Reads an Avro object container file (the layout is drawn in avro_writer.h) from bytes in
/// memory with its own writer schema; codecs null and deflate. Every length, count and varint
/// is checked against the bytes left, so truncated or hostile input is an Error (kCorruption,
/// kParse for a bad schema, kUnsupported for other codecs), never a crash.
class AvroReader {
public:
    /// Parses the header; `source` names the file in errors.
    static Result<AvroReader> open(std::string bytes, const std::string& source,
                                   AvroReaderLimits limits = {});

    const AvroSchema& schema() const { return *schema_; }
    const std::shared_ptr<const AvroSchema>& schema_ptr() const { return schema_; }
    /// The file metadata, avro.schema and avro.codec included.
    const std::map<std::string, std::string>& metadata() const { return metadata_; }
    /// A metadata value, or "" when absent.
    std::string metadata_value(const std::string& key) const;

    /// Decodes every datum of every block.
    Result<std::vector<AvroValue>> read_all() const;

private:
    AvroReader() = default;

    std::string bytes_;
    std::string source_;
    AvroReaderLimits limits_;
    std::size_t data_start_ = 0;
    std::string sync_;
    bool deflate_ = false;
    std::shared_ptr<const AvroSchema> schema_;
    std::map<std::string, std::string> metadata_;
};

/// Decodes one datum of schema `node` from the front of `input` (which it advances).
/// `budget` counts down the values decoded; running out is kResourceExhausted.
Result<AvroValue> avro_decode(const AvroNode& node, std::string_view& input, std::size_t& budget);

}  // namespace millrace
