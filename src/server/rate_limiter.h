#pragma once

#include <atomic>
#include <cstdint>

namespace millrace {

/// A token bucket of `rate` tokens per second holding at most `burst`, as one atomic word: the
/// generic cell rate algorithm (GCRA), which is the token bucket written as a "theoretical
/// arrival time" (TAT). Each admitted request pushes the TAT one emission interval (1/rate)
/// into the future; a request is refused while the TAT is more than `burst` intervals ahead of
/// now. No lock and no background refill: one compare-and-swap per request.
///
///   now ─────────────┬──────────────────────── time
///                    │<── burst × interval ──>│
///                    TAT may lead now by at most this much
///
/// Threads: try_acquire() from any number of threads.
class RateLimiter {
public:
    /// `rate` > 0 tokens per second, `burst` >= 1.
    RateLimiter(double rate, int64_t burst);

    struct Decision {
        bool allowed = true;
        /// When refused: whole seconds until a token is available (>= 1), for Retry-After.
        int64_t retry_after_seconds = 0;
    };

    /// Takes one token at `now_ns` (any monotonic clock, in nanoseconds).
    Decision try_acquire(int64_t now_ns);

private:
    int64_t interval_ns_;   // 1 / rate
    int64_t tolerance_ns_;  // burst × interval
    std::atomic<int64_t> tat_ns_{0};
};

}  // namespace millrace
