#include "log/durability_flusher.h"

#include <algorithm>
#include <chrono>

#include "log/partition.h"

namespace millrace {

namespace {
constexpr int64_t kRetentionPeriodMicros = 1'000'000;
constexpr auto kTick = std::chrono::milliseconds(5);
}  // namespace

DurabilityFlusher::DurabilityFlusher(const Clock& clock)
    : clock_(clock), thread_([this] { run(); }) {}

DurabilityFlusher::~DurabilityFlusher() { stop(); }

void DurabilityFlusher::track(const std::shared_ptr<Partition>& partition) {
    std::lock_guard lock(mutex_);
    tracked_.push_back({partition, clock_.now_micros()});
}

void DurabilityFlusher::request(const std::shared_ptr<Partition>& partition) {
    {
        std::lock_guard lock(mutex_);
        if (stopping_) {
            // No thread to do it: sync here so no waiter is left hanging.
        } else {
            requested_.push_back(partition);
            wake_.notify_one();
            return;
        }
    }
    (void)partition->sync();
}

void DurabilityFlusher::stop() {
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        stopping_ = true;
        wake_.notify_one();
    }
    if (thread_.joinable()) thread_.join();
}

void DurabilityFlusher::run() {
    int64_t last_retention = clock_.now_micros();
    std::unique_lock lock(mutex_);
    while (true) {
        wake_.wait_for(lock, kTick, [&] { return stopping_ || !requested_.empty(); });
        const bool stopping = stopping_;
        std::vector<std::shared_ptr<Partition>> requested;
        requested.swap(requested_);
        std::vector<std::shared_ptr<Partition>> due;
        const int64_t now = clock_.now_micros();
        std::erase_if(tracked_, [](const Tracked& t) { return t.partition.expired(); });
        std::vector<std::shared_ptr<Partition>> all;
        for (Tracked& tracked : tracked_) {
            std::shared_ptr<Partition> partition = tracked.partition.lock();
            if (!partition) continue;
            all.push_back(partition);
            const bool interval_due = partition->config().fsync == FsyncPolicy::kInterval &&
                                      now - tracked.last_sync_micros >=
                                          std::chrono::duration_cast<std::chrono::microseconds>(
                                              partition->config().fsync_interval)
                                              .count();
            if (stopping || interval_due) {
                tracked.last_sync_micros = now;
                if (partition->has_unsynced_data()) due.push_back(partition);
            }
        }
        lock.unlock();
        std::sort(requested.begin(), requested.end());
        requested.erase(std::unique(requested.begin(), requested.end()), requested.end());
        for (const auto& partition : requested) (void)partition->sync();
        for (const auto& partition : due) {
            if (!std::binary_search(requested.begin(), requested.end(), partition)) {
                (void)partition->sync();
            }
        }
        if (stopping || now - last_retention >= kRetentionPeriodMicros) {
            last_retention = now;
            for (const auto& partition : all) {
                // Best effort: a stale checkpoint only makes recovery keep (and report) a torn
                // tail it could have cut; the next tick tries again.
                (void)partition->save_checkpoint();
                if (!stopping) (void)partition->apply_retention(now / 1000);
            }
        }
        lock.lock();
        if (stopping && requested_.empty()) return;
    }
}

}  // namespace millrace
