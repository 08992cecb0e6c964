#include "common/event_loop.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <future>
#include <string>
#include <thread>
#include <vector>

namespace millrace {
namespace {

// Runs `fn` on the loop thread and waits for it.
void on_loop(EventLoop& loop, std::function<void()> fn) {
    std::promise<void> done;
    loop.post([&] {
        fn();
        done.set_value();
    });
    done.get_future().get();
}

TEST(EventLoop, RunsPostedClosuresInOrderOnItsThread) {
    SystemClock clock;
    EventLoop loop(clock);
    ASSERT_TRUE(loop.open().ok());
    loop.start();
    std::vector<int> seen;
    std::thread::id loop_thread;
    for (int i = 0; i < 100; ++i) loop.post([&seen, i] { seen.push_back(i); });
    on_loop(loop, [&] { loop_thread = std::this_thread::get_id(); });
    loop.stop();
    ASSERT_EQ(seen.size(), 100u);
    for (int i = 0; i < 100; ++i) EXPECT_EQ(seen[static_cast<std::size_t>(i)], i);
    EXPECT_NE(loop_thread, std::this_thread::get_id());
}

TEST(EventLoop, ClosuresPostedFromManyThreadsAllRun) {
    SystemClock clock;
    EventLoop loop(clock);
    ASSERT_TRUE(loop.open().ok());
    loop.start();
    int count = 0;  // only touched on the loop thread
    std::vector<std::thread> posters;
    for (int t = 0; t < 4; ++t) {
        posters.emplace_back([&] {
            for (int i = 0; i < 250; ++i) loop.post([&count] { ++count; });
        });
    }
    for (std::thread& t : posters) t.join();
    int seen = 0;
    on_loop(loop, [&] { seen = count; });
    EXPECT_EQ(seen, 1000);
}

TEST(EventLoop, TimersFireByDeadlineThenInsertionOrder) {
    ManualClock clock(1'000'000);
    EventLoop loop(clock);
    ASSERT_TRUE(loop.open().ok());
    loop.start();
    std::vector<std::string> fired;
    on_loop(loop, [&] {
        loop.add_timer(3'000'000, [&] { fired.push_back("c"); });
        loop.add_timer(2'000'000, [&] { fired.push_back("a"); });
        loop.add_timer(2'000'000, [&] { fired.push_back("b"); });
        loop.add_timer(9'000'000, [&] { fired.push_back("late"); });
    });
    clock.set_micros(3'000'000);
    loop.wake();
    // Timers run after posted closures of the same iteration, so wait for one more iteration.
    std::vector<std::string> seen;
    for (int round = 0; round < 100 && seen.size() < 3; ++round) {
        on_loop(loop, [&] { seen = fired; });
    }
    EXPECT_EQ(seen, (std::vector<std::string>{"a", "b", "c"}));
    std::size_t pending = 0;
    on_loop(loop, [&] { pending = loop.pending_timers(); });
    EXPECT_EQ(pending, 1u);  // "late" waits for its deadline
}

TEST(EventLoop, WatchedDescriptorCallsBackUntilUnwatched) {
    SystemClock clock;
    EventLoop loop(clock);
    ASSERT_TRUE(loop.open().ok());
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    std::promise<std::string> got;
    ASSERT_TRUE(loop.watch(pipe_fds[0],
                           [&] {
                               char buffer[16] = {};
                               const ssize_t n = ::read(pipe_fds[0], buffer, sizeof(buffer));
                               loop.unwatch(pipe_fds[0]);  // a callback may unwatch itself
                               got.set_value(std::string(buffer, n > 0 ? std::size_t(n) : 0));
                           })
                    .ok());
    loop.start();
    ASSERT_EQ(::write(pipe_fds[1], "hi", 2), 2);
    EXPECT_EQ(got.get_future().get(), "hi");
    loop.stop();
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
}

TEST(EventLoop, HooksWrapEachIterationAndStopLeavesLatePostsToTheOwner) {
    SystemClock clock;
    EventLoop loop(clock);
    ASSERT_TRUE(loop.open().ok());
    std::vector<std::string> trace;  // loop thread only while it runs
    EventLoop::Hooks hooks;
    hooks.on_iteration_begin = [&] { trace.push_back("begin"); };
    hooks.on_iteration_end = [&] { trace.push_back("end"); };
    loop.start(std::move(hooks));
    on_loop(loop, [&] { trace.push_back("work"); });
    loop.stop();
    auto work = std::find(trace.begin(), trace.end(), "work");
    ASSERT_NE(work, trace.end());
    ASSERT_NE(work, trace.begin());
    EXPECT_EQ(*(work - 1), "begin");
    ASSERT_NE(work + 1, trace.end());
    EXPECT_EQ(*(work + 1), "end");

    bool late = false;
    loop.post([&] { late = true; });
    EXPECT_FALSE(late);
    loop.run_posted();
    EXPECT_TRUE(late);
}

}  // namespace
}  // namespace millrace
