#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace millrace {

/// Tells waiting readers that records arrived: every append to a partition of the log (records
/// or a transaction marker) bumps the generation and runs the callbacks registered for it, so a
/// long-polling reader (a Kafka Fetch waiting for data) wakes on the append instead of polling.
///
///   const uint64_t seen = signal.generation();
///   if (!try_read()) signal.wait_once(seen, owner, [] { /* read again */ });
///
/// A callback runs once, on the appending thread (keep it short: post work elsewhere), or at
/// once on the registering thread when an append came after `seen` (no wake-up is lost).
/// Callbacks whose owner is gone are dropped unrun. Threads: safe from any thread.
class AppendSignal {
public:
    uint64_t generation() const { return generation_.load(); }

    void wait_once(uint64_t seen, std::weak_ptr<void> owner, std::function<void()> callback) {
        {
            std::lock_guard lock(mutex_);
            // Flag first, then look at the generation (notify does the opposite): one of the
            // two always sees the other, so no wake-up is lost.
            has_waiters_.store(true);
            if (generation_.load() == seen) {
                std::erase_if(waiters_, [](const auto& waiter) { return waiter.first.expired(); });
                waiters_.emplace_back(std::move(owner), std::move(callback));
                return;
            }
        }
        if (!owner.expired()) callback();
    }

    void notify() {
        generation_.fetch_add(1);
        // The common case, an append nobody waits for, takes no lock.
        if (!has_waiters_.load()) return;
        std::vector<std::pair<std::weak_ptr<void>, std::function<void()>>> due;
        {
            std::lock_guard lock(mutex_);
            has_waiters_.store(false);
            due.swap(waiters_);
        }
        for (auto& [owner, callback] : due) {
            if (!owner.expired()) callback();
        }
    }

private:
    std::atomic<uint64_t> generation_{0};
    std::atomic<bool> has_waiters_{false};
    std::mutex mutex_;
    std::vector<std::pair<std::weak_ptr<void>, std::function<void()>>> waiters_;
};

}  // namespace millrace
