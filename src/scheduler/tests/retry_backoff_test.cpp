#include "scheduler/retry_backoff.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

namespace millrace {
namespace {

using std::chrono::microseconds;
using std::chrono::seconds;

TEST(RetryBackoff, CappedExponentialWithJitterInRange) {
    RetryPolicy policy;
    policy.retries = 10;
    policy.delay = seconds(1);
    policy.max_delay = seconds(10);
    for (int attempt = 2; attempt <= 10; ++attempt) {
        const double nominal = std::min(10.0, std::pow(2.0, attempt - 2));
        const auto delay = retry_delay(policy, "job", "task", 0, attempt);
        EXPECT_GE(delay.count(), static_cast<int64_t>(nominal * 0.5e6)) << attempt;
        EXPECT_LT(delay.count(), static_cast<int64_t>(nominal * 1e6)) << attempt;
    }
}

TEST(RetryBackoff, DeterministicPerJobTaskIntervalAttempt) {
    RetryPolicy policy;
    policy.delay = seconds(10);
    EXPECT_EQ(retry_delay(policy, "j", "t", 42, 2), retry_delay(policy, "j", "t", 42, 2));
    // Different inputs spread out (not all equal).
    std::set<int64_t> seen;
    for (const char* task : {"a", "b", "c", "d", "e"}) {
        seen.insert(retry_delay(policy, "j", task, 42, 2).count());
    }
    EXPECT_GE(seen.size(), 4u);
    EXPECT_NE(retry_delay(policy, "j", "t", 42, 2), retry_delay(policy, "j", "t", 43, 2));
}

}  // namespace
}  // namespace millrace
