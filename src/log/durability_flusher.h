#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "log/fwd.h"

namespace millrace {

/// The log's one background thread: fsyncs partitions and applies retention.
///
/// - request(p): p has appends waiting to be durable (fsync: always). The thread fsyncs p as
///   soon as it is free; appends that arrive while an fsync runs wait for the next one and share
///   it (group commit).
/// - Partitions with fsync: interval are fsynced every fsync_interval when they have new data.
/// - Every second, retention is applied to every partition and its durable checkpoint saved
///   (partition.h); on stop, after the last syncs, the checkpoints are saved once more.
///
/// Partitions are held weakly: a deleted topic's partitions drop out by themselves.
/// Threads: all members are safe from any thread; stop() joins the thread (idempotent).
class DurabilityFlusher {
public:
    explicit DurabilityFlusher(const Clock& clock);
    ~DurabilityFlusher();
    DurabilityFlusher(const DurabilityFlusher&) = delete;
    DurabilityFlusher& operator=(const DurabilityFlusher&) = delete;

    /// Registers a partition for interval syncs and retention.
    void track(const std::shared_ptr<Partition>& partition);
    /// Asks for an fsync of `partition` soon.
    void request(const std::shared_ptr<Partition>& partition);
    /// Syncs everything once more and joins the thread.
    void stop();

private:
    struct Tracked {
        std::weak_ptr<Partition> partition;
        int64_t last_sync_micros = 0;
    };

    void run();

    const Clock& clock_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::vector<std::shared_ptr<Partition>> requested_;
    std::vector<Tracked> tracked_;
    std::thread thread_;
};

}  // namespace millrace
