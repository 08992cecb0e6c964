#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace millrace {

/// The compression codec of a Kafka RecordBatch v2: bits 0-2 of its attributes. The records
/// section (everything after the 61-byte header) is compressed as one blob:
///
///   gzip    RFC 1952 stream (zlib)
///   snappy  Kafka's xerial framing: magic 82 'SNAPPY' 00, int32 version, int32 compatible
///           version, then blocks of (int32 big-endian length, raw snappy block); a raw snappy
///           block without the magic is accepted too
///   lz4     LZ4 frame format (liblz4 LZ4F)
///   zstd    one or more zstd frames (content size may be absent)
enum class BatchCodec : int8_t { kNone = 0, kGzip = 1, kSnappy = 2, kLz4 = 3, kZstd = 4 };

namespace batch_compression {

/// Decompresses `input` with `codec`, appending to `out`. kCorruption when the input does not
/// decode or would expand beyond `max_size` bytes (a hostile or corrupt blob never makes us
/// allocate more); kInvalidArgument for an unknown codec.
Status decompress(BatchCodec codec, std::string_view input, std::size_t max_size, std::string& out);

/// Compresses `input` with `codec` into `out` (replacing its contents), in the layouts above.
/// Used by tests and by anything that writes compressed batches.
void compress(BatchCodec codec, std::string_view input, std::string& out);

}  // namespace batch_compression

}  // namespace millrace
