#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>

#include "common/result.h"
#include "log/fwd.h"

namespace millrace {

/// The committed position of each named consumer in each partition it reads, one file per
/// consumer in `<data_dir>/log/_consumers/<consumer>.offsets`, replaced atomically on every
/// commit (write temp, fsync, rename, fsync dir), so a crash leaves the old or the new file:
///
///   millrace-offsets 1\n
///   <topic> <partition> <offset>\n      one line per partition, sorted
///   ...
///
/// The offset is the next one to read (Kafka's convention). Threads: safe from any thread;
/// commits are serialized.
class ConsumerOffsets {
public:
    /// `read_only`: commits and forget_topic fail with kUnavailable (the log is held by another
    /// process, whose cache of these files a commit from here would contradict).
    explicit ConsumerOffsets(std::string dir, bool read_only = false);

    /// Stores `offset` for (consumer, topic, partition), durably, before returning.
    Status commit(const std::string& consumer, const std::string& topic, PartitionId partition,
                  Offset offset);
    /// The last committed offset, or nullopt when none was.
    Result<std::optional<Offset>> fetch(const std::string& consumer, const std::string& topic,
                                        PartitionId partition);
    /// Forgets a topic (when it is deleted) for every consumer.
    Status forget_topic(const std::string& topic);
    /// Every consumer's committed offsets in `topic`: consumer → partition → offset, sorted.
    /// Consumers whose file does not parse are left out.
    std::map<std::string, std::map<PartitionId, Offset>> for_topic(const std::string& topic);

private:
    using Positions = std::map<std::pair<std::string, PartitionId>, Offset>;

    Result<Positions> load(const std::string& consumer);
    Status store(const std::string& consumer, const Positions& positions);

    std::string dir_;
    bool read_only_ = false;
    std::mutex mutex_;
    std::map<std::string, Positions> cache_;
};

}  // namespace millrace
