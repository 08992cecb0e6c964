#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/result.h"
#include "log/fwd.h"
#include "log/record_batch.h"

namespace millrace {

/// One segment of a partition: three files in the partition's folder, named after the offset of
/// the segment's first record (20 digits, so they sort as text):
///
///   00000000000000000000.log        record batches, back to back (record_batch.h layout)
///   00000000000000000000.index      sparse offset index
///   00000000000000000000.timeindex  sparse time index
///
/// Every kIndexIntervalBytes of log data, the batch about to be written gets one entry in each
/// index (big-endian):
///
///   .index entry (8 bytes)          .timeindex entry (12 bytes)
///   +------------+------------+     +--------------------------+------------+
///   | rel offset | position   |     | max timestamp before it  | rel offset |
///   | u32        | u32        |     | i64 (ms)                 | u32        |
///   +------------+------------+     +--------------------------+------------+
///
/// rel offset = batch baseOffset - segment base; position = the batch's byte position in .log.
/// A time entry promises that every record before `rel offset` has a timestamp <= its value;
/// when a segment is sealed a last time entry records the segment's largest timestamp. Positions
/// are u32, so a segment holds at most 2 GiB (TopicConfig caps segment_bytes at 1 GiB).
///
/// Index files are written without fsync: the active segment's indexes are rebuilt by recovery,
/// and sealed segments are synced when rolled.
///
/// Threads: one writer (the partition, under its lock) calls append/sync/seal; any number of
/// readers call the const lookups and read() concurrently. Shared by shared_ptr so a reader
/// keeps a segment that retention removes readable (its files stay open).
class Segment {
public:
    static constexpr uint64_t kIndexIntervalBytes = 4096;

    /// Creates the three empty files of a new segment starting at `base`.
    static Result<std::shared_ptr<Segment>> create(const std::string& dir, Offset base);

    /// Opens an existing segment. With `recover`, reads and checks every batch (length, magic,
    /// CRC, offsets continuing from `base`), truncates the file after the last good one (a torn
    /// or corrupt tail) and rebuilds both indexes. Without, loads the index files, falling back
    /// to recovery when they are missing or damaged.
    static Result<std::shared_ptr<Segment>> open(const std::string& dir, Offset base, bool recover);

    ~Segment();
    Segment(const Segment&) = delete;
    Segment& operator=(const Segment&) = delete;

    Offset base_offset() const { return base_; }
    /// The offset the next batch gets (base + records in this segment).
    Offset next_offset() const { return next_offset_.load(std::memory_order_acquire); }
    /// Bytes of complete batches in the .log file.
    uint64_t size() const { return size_.load(std::memory_order_acquire); }
    /// Largest record timestamp (ms) in the segment; INT64_MIN when empty.
    int64_t max_timestamp() const { return max_timestamp_.load(std::memory_order_acquire); }
    /// Bytes recovery cut from the end of the file (0 when the tail was intact).
    uint64_t truncated_bytes() const { return truncated_bytes_; }

    /// Writes one encoded batch whose baseOffset is next_offset(). Single writer.
    Status append(std::string_view batch, const record_batch::Header& header);
    /// fdatasync of the .log file (and the indexes).
    Status sync();
    /// Writes the final time index entry and syncs all three files (on roll).
    Status seal();

    /// Position of a batch at or before the one holding `offset` (start of a scan).
    uint64_t position_for(Offset offset) const;
    /// An offset at or before the first record with a timestamp >= `timestamp_ms`.
    Offset offset_before_time(int64_t timestamp_ms) const;
    /// Reads up to `size` bytes at `position` of the .log file; returns how many were read.
    Result<std::size_t> read(uint64_t position, char* out, std::size_t size) const;

    /// Closes nothing (readers may hold it) but unlinks the three files.
    Status remove_files();

private:
    struct IndexEntry {
        uint32_t relative_offset;
        uint32_t position;
    };
    struct TimeEntry {
        int64_t timestamp;
        uint32_t relative_offset;
    };

    Segment(std::string path_prefix, Offset base);
    Status open_files(bool truncate);
    Status load_indexes(bool& ok);
    Status recover();
    Status rewrite_indexes();
    void add_index_entries(const record_batch::Header& header, uint64_t position,
                           std::string& index_bytes, std::string& time_bytes);

    std::string prefix_;  // <dir>/<20-digit base>
    Offset base_;
    int log_fd_ = -1;
    int index_fd_ = -1;
    int time_fd_ = -1;
    std::atomic<Offset> next_offset_;
    std::atomic<uint64_t> size_{0};
    std::atomic<int64_t> max_timestamp_;
    uint64_t truncated_bytes_ = 0;
    uint64_t bytes_since_index_ = 0;  // writer only
    mutable std::mutex index_mutex_;  // guards the two vectors (appended by the writer)
    std::vector<IndexEntry> index_;
    std::vector<TimeEntry> time_index_;
};

/// "<dir>/00000000000000000042": the common prefix of a segment's file names.
std::string segment_path_prefix(const std::string& dir, Offset base);

}  // namespace millrace
