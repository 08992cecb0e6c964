#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "log/fwd.h"
#include "log/partition.h"
#include "log/topic_config.h"

namespace millrace {

/// Where an append to a topic went: one entry per partition that received records.
struct PartitionAppend {
    PartitionId partition = 0;
    Offset first = 0;
    Offset last = -1;
};

/// A named topic: its config and partitions. Made and owned by Log (shared_ptr, so a topic
/// deleted while a request still uses it stays valid until that request ends).
///
/// Partitioning: a record with a key goes to partition crc32c(key) % partitions; the records
/// without a key of one append() call go together to one partition, chosen round robin per
/// call (sticky, like Kafka's default partitioner: one batch instead of N).
///
/// Threads: safe from any thread.
class Topic {
public:
    Topic(std::string name, std::string dir, TopicConfig config,
          std::vector<std::shared_ptr<Partition>> partitions, DurabilityFlusher& flusher);

    const std::string& name() const { return name_; }
    const std::string& dir() const { return dir_; }
    const TopicConfig& config() const { return config_; }
    int32_t partition_count() const { return static_cast<int32_t>(partitions_.size()); }
    /// `id` must be in [0, partition_count()).
    const std::shared_ptr<Partition>& partition(PartitionId id) const { return partitions_[id]; }
    PartitionId partition_for_key(std::string_view key) const;

    /// Appends records (one batch per partition that gets any). Records are written (in the
    /// page cache) when it returns; see when_durable() for the fsync policy.
    Result<std::vector<PartitionAppend>> append(std::span<const RecordInput> records);

    /// Runs `callback` once every record of `appends` is durable under the topic's policy: at
    /// once for fsync `interval`/`never` (the interval bounds the loss window), after an fsync
    /// for `always` (on the flusher's thread; concurrent appends share one fsync).
    void when_durable(const std::vector<PartitionAppend>& appends,
                      std::function<void(Status)> callback);
    /// Blocking form of when_durable().
    Status wait_durable(const std::vector<PartitionAppend>& appends);
    /// {"name", "config": {topic.json}, "partitions": [{"partition", "start_offset",
    /// "end_offset", "durable_offset", "size_bytes", "segments"}]}; with `consumers`, also
    /// "consumers": [{"consumer", "partitions": [{"partition", "offset", "lag"}]}] (committed
    /// positions, by the CLI, topic sources and Kafka consumer groups).
    std::string describe_json(ConsumerOffsets* consumers = nullptr) const;
    /// fsyncs every partition now, whatever the policy (CLI produce, shutdown).
    Status sync_all();

private:
    std::string name_;
    std::string dir_;
    TopicConfig config_;
    std::vector<std::shared_ptr<Partition>> partitions_;
    DurabilityFlusher& flusher_;
    std::atomic<uint32_t> round_robin_{0};
};

}  // namespace millrace
