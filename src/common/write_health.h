#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace millrace {

/// The last write failure of one storage component (the log, the lake, the online store), for
/// readiness (`GET /readyz`): whoever writes through the component reports each failure
/// (failed()) and each success (succeeded()). A success clears the failure; so does a passing
/// write probe that started after it (clear_if_unchanged_since()), so a component that nobody
/// writes to while it is reported not ready does not stay not ready once the disk has room.
///
/// Threads: every method from any thread. succeeded() is one relaxed atomic load while the
/// component is healthy, so write paths call it on every write.
class WriteHealth {
public:
    void failed(std::string_view message);
    void succeeded() {
        if (failing_.load(std::memory_order_relaxed)) clear();
    }

    /// The message of the failure not yet cleared, or nullopt.
    std::optional<std::string> last_failure() const;

    /// A number that changes with every failure: take it before a probe, and give it back to
    /// clear_if_unchanged_since() when the probe passed, so a failure that happened during the
    /// probe is not cleared by it.
    uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
    void clear_if_unchanged_since(uint64_t generation);

private:
    void clear();

    std::atomic<bool> failing_{false};
    std::atomic<uint64_t> generation_{0};
    mutable std::mutex mutex_;
    std::optional<std::string> failure_;
};

}  // namespace millrace
