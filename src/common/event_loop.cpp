#include "common/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace millrace {

namespace {
// The longest sleep: the loop looks at the clock at least this often, so a timer whose
// deadline an injected clock moved into the past fires within a second.
constexpr int64_t kMaxWaitMillis = 1000;
constexpr int kEventsPerWait = 256;
}  // namespace

EventLoop::EventLoop(const Clock& clock) : clock_(clock) {}

EventLoop::~EventLoop() {
    stop();
    close_descriptors();
}

Status EventLoop::open() {
    if (epoll_fd_ >= 0) return {};
    event_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (event_fd_ < 0 || epoll_fd_ < 0) {
        const std::string reason = std::strerror(errno);
        close_descriptors();
        return Error(ErrorCode::kIo, "cannot create the event loop's eventfd/epoll: " + reason);
    }
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = event_fd_;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, event_fd_, &event) != 0) {
        const std::string reason = std::strerror(errno);
        close_descriptors();
        return Error(ErrorCode::kIo, "cannot watch the event loop's eventfd: " + reason);
    }
    return {};
}

void EventLoop::close_descriptors() {
    if (epoll_fd_ >= 0) ::close(epoll_fd_);
    if (event_fd_ >= 0) ::close(event_fd_);
    epoll_fd_ = event_fd_ = -1;
}

void EventLoop::start(Hooks hooks) {
    if (running_.exchange(true)) return;
    thread_ = std::thread([this, hooks = std::move(hooks)] { run(hooks); });
}

void EventLoop::stop() {
    if (!running_.exchange(false)) return;
    wake();
    if (thread_.joinable()) thread_.join();
}

void EventLoop::post(std::function<void()> fn) {
    {
        std::lock_guard lock(mutex_);
        posted_.push_back(std::move(fn));
    }
    wake();
}

void EventLoop::run_posted() {
    std::deque<std::function<void()>> posted;
    {
        std::lock_guard lock(mutex_);
        posted.swap(posted_);
    }
    for (auto& fn : posted) fn();
}

void EventLoop::wake() {
    if (event_fd_ < 0) return;
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(event_fd_, &one, sizeof(one));
}

void EventLoop::add_timer(int64_t deadline_micros, std::function<void()> action) {
    timers_.push(Timer{deadline_micros, next_sequence_++, std::move(action)});
}

Status EventLoop::watch(int fd, std::function<void()> on_ready) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = fd;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) {
        return Error(ErrorCode::kIo,
                     "cannot watch descriptor " + std::to_string(fd) + ": " + std::strerror(errno));
    }
    watched_[fd] = std::move(on_ready);
    return {};
}

void EventLoop::unwatch(int fd) {
    if (watched_.erase(fd) > 0) ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
}

void EventLoop::run(Hooks hooks) {
    std::vector<epoll_event> events(kEventsPerWait);
    while (running_) {
        int64_t timeout_ms = kMaxWaitMillis;
        if (!timers_.empty()) {
            const int64_t wait = timers_.top().deadline - clock_.now_micros();
            timeout_ms = std::clamp<int64_t>((wait + 999) / 1000, 0, kMaxWaitMillis);
        }
        const int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()),
                                   static_cast<int>(timeout_ms));
        if (hooks.on_iteration_begin) hooks.on_iteration_begin();
        for (int i = 0; i < n; ++i) {
            const int fd = events[static_cast<std::size_t>(i)].data.fd;
            if (fd == event_fd_) {
                uint64_t value = 0;
                [[maybe_unused]] ssize_t r = ::read(event_fd_, &value, sizeof(value));
                continue;
            }
            // Copied: the callback may unwatch (and so destroy) itself.
            auto it = watched_.find(fd);
            if (it == watched_.end()) continue;
            std::function<void()> on_ready = it->second;
            on_ready();
        }
        run_posted();
        const int64_t now = clock_.now_micros();
        while (!timers_.empty() && timers_.top().deadline <= now) {
            Timer timer = timers_.top();
            timers_.pop();
            timer.action();
        }
        if (hooks.on_iteration_end) hooks.on_iteration_end();
    }
}

}  // namespace millrace
