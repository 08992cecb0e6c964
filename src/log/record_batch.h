#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "log/fwd.h"

namespace millrace {

/// One record to append: an optional key, the value bytes, a timestamp in milliseconds since
/// the epoch (Kafka's unit). Borrows its bytes for the duration of the append call.
struct RecordInput {
    std::optional<std::string_view> key;
    std::string_view value;
    int64_t timestamp_ms = 0;
};

/// One stored record, borrowed from a buffer owned by whoever returned it (a PartitionReader).
struct RecordView {
    Offset offset = 0;
    int64_t timestamp_ms = 0;
    std::optional<std::string_view> key;
    std::string_view value;
};

/// The on-disk and wire layout of a batch of records: Kafka RecordBatch v2 (KIP-98), byte for
/// byte, so a Kafka-protocol listener can send segment bytes as they are. All integers are
/// big-endian; "varint" is Kafka's zig-zag varint.
///
///   offset  size  field
///   ------  ----  ------------------------------------------------------------------
///        0     8  baseOffset            offset of the first record
///        8     4  batchLength           bytes after this field (total size - 12)
///       12     4  partitionLeaderEpoch  0 (no replication yet)
///       16     1  magic                 2
///       17     4  crc                   CRC-32C of bytes 21..end (attributes .. last record)
///       21     2  attributes            bits 0-2 codec (batch_compression.h), 3 LogAppendTime,
///                                        4 transactional, 5 control; 0 in batches we encode
///                                        but transaction markers (encode_control)
///       23     4  lastOffsetDelta       record count - 1
///       27     8  baseTimestamp         ms; first record's timestamp
///       35     8  maxTimestamp          ms; largest record timestamp
///       43     8  producerId            -1 (a Kafka producer's id, or a marker's)
///       51     2  producerEpoch         -1
///       53     4  baseSequence          -1
///       57     4  recordCount
///       61     …  records
///
///   record := length varint            bytes after this field
///             attributes int8          0
///             timestampDelta varint    timestamp - baseTimestamp
///             offsetDelta varint       offset - baseOffset
///             keyLength varint         -1 = null key
///             key bytes
///             valueLength varint       -1 = null value (never written by us)
///             value bytes
///             headerCount varint       0
///
/// baseOffset lies outside the CRC, so a batch is encoded once (outside any lock) and its base
/// offset stamped in when the partition assigns offsets. Batches a Kafka client produced are
/// stored as sent: their records section may be compressed (codec bits), and their records
/// may carry headers (skipped when decoding).
namespace record_batch {

inline constexpr std::size_t kHeaderSize = 61;
inline constexpr std::size_t kLengthPrefix = 12;  // baseOffset + batchLength
inline constexpr int8_t kMagic = 2;
/// Largest batch we accept when reading (a corrupt length must not make us allocate 2 GiB).
inline constexpr std::size_t kMaxBatchSize = 64u << 20;

/// Appends the encoding of `records` to `out` with baseOffset 0. `records` must not be empty.
void encode(std::span<const RecordInput> records, std::string& out);

/// Appends a transaction marker (KIP-98 control batch: attributes transactional | control,
/// one record whose key is version 0 and type 0 = ABORT or 1 = COMMIT, whose value is version 0
/// and the coordinator epoch 0) for `producer_id` and `epoch`, with baseOffset 0.
void encode_control(int64_t producer_id, int16_t epoch, bool commit, int64_t timestamp_ms,
                    std::string& out);

/// Stamps `base` as the baseOffset of the encoded batch starting at `batch`.
void set_base_offset(char* batch, Offset base);

/// The fixed fields of a batch header, read without checking the CRC.
struct Header {
    Offset base_offset = 0;
    int32_t batch_length = 0;
    int8_t magic = 0;
    uint32_t crc = 0;
    int16_t attributes = 0;
    int32_t last_offset_delta = 0;
    int64_t base_timestamp = 0;
    int64_t max_timestamp = 0;
    int64_t producer_id = -1;
    int16_t producer_epoch = -1;
    int32_t record_count = 0;

    std::size_t total_size() const {
        return kLengthPrefix + static_cast<std::size_t>(batch_length);
    }
    Offset last_offset() const { return base_offset + last_offset_delta; }
    int8_t codec() const { return static_cast<int8_t>(attributes & 0x7); }
    bool transactional() const { return (attributes & 0x10) != 0; }
    bool control() const { return (attributes & 0x20) != 0; }
};

/// Reads the header from `bytes` (at least kHeaderSize). Does not validate.
Header read_header(const char* bytes);

/// Checks a whole batch: sizes, magic, CRC, codec, record count, that the records section
/// decompresses (within kMaxBatchSize) and that every record parses with offset deltas
/// 0..count-1. kCorruption with the reason when it does not.
Status validate(std::string_view batch);

/// Decodes the records of a validated, uncompressed batch into views borrowing `batch`,
/// appending them to `out`. Records with offsets below `min_offset` are skipped; control
/// batches (transaction markers) yield none. kCorruption for a compressed batch (expand it
/// with decompress_all first).
Status decode(std::string_view batch, Offset min_offset, std::vector<RecordView>& out);

/// `batches` is a run of whole batches. When any is compressed, writes the run to `out` with
/// each compressed batch replaced by its uncompressed equivalent (codec bits cleared, lengths
/// and CRC recomputed) and returns true; otherwise leaves `out` alone and returns false.
Result<bool> decompress_all(std::string_view batches, std::string& out);

}  // namespace record_batch

}  // namespace millrace
