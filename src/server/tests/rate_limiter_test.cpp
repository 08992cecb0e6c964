#include "server/rate_limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace millrace {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

TEST(RateLimiter, BurstThenRate) {
    RateLimiter limiter(10, 3);  // 10/s, burst 3
    const int64_t t0 = 1000 * kSecond;
    EXPECT_TRUE(limiter.try_acquire(t0).allowed);
    EXPECT_TRUE(limiter.try_acquire(t0).allowed);
    EXPECT_TRUE(limiter.try_acquire(t0).allowed);
    const RateLimiter::Decision refused = limiter.try_acquire(t0);
    EXPECT_FALSE(refused.allowed);
    EXPECT_EQ(refused.retry_after_seconds, 1);
    // One token comes back every 100 ms.
    EXPECT_FALSE(limiter.try_acquire(t0 + kSecond / 20).allowed);
    EXPECT_TRUE(limiter.try_acquire(t0 + kSecond / 10).allowed);
    EXPECT_FALSE(limiter.try_acquire(t0 + kSecond / 10).allowed);
    // After a quiet second the whole burst is back, not more.
    const int64_t t1 = t0 + 2 * kSecond;
    int allowed = 0;
    for (int i = 0; i < 10; ++i) allowed += limiter.try_acquire(t1).allowed ? 1 : 0;
    EXPECT_EQ(allowed, 3);
}

TEST(RateLimiter, RetryAfterCoversTheWait) {
    RateLimiter limiter(0.5, 1);  // one request every two seconds
    const int64_t t0 = 50 * kSecond;
    EXPECT_TRUE(limiter.try_acquire(t0).allowed);
    const RateLimiter::Decision refused = limiter.try_acquire(t0);
    EXPECT_FALSE(refused.allowed);
    EXPECT_EQ(refused.retry_after_seconds, 2);
    EXPECT_TRUE(limiter.try_acquire(t0 + 2 * kSecond).allowed);
}

TEST(RateLimiter, ExactUnderContention) {
    RateLimiter limiter(1, 1000);  // a burst of 1000, then (at a frozen clock) nothing
    std::atomic<int> allowed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 1000; ++i) {
                if (limiter.try_acquire(7 * kSecond).allowed) allowed.fetch_add(1);
            }
        });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(allowed.load(), 1000);
}

}  // namespace
}  // namespace millrace
