#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "log/append_signal.h"
#include "log/fwd.h"
#include "log/record_batch.h"
#include "log/topic_config.h"

namespace millrace {

/// A damaged range of a partition's segments: readers of offsets [first_offset, end_offset)
/// get kCorruption; from end_offset on they read on.
struct PartitionDamage {
    std::string description;  // "<file> bytes [a, b) (offsets [x, y))"
    Offset first_offset = 0;
    Offset end_offset = 0;
};

/// A Kafka producer's transaction that was aborted in this partition: its records in
/// [first_offset, last_offset] (the last is the ABORT marker) are never read as data.
struct AbortedTransaction {
    int64_t producer_id = -1;
    Offset first_offset = 0;
    Offset last_offset = 0;
};

/// Offsets an append assigned: [first, last], both inclusive.
struct AppendResult {
    Offset first = 0;
    Offset last = -1;
};

/// One partition of a topic: an ordered list of segments in `<data_dir>/log/<topic>/<n>/`, the
/// last of which (the active segment) takes appends. Offsets are dense: the next append gets
/// end_offset().
///
/// Durability: an append is written to the active segment (page cache) before it returns.
/// sync() makes everything appended so far durable and runs the callbacks waiting for it;
/// when_durable() registers such a callback. The Log's DurabilityFlusher calls sync() on
/// request (fsync: always, group commit: every append waiting when an fsync starts shares it)
/// and every fsync_interval (fsync: interval).
///
/// Recovery on open: sealed segments are trusted (they were synced when rolled); the active
/// segment is scanned (segment.h "Recovery"): only a torn tail beyond the last durable position
/// is cut; damage is kept, reported by damage() and refused to readers, and offsets continue
/// after the highest one ever assigned. The last durable position comes from a checkpoint file
/// the partition rewrites (atomically) at most once per second after an fsync and on stop:
///
///   <dir>/durable.checkpoint
///     millrace-durable 1\n
///     <active segment base> <durable byte position> <durable end offset>\n
///
/// Transactions (Kafka producers' transactional batches): the first offset of each producer's
/// open transaction and the aborted ones are kept in `<dir>/transactions`, rewritten
/// atomically (fsynced) when a transaction starts in the partition (before its first batch is
/// written) and when its marker is appended:
///
///   millrace-transactions 1\n
///   open <producer id> <first offset>\n
///   aborted <producer id> <first offset> <marker offset>\n
///
/// A missing file means no transaction (data directories from before transactions have none).
/// The last stable offset (stable_offset) is the first offset of the oldest open transaction,
/// else end_offset(). read() never reads at or past it, skips the records of aborted
/// transactions and yields no markers, so every reader of records sees committed data only.
///
/// A partition opened read-only (a reader beside the process that holds the log) never
/// writes: no recovery cut, no sync, no retention, no appends (kUnavailable).
///
/// Threads: every member function is safe from any thread. Appends are serialized by a mutex;
/// reads copy the segment list under it and read without it.
class Partition {
public:
    using DurableCallback = std::function<void(Status)>;

    static Result<std::shared_ptr<Partition>> open(std::string dir, PartitionId id,
                                                   TopicConfig config, bool read_only = false);
    ~Partition();
    Partition(const Partition&) = delete;
    Partition& operator=(const Partition&) = delete;

    PartitionId id() const { return id_; }
    const TopicConfig& config() const { return config_; }

    /// Encodes `records` as one batch and appends it. kResourceExhausted when the batch would
    /// exceed record_batch::kMaxBatchSize (split larger appends).
    Result<AppendResult> append(std::span<const RecordInput> records);
    /// Appends a batch already encoded by record_batch::encode, or a Kafka client's batch that
    /// record_batch::validate accepted, as it is (its baseOffset is overwritten).
    /// A transactional batch opens its producer's transaction here (recorded durably before the
    /// batch is written). Control batches must come through append_marker.
    Result<AppendResult> append_encoded(std::string& batch);
    /// Appends the COMMIT or ABORT marker of `producer_id`'s transaction and closes it (an
    /// aborted one is remembered for readers). A marker for a producer with no open
    /// transaction here is appended all the same (a retried end of a transaction).
    Result<AppendResult> append_marker(int64_t producer_id, int16_t epoch, bool commit,
                                       int64_t timestamp_ms);

    /// The last stable offset: records below it belong to no open transaction.
    Offset stable_offset() const;
    /// Aborted transactions whose range overlaps [from, to], by first offset.
    std::vector<AbortedTransaction> aborted_transactions(Offset from, Offset to) const;

    /// Offset of the oldest record still kept (retention moves it forward).
    Offset start_offset() const;
    /// Offset the next record will get; records [start_offset, end_offset) are readable.
    Offset end_offset() const;
    /// Records below this offset are on disk (fsynced).
    Offset durable_offset() const;
    /// Total bytes of the segments.
    uint64_t size_bytes() const;
    int segment_count() const;
    /// Bytes the last recovery cut off the active segment.
    uint64_t recovered_truncated_bytes() const { return truncated_bytes_; }
    /// Damaged ranges recovery found (kept on disk), oldest first.
    std::vector<PartitionDamage> damage() const;

    /// Notified after every append (the Log's, shared by all its partitions); set once, before
    /// appends.
    void set_append_signal(std::shared_ptr<AppendSignal> signal) { signal_ = std::move(signal); }

    /// The topic was deleted (its folder renamed away): stop writing checkpoints, so a topic
    /// created again under the same name never gets this one's.
    void mark_removed() { removed_.store(true, std::memory_order_release); }

    /// Rewrites the durable checkpoint when the durable position moved since the last one.
    /// Called by the flusher (about once per second) and on stop; no-op when read-only.
    Status save_checkpoint();

    /// fsyncs the active segment, advances durable_offset() and runs due callbacks.
    Status sync();
    /// Runs `callback` (on the syncing thread, or at once) when every record below `end` is
    /// durable. The caller asks the flusher to sync (DurabilityFlusher::request).
    void when_durable(Offset end, DurableCallback callback);
    /// Whether appends are waiting for a sync or unsynced data exists.
    bool has_unsynced_data() const { return durable_offset() < end_offset(); }

    /// Reads records with offsets in [from, min(bound, stable_offset())) into `out` (views into
    /// `buffer`, which it fills), leaving out transaction markers and the records of aborted
    /// transactions, stopping after about `max_records` records or `max_bytes` bytes (at least one
    /// batch is read when any record is due). Returns the offset to continue from (which may
    /// have moved on with `out` empty, past a marker or an aborted batch).
    /// kOutOfRange when `from` is below start_offset() (removed by retention) or above
    /// end_offset(). kCorruption, naming the file, bytes and offsets and where intact records
    /// resume, when the next batch due is damaged (a recovered range or a CRC mismatch); the
    /// records before it are returned by the call before.
    Result<Offset> read(Offset from, Offset bound, std::size_t max_records, std::size_t max_bytes,
                        std::string& buffer, std::vector<RecordView>& out) const;

    /// Reads whole stored batches (as stored: compressed ones stay compressed) from the one
    /// holding `from` on into `buffer`, stopping once it holds `max_bytes` (at least one batch
    /// when any is due). For the Kafka Fetch API, which sends them as they are. false when
    /// nothing is due; errors as read().
    Result<bool> read_batches(Offset from, std::size_t max_bytes, std::string& buffer) const;

    /// The first offset at or before the earliest record with timestamp >= `timestamp_ms`.
    Offset offset_for_time(int64_t timestamp_ms) const;

    /// Deletes the oldest sealed segments beyond retention_bytes or older than retention_ms
    /// (by their largest timestamp, compared with `now_ms`). The active segment is never
    /// deleted, but when every record in it is past retention_ms it is rolled first (so an idle
    /// topic's data ages out too). Returns how many were deleted.
    Result<int> apply_retention(int64_t now_ms);

private:
    Partition(std::string dir, PartitionId id, TopicConfig config, bool read_only);
    Status load();
    Status roll_locked();
    Result<AppendResult> append_locked(std::string& batch);
    Status load_transactions();
    Status save_transactions_locked();
    /// The batch reading shared by read() and read_batches(); clips `bound` to the end.
    Result<bool> read_raw(Offset from, Offset& bound, std::size_t max_records,
                          std::size_t max_bytes, std::string& buffer) const;

    std::string dir_;
    PartitionId id_;
    TopicConfig config_;
    bool read_only_ = false;
    std::atomic<bool> removed_{false};
    uint64_t truncated_bytes_ = 0;

    mutable std::mutex mutex_;  // segments_ and appends
    std::vector<std::shared_ptr<Segment>> segments_;
    std::shared_ptr<AppendSignal> signal_;
    std::map<int64_t, Offset> open_transactions_;  // producer id -> first offset; under mutex_
    std::vector<AbortedTransaction> aborted_;      // by marker offset; under mutex_

    mutable std::mutex durable_mutex_;  // durable_ and waiters_; also serializes sync()
    std::mutex sync_mutex_;
    Offset durable_ = 0;
    Offset durable_segment_ = 0;     // base of the segment durable_position_ is in
    uint64_t durable_position_ = 0;  // bytes of that segment known durable
    Offset checkpointed_ = -1;       // durable_ when the checkpoint was last written
    std::mutex checkpoint_mutex_;    // serializes save_checkpoint()
    std::vector<std::pair<Offset, DurableCallback>> waiters_;
};

}  // namespace millrace
