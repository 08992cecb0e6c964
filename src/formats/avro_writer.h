#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "formats/avro_schema.h"

namespace millrace {

/// Avro block compression: none, or raw deflate (RFC 1951, as the Avro specification says).
enum class AvroCodec { kNull, kDeflate };

/// Writes an Avro object container file into memory (Avro 1.11, "Object Container Files"):
///
///   "Obj" 0x01                         magic
///   map<string, bytes> metadata        avro.schema (the writer schema JSON), avro.codec,
///                                      and the caller's keys (Iceberg: schema,
///                                      partition-spec, partition-spec-id, format-version,
///                                      content)
///   16 bytes sync marker               random per file
///   block*:  long count, long size, <size bytes of count data, compressed>, sync marker
///
/// Values are encoded with Avro's binary encoding: zig-zag varints for int and long, little-
/// endian IEEE float and double, length-prefixed bytes and strings, records as their fields in
/// order, arrays and maps as counted blocks ended by 0, unions as the branch index then the
/// value. The files it writes are small (lake metadata), so the whole file is built in memory.
/// Not thread-safe.
class AvroWriter {
public:
    AvroWriter(std::shared_ptr<const AvroSchema> schema, AvroCodec codec,
               std::map<std::string, std::string> metadata = {});

    /// Encodes one datum against the schema; kInvalidArgument when it does not fit (and then
    /// nothing of it is kept).
    Status append(const AvroValue& value);
    /// The complete file.
    Result<std::string> finish();

    /// Rows per block: a block is flushed when it holds this many.
    static constexpr std::size_t kBlockRows = 4096;

private:
    Status flush_block();

    std::shared_ptr<const AvroSchema> schema_;
    AvroCodec codec_;
    std::map<std::string, std::string> metadata_;
    std::string sync_;
    std::string block_;
    std::size_t block_rows_ = 0;
    std::string out_;
    bool header_written_ = false;
};

/// Appends Avro's binary encoding of `value` (of schema `node`) to `out`.
Status avro_encode(const AvroNode& node, const AvroValue& value, std::string& out);

}  // namespace millrace
