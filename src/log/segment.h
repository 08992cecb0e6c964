#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "log/fwd.h"
#include "log/record_batch.h"

namespace millrace {

/// How to open an existing segment (Segment::open).
struct SegmentOpenOptions {
    /// The partition's last segment: it is always scanned and may have a torn tail.
    bool active = false;
    /// Never write (a reader beside the process that holds the log): nothing is cut, indexes
    /// are rebuilt in memory only, and the tail a writer may be appending is just not read.
    bool read_only = false;
    /// Bytes of this segment known to be durable (the partition's checkpoint); a bad frame
    /// before this position is damage, never a torn tail. UINT64_MAX for sealed segments.
    uint64_t durable_position = 0;
    /// Every offset below this one was assigned (the checkpoint, or the next segment's base):
    /// after damage at the end, appends continue from here so no offset is ever reused.
    Offset assigned_end = 0;
};

/// A range of a segment file that fails its checks but is kept (never silently deleted).
struct SegmentDamage {
    uint64_t position = 0;      // first damaged byte
    uint64_t end_position = 0;  // where the next valid batch starts (or the file ends)
    Offset first_offset = 0;    // the offsets the range held: [first_offset, end_offset)
    Offset end_offset = 0;
};

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
/// Recovery (the scan of the active segment on open, or of a sealed one whose indexes are
/// damaged) tells a torn tail from damage:
///   - a bad frame with no valid batch after it, beyond the partition's last durable position
///     (SegmentOpenOptions::durable_position), in the active segment opened for writing, is a
///     torn tail: the unsynced write of a crash. It is cut off.
///   - anything else (a valid batch follows, or the bytes were durable, or the segment is
///     sealed) is damage: the bytes stay, the range is recorded as a SegmentDamage (file, byte
///     range, offsets it held), readers get kCorruption when they reach it (and may read on
///     from its end_offset), and offsets continue after the highest one ever assigned.
///
/// Threads: one writer (the partition, under its lock) calls append/sync/seal; any number of
/// readers call the const lookups and read() concurrently. Shared by shared_ptr so a reader
/// keeps a segment that retention removes readable (its files stay open).
class Segment {
public:
    static constexpr uint64_t kIndexIntervalBytes = 4096;

    /// Creates the three empty files of a new segment starting at `base`.
    static Result<std::shared_ptr<Segment>> create(const std::string& dir, Offset base);

    /// Opens an existing segment. An active one is scanned (every batch's length, magic, CRC,
    /// offsets continuing from `base`; see "Recovery" above) and its indexes rebuilt; a sealed
    /// one loads its index files, falling back to the scan when they are missing or damaged.
    static Result<std::shared_ptr<Segment>> open(const std::string& dir, Offset base,
                                                 const SegmentOpenOptions& options);

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
    /// Damaged ranges recovery found (kept on disk, skipped by the index), in file order.
    const std::vector<SegmentDamage>& damage() const { return damage_; }
    /// The damaged range starting at `position` that still holds offsets at or after `from`
    /// (a reader at `position` must stop there), or nullptr.
    const SegmentDamage* damage_at(uint64_t position, Offset from) const;
    /// The end of the damaged range starting at `position` (a reader past it skips to there),
    /// or `position` when none starts there.
    uint64_t skip_damage(uint64_t position) const;
    /// "<file>.log bytes [a, b) (offsets [x, y))" for messages.
    std::string describe(const SegmentDamage& damage) const;
    /// The .log file's path.
    std::string log_path() const { return prefix_ + ".log"; }

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
    Status open_files(bool truncate, bool read_only);
    Status load_indexes(bool& ok);
    Status recover(const SegmentOpenOptions& options);
    /// Whether a complete, valid batch whose base offset is at least `next` starts at
    /// `position`; fills `header` and `batch`.
    Result<bool> valid_batch_at(uint64_t position, uint64_t file_size, Offset next,
                                record_batch::Header& header, std::string& batch) const;
    /// The first position at or after `from` where a valid batch starts whose base offset is
    /// at least `next` and at most `next` + the bytes skipped, or nullopt.
    Result<std::optional<uint64_t>> find_next_batch(uint64_t from, uint64_t file_size,
                                                    Offset next) const;
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
    std::vector<SegmentDamage> damage_;  // set by recovery, then read-only
    uint64_t bytes_since_index_ = 0;     // writer only
    mutable std::mutex index_mutex_;     // guards the two vectors (appended by the writer)
    std::vector<IndexEntry> index_;
    std::vector<TimeEntry> time_index_;
};

/// "<dir>/00000000000000000042": the common prefix of a segment's file names.
std::string segment_path_prefix(const std::string& dir, Offset base);

}  // namespace millrace
