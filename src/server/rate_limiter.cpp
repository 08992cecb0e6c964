#include "server/rate_limiter.h"

#include <algorithm>
#include <cmath>

#include "common/check.h"

namespace millrace {

RateLimiter::RateLimiter(double rate, int64_t burst) {
    MILLRACE_CHECK(rate > 0 && burst >= 1, "rate limiter needs rate > 0 and burst >= 1");
    interval_ns_ = std::max<int64_t>(1, static_cast<int64_t>(std::llround(1e9 / rate)));
    tolerance_ns_ = interval_ns_ * burst;
}

RateLimiter::Decision RateLimiter::try_acquire(int64_t now_ns) {
    int64_t tat = tat_ns_.load(std::memory_order_relaxed);
    while (true) {
        const int64_t start = std::max(tat, now_ns);
        const int64_t next = start + interval_ns_;
        if (next - now_ns > tolerance_ns_) {
            // The first moment this request would fit: next - tolerance.
            const int64_t wait_ns = next - tolerance_ns_ - now_ns;
            return {false, std::max<int64_t>(1, (wait_ns + 999'999'999) / 1'000'000'000)};
        }
        if (tat_ns_.compare_exchange_weak(tat, next, std::memory_order_relaxed)) return {};
    }
}

}  // namespace millrace
