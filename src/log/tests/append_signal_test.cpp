#include "log/append_signal.h"

#include <gtest/gtest.h>

namespace millrace {

TEST(AppendSignal, CallbacksRunOnceOnTheNextAppendAndNeverGetLost) {
    AppendSignal signal;
    auto owner = std::make_shared<int>(0);
    int woken = 0;
    signal.wait_once(signal.generation(), owner, [&] { ++woken; });
    EXPECT_EQ(woken, 0);
    signal.notify();
    EXPECT_EQ(woken, 1);
    signal.notify();
    EXPECT_EQ(woken, 1);  // once
    // An append after the generation the waiter saw: it runs at once.
    const uint64_t seen = signal.generation();
    signal.notify();
    signal.wait_once(seen, owner, [&] { ++woken; });
    EXPECT_EQ(woken, 2);
    // A waiter whose owner is gone is dropped unrun.
    auto gone = std::make_shared<int>(0);
    signal.wait_once(signal.generation(), gone, [&] { ++woken; });
    gone.reset();
    signal.notify();
    EXPECT_EQ(woken, 2);
}

}  // namespace millrace
