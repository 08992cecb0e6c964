#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <queue>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/result.h"

namespace millrace {

/// A single-threaded event loop: one thread sleeps in epoll on an eventfd (woken by post())
/// and on the file descriptors it watches, with a timeout to the earliest timer of a heap.
/// Each iteration runs, in order: `on_iteration_begin`, the callbacks of ready descriptors,
/// the closures posted since the last iteration (in posting order), the timers that are due
/// (by deadline, then in the order they were added), and `on_iteration_end`. The hooks let an
/// owner batch work per iteration (the scheduler opens one state-store transaction per
/// iteration and commits it at the end).
///
/// Timers use the injected Clock (microseconds since the epoch), so a ManualClock drives them
/// in tests; the loop still wakes at least once a second to look at the clock.
///
/// Threads: post() and wake() from any thread; add_timer(), watch() and unwatch() only on the
/// loop thread (or before start()). stop() joins the loop thread; closures posted after the
/// last iteration stay queued until the owner drains them with run_posted() (e.g. to clean up
/// what other threads handed over while the loop stopped). The destructor stops the loop.
class EventLoop {
public:
    struct Hooks {
        std::function<void()> on_iteration_begin;
        std::function<void()> on_iteration_end;
    };

    explicit EventLoop(const Clock& clock);
    ~EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    /// Creates the epoll and eventfd descriptors; kIo when the kernel refuses.
    Status open();
    /// Starts the loop thread (after open()).
    void start(Hooks hooks = {});
    /// Asks the loop to finish its iteration and joins its thread. Idempotent.
    void stop();
    bool running() const { return running_.load(); }

    /// Queues `fn` to run on the loop thread in its next iteration. Any thread.
    void post(std::function<void()> fn);
    /// Runs (on the calling thread) the closures posted and not yet run. For the owner after
    /// stop().
    void run_posted();
    /// Makes a sleeping loop start an iteration now. Any thread.
    void wake();

    /// Runs `action` once the clock reaches `deadline_micros` (or in the next iteration when
    /// it already has). Loop thread.
    void add_timer(int64_t deadline_micros, std::function<void()> action);
    /// Calls `on_ready` on the loop thread each iteration in which `fd` is readable, until
    /// unwatch(). The caller owns `fd` and unwatches it before closing it.
    Status watch(int fd, std::function<void()> on_ready);
    void unwatch(int fd);

    std::size_t pending_timers() const { return timers_.size(); }

private:
    struct Timer {
        int64_t deadline;
        uint64_t sequence;
        std::function<void()> action;
        bool operator>(const Timer& other) const {
            return deadline != other.deadline ? deadline > other.deadline
                                              : sequence > other.sequence;
        }
    };

    void run(Hooks hooks);
    void close_descriptors();

    const Clock& clock_;
    int epoll_fd_ = -1;
    int event_fd_ = -1;
    std::atomic<bool> running_{false};
    std::thread thread_;

    std::mutex mutex_;                          // guards posted_
    std::deque<std::function<void()>> posted_;  // unbounded: posters are bounded by their owners

    std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;
    uint64_t next_sequence_ = 0;
    std::unordered_map<int, std::function<void()>> watched_;
};

}  // namespace millrace
