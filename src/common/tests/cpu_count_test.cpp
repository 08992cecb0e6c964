#include "common/cpu_count.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <thread>

namespace millrace {
namespace {

TEST(UsableCores, FollowsTheAffinityMask) {
    const unsigned all = usable_cores();
    EXPECT_GE(all, 1u);
    EXPECT_LE(all, std::max(1u, std::thread::hardware_concurrency()));
    cpu_set_t before;
    ASSERT_EQ(sched_getaffinity(0, sizeof(before), &before), 0);
    cpu_set_t one;
    CPU_ZERO(&one);
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
        if (CPU_ISSET(cpu, &before)) {
            CPU_SET(cpu, &one);
            break;
        }
    }
    ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
    EXPECT_EQ(usable_cores(), 1u);  // as under `taskset -c <cpu>`
    ASSERT_EQ(sched_setaffinity(0, sizeof(before), &before), 0);
    EXPECT_EQ(usable_cores(), all);
}

TEST(UsableCores, CgroupQuotaRoundsUp) {
    EXPECT_EQ(cores_from_cpu_max("max 100000\n"), std::nullopt);
    EXPECT_EQ(cores_from_cpu_max("150000 100000\n"), 2u);  // docker --cpus=1.5
    EXPECT_EQ(cores_from_cpu_max("100000 100000"), 1u);
    EXPECT_EQ(cores_from_cpu_max("50000 100000\n"), 1u);
    EXPECT_EQ(cores_from_cpu_max("400000 100000\n"), 4u);
    EXPECT_EQ(cores_from_cpu_max(""), std::nullopt);
    EXPECT_EQ(cores_from_cpu_max("abc 100000"), std::nullopt);
    EXPECT_EQ(cores_from_cpu_max("100000 0"), std::nullopt);
}

}  // namespace
}  // namespace millrace
