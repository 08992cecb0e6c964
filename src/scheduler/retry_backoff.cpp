#include "scheduler/retry_backoff.h"

#include <algorithm>

namespace millrace {

namespace {

uint64_t mix(uint64_t hash, std::string_view text) {
    for (unsigned char c : text) {
        hash ^= c;
        hash *= 1099511628211ull;
    }
    hash ^= 0xff;  // separator, so ("ab","c") and ("a","bc") differ
    return hash * 1099511628211ull;
}

}  // namespace

std::chrono::microseconds retry_delay(const RetryPolicy& policy, std::string_view job,
                                      std::string_view task, int64_t interval_start_micros,
                                      int next_attempt) {
    const int exponent = std::clamp(next_attempt - 2, 0, 40);
    const double base = static_cast<double>(policy.delay.count());
    const double capped =
        std::min(static_cast<double>(policy.max_delay.count()), base * double(1ull << exponent));
    uint64_t hash = 1469598103934665603ull;
    hash = mix(hash, job);
    hash = mix(hash, task);
    hash = mix(hash, std::to_string(interval_start_micros));
    hash = mix(hash, std::to_string(next_attempt));
    hash ^= hash >> 33;  // finalize (splitmix-style) so low bits depend on every input
    hash *= 0xff51afd7ed558ccdull;
    hash ^= hash >> 33;
    const double jitter = 0.5 + 0.5 * static_cast<double>(hash >> 11) / double(1ull << 53);
    return std::chrono::microseconds(static_cast<int64_t>(capped * jitter));
}

}  // namespace millrace
