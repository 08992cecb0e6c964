#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "common/result.h"
#include "log/fwd.h"

namespace millrace::kafka {

/// What an append of a Produce partition did.
struct ProduceOutcome {
    int16_t error = 0;        // KafkaError: OUT_OF_ORDER_SEQUENCE_NUMBER, INVALID_PRODUCER_EPOCH
    Offset base_offset = -1;  // of the first batch (the original one for a duplicate)
    Offset last_offset = -1;
    bool appended = false;  // false for a duplicate: nothing written
};

/// Idempotent producers (KIP-98) and the producer ids InitProducerId hands out.
///
/// Per (producer id, topic, partition) it keeps the producer epoch and the last five batches
/// (first and last sequence, offsets). A batch equal to one of them is a duplicate: success with
/// the original offsets, nothing written. Otherwise its first sequence must follow the last one
/// (wrapping at INT32_MAX), else OUT_OF_ORDER_SEQUENCE_NUMBER; an older epoch is
/// INVALID_PRODUCER_EPOCH; a newer epoch starts over. A producer we know nothing about is
/// accepted at any sequence (as Kafka does today).
///
/// Nothing is written for this state: the batches themselves carry (producer id, epoch, base
/// sequence), so after a restart the state of a partition is rebuilt from the headers of its
/// last batches (the last 100,000 offsets) the first time a producer writes to it. The next
/// producer id is kept in `<log dir>/_kafka/producer_ids` (written durably before an id is
/// handed out), so ids are never reused.
///
/// Threads: safe from any thread; appends of idempotent batches are serialized per broker.
class ProducerStates {
public:
    explicit ProducerStates(std::string log_dir);

    /// Reads the producer id counter (a missing file starts at 1000).
    Status load();
    /// A new producer id, durable before it is returned.
    Result<int64_t> new_producer();
    /// KIP-360: the epoch after `epoch` for a producer id we handed out (the producer keeps its
    /// id and its partitions start its sequences over); nullopt for an id we never issued or an
    /// exhausted epoch, which get a new id instead.
    std::optional<int16_t> bump_epoch(int64_t producer_id, int16_t epoch);

    /// Appends validated batches to `partition` (of `topic`), deduplicating idempotent ones.
    Result<ProduceOutcome> append(const std::string& topic, Partition& partition,
                                  std::vector<std::string>& batches);
    /// Drops the state of a deleted topic.
    void forget_topic(const std::string& topic);

private:
    struct BatchMetadata {
        int32_t first_sequence = 0;
        int32_t last_sequence = 0;
        Offset base_offset = 0;
        Offset last_offset = 0;
    };
    struct Entry {
        int16_t epoch = 0;
        std::deque<BatchMetadata> batches;  // at most kRetainedBatches, oldest first
    };
    using Key = std::tuple<int64_t, std::string, PartitionId>;

    Status rebuild(const std::string& topic, Partition& partition);
    void remember(const Key& key, int16_t epoch, const BatchMetadata& batch);

    std::string path_;
    std::mutex mutex_;
    int64_t next_id_;
    std::map<Key, Entry> entries_;
    std::set<std::pair<std::string, PartitionId>> rebuilt_;
};

}  // namespace millrace::kafka
