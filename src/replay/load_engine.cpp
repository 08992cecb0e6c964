#include "replay/load_engine.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/json_string.h"
#include "net/http_response_parser.h"

namespace millrace {

void HttpRequestSpec::clear() {
    method = "GET";
    target.clear();
    headers.clear();
    body.clear();
    recorded_offset_ns = 0;
}

uint64_t LoadReport::non_2xx() const {
    uint64_t total = 0;
    for (const auto& [status, count] : by_status) {
        if (status < 200 || status > 299) total += count;
    }
    return total;
}

uint64_t LoadReport::failed() const {
    return non_2xx() + timeouts + io_errors + parse_errors + unsent;
}

namespace {

double micros(uint64_t nanos) { return static_cast<double>(nanos) / 1000.0; }

}  // namespace

std::string LoadReport::to_json() const {
    std::string out = "{\"target\":";
    append_json_string(out, target);
    out += fmt::format(
        ",\"schedule\":\"{}\",\"offered_rate\":{:.1f},\"connections\":{},\"sent\":{},"
        "\"completed\":{},\"by_status\":{{",
        schedule, offered_rate, connections, sent, completed);
    bool first = true;
    for (const auto& [status, count] : by_status) {
        out += fmt::format("{}\"{}\":{}", first ? "" : ",", status, count);
        first = false;
    }
    out += fmt::format(
        "}},\"errors\":{{\"connect\":{},\"timeout\":{},\"io\":{},\"parse\":{},\"unsent\":{},"
        "\"non_2xx\":{}}},\"elapsed_s\":{:.3f},\"achieved_rate\":{:.1f},",
        connect_errors, timeouts, io_errors, parse_errors, unsent, non_2xx(), elapsed_seconds,
        achieved_rate);
    out += fmt::format(
        "\"latency_us\":{{\"count\":{},\"min\":{:.1f},\"mean\":{:.1f},\"p50\":{:.1f},"
        "\"p90\":{:.1f},\"p99\":{:.1f},\"p99_9\":{:.1f},\"max\":{:.1f}}}",
        latency.count(), micros(latency.min()), latency.mean() / 1000.0,
        micros(latency.value_at_percentile(50)), micros(latency.value_at_percentile(90)),
        micros(latency.value_at_percentile(99)), micros(latency.value_at_percentile(99.9)),
        micros(latency.max()));
    out += fmt::format(
        ",\"send_lag_us\":{{\"p50\":{:.1f},\"p99\":{:.1f},\"p99_9\":{:.1f},\"max\":{:.1f}}}",
        micros(send_lag.value_at_percentile(50)), micros(send_lag.value_at_percentile(99)),
        micros(send_lag.value_at_percentile(99.9)), micros(send_lag.max()));
    if (!aborted.empty()) {
        out += ",\"aborted\":";
        append_json_string(out, aborted);
    }
    out += '}';
    return out;
}

std::string LoadReport::summary() const {
    std::string statuses;
    for (const auto& [status, count] : by_status) {
        statuses += fmt::format("{}{}: {}", statuses.empty() ? "" : ", ", status, count);
    }
    std::string errors;
    auto add = [&](const char* name, uint64_t count) {
        if (count > 0) errors += fmt::format(", {} {}", count, name);
    };
    add("connect errors", connect_errors);
    add("timeouts", timeouts);
    add("I/O errors", io_errors);
    add("bad responses", parse_errors);
    add("unsent", unsent);
    return fmt::format(
        "{:.0f} req/s offered ({}), {:.0f} achieved, {} sent, {} answered ({}){}; latency us "
        "p50 {:.0f} p90 {:.0f} p99 {:.0f} p99.9 {:.0f} max {:.0f}; send lag us p50 {:.0f} p99 "
        "{:.0f}{}",
        offered_rate, schedule, achieved_rate, sent, completed,
        statuses.empty() ? "none" : statuses, errors, micros(latency.value_at_percentile(50)),
        micros(latency.value_at_percentile(90)), micros(latency.value_at_percentile(99)),
        micros(latency.value_at_percentile(99.9)), micros(latency.max()),
        micros(send_lag.value_at_percentile(50)), micros(send_lag.value_at_percentile(99)),
        aborted.empty() ? "" : "; aborted: " + aborted);
}

namespace {

int64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::string errno_text(int error) { return std::strerror(error); }

constexpr int64_t kReconnectDelayNs = 100'000'000;
constexpr int64_t kSweepIntervalNs = 5'000'000;

enum class ConnectionState { kClosed, kConnecting, kIdle, kBusy };

struct Connection {
    int fd = -1;
    ConnectionState state = ConnectionState::kClosed;
    std::string out;
    std::size_t out_pos = 0;
    std::string in;
    HttpResponseParser parser;
    uint64_t index = 0;
    int64_t intended_ns = 0;
    int64_t sent_ns = 0;
    int64_t connect_started_ns = 0;
    int64_t reconnect_at_ns = 0;
    uint32_t generation = 0;  // bumped per socket, so a stale epoll event is recognized
    bool want_write = false;  // EPOLLOUT registered
};

/// One run of a LoadEngine: all of its state, on the caller's thread.
class Runner {
public:
    Runner(const LoadOptions& options, const std::atomic<bool>& stop,
           const RequestGenerator& generator, const ResponseCallback& on_result)
        : options_(options), stop_(stop), generator_(generator), on_result_(on_result) {}

    ~Runner() {
        for (Connection& connection : connections_) {
            if (connection.fd >= 0) ::close(connection.fd);
        }
        if (epoll_fd_ >= 0) ::close(epoll_fd_);
    }

    Result<LoadReport> run();

private:
    Status resolve();
    void start_connect(std::size_t id, int64_t now);
    void fail_connect(std::size_t id, int64_t now, int error);
    void close_connection(std::size_t id);
    void on_connected(std::size_t id, int64_t now);
    void handle_event(std::size_t id, uint32_t events, int64_t now);
    void flush(std::size_t id, int64_t now);
    void receive(std::size_t id, int64_t now);
    void complete(std::size_t id, int64_t now);
    void fail_request(std::size_t id, RequestOutcome outcome, const std::string& why, int64_t now);
    void send(std::size_t id, int64_t intended, int64_t now);
    bool prepare_next(int64_t now);
    void sweep(int64_t now);
    void wait(int64_t deadline_ns);
    void watch(std::size_t id, bool want_write);
    void report(const RequestResult& result) {
        if (on_result_) on_result_(result);
    }

    const LoadOptions& options_;
    const std::atomic<bool>& stop_;
    const RequestGenerator& generator_;
    const ResponseCallback& on_result_;

    sockaddr_storage address_{};
    socklen_t address_length_ = 0;
    int epoll_fd_ = -1;
    std::vector<Connection> connections_;
    std::vector<std::size_t> idle_;
    std::size_t busy_ = 0;
    std::size_t open_ = 0;  // kIdle or kBusy
    std::string host_header_;

    HttpRequestSpec next_;
    bool next_ready_ = false;
    bool exhausted_ = false;
    uint64_t next_index_ = 0;
    int64_t next_due_ = 0;
    int64_t start_ns_ = 0;
    int64_t last_completion_ns_ = 0;
    int64_t last_progress_ns_ = 0;
    int64_t first_send_ns_ = 0;
    int64_t last_send_ns_ = 0;
    bool finishing_ = false;  // the run is over: no reconnects
    LoadReport report_;
};

Status Runner::resolve() {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(options_.target.port);
    const int rc = ::getaddrinfo(options_.target.host.c_str(), port.c_str(), &hints, &found);
    if (rc != 0 || found == nullptr) {
        return Error(ErrorCode::kIo,
                     "cannot resolve `" + options_.target.host + "`: " + ::gai_strerror(rc));
    }
    std::memcpy(&address_, found->ai_addr, found->ai_addrlen);
    address_length_ = found->ai_addrlen;
    ::freeaddrinfo(found);
    return {};
}

void Runner::start_connect(std::size_t id, int64_t now) {
    Connection& connection = connections_[id];
    connection.fd = ::socket(address_.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (connection.fd < 0) {
        fail_connect(id, now, errno);
        return;
    }
    const int one = 1;
    ::setsockopt(connection.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    connection.state = ConnectionState::kConnecting;
    connection.connect_started_ns = now;
    ++connection.generation;
    connection.want_write = true;
    epoll_event event{};
    event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
    event.data.u64 = (uint64_t{connection.generation} << 32) | id;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, connection.fd, &event) != 0) {
        fail_connect(id, now, errno);
        return;
    }
    if (::connect(connection.fd, reinterpret_cast<const sockaddr*>(&address_), address_length_) ==
            0 ||
        errno == EINPROGRESS) {
        return;  // EPOLLOUT tells when it is done
    }
    fail_connect(id, now, errno);
}

/// Level-triggered EPOLLIN always; EPOLLOUT only while connecting or a send is incomplete.
void Runner::watch(std::size_t id, bool want_write) {
    Connection& connection = connections_[id];
    if (connection.want_write == want_write) return;
    connection.want_write = want_write;
    epoll_event event{};
    event.events = EPOLLIN | EPOLLRDHUP | (want_write ? EPOLLOUT : 0u);
    event.data.u64 = (uint64_t{connection.generation} << 32) | id;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, connection.fd, &event);
}

void Runner::close_connection(std::size_t id) {
    Connection& connection = connections_[id];
    if (connection.state == ConnectionState::kBusy) --busy_;
    if (connection.state == ConnectionState::kIdle || connection.state == ConnectionState::kBusy) {
        --open_;
    }
    if (connection.state == ConnectionState::kIdle) {
        idle_.erase(std::find(idle_.begin(), idle_.end(), id));
    }
    if (connection.fd >= 0) ::close(connection.fd);  // also leaves the epoll set
    connection.fd = -1;
    connection.state = ConnectionState::kClosed;
    connection.out.clear();
    connection.out_pos = 0;
    connection.in.clear();
}

void Runner::fail_connect(std::size_t id, int64_t now, int error) {
    ++report_.connect_errors;
    report_.last_error =
        "cannot connect to " + options_.target.authority() + ": " + errno_text(error);
    close_connection(id);
    connections_[id].reconnect_at_ns = now + kReconnectDelayNs;
}

void Runner::on_connected(std::size_t id, int64_t now) {
    Connection& connection = connections_[id];
    connection.state = ConnectionState::kIdle;
    watch(id, false);
    ++open_;
    idle_.push_back(id);
    last_progress_ns_ = now;
}

void Runner::send(std::size_t id, int64_t intended, int64_t now) {
    Connection& connection = connections_[id];
    std::string& out = connection.out;
    out.clear();
    connection.out_pos = 0;
    out += next_.method;
    out += ' ';
    out += options_.target.path_prefix;
    out += next_.target.empty() ? "/" : next_.target;
    out += " HTTP/1.1\r\nHost: ";
    out += host_header_;
    out += "\r\n";
    for (const auto& [name, value] : next_.headers) {
        out += name;
        out += ": ";
        out += value;
        out += "\r\n";
    }
    if (!next_.body.empty() || next_.method == "POST" || next_.method == "PUT" ||
        next_.method == "PATCH") {
        out += "Content-Length: ";
        out += std::to_string(next_.body.size());
        out += "\r\n";
    }
    out += "\r\n";
    out += next_.body;
    connection.parser.reset(next_.method == "HEAD");
    connection.parser.set_keep_body(options_.keep_bodies);
    connection.in.clear();
    connection.index = next_index_;
    connection.intended_ns = intended;
    connection.sent_ns = now;
    if (options_.schedule.open_loop()) {
        report_.send_lag.record(static_cast<uint64_t>(std::max<int64_t>(now - intended, 0)));
    }
    connection.state = ConnectionState::kBusy;
    ++busy_;
    ++report_.sent;
    if (report_.sent == 1) first_send_ns_ = now;
    last_send_ns_ = now;
    flush(id, now);
}

void Runner::flush(std::size_t id, int64_t now) {
    Connection& connection = connections_[id];
    while (connection.out_pos < connection.out.size()) {
        const ssize_t n = ::send(connection.fd, connection.out.data() + connection.out_pos,
                                 connection.out.size() - connection.out_pos, MSG_NOSIGNAL);
        if (n > 0) {
            connection.out_pos += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            watch(id, true);  // EPOLLOUT resumes
            return;
        }
        fail_request(id, RequestOutcome::kIoError, "send: " + errno_text(errno), now);
        return;
    }
    watch(id, false);
}

void Runner::fail_request(std::size_t id, RequestOutcome outcome, const std::string& why,
                          int64_t now) {
    Connection& connection = connections_[id];
    switch (outcome) {
        case RequestOutcome::kTimeout:
            ++report_.timeouts;
            break;
        case RequestOutcome::kIoError:
            ++report_.io_errors;
            break;
        case RequestOutcome::kParseError:
            ++report_.parse_errors;
            break;
        default:
            break;
    }
    RequestResult result;
    result.index = connection.index;
    result.outcome = outcome;
    result.error = why;
    close_connection(id);
    report(result);
    if (!finishing_) start_connect(id, now);  // a fresh connection for the next request
}

void Runner::complete(std::size_t id, int64_t now) {
    Connection& connection = connections_[id];
    const int64_t from =
        options_.schedule.open_loop() ? connection.intended_ns : connection.sent_ns;
    const int64_t latency = std::max<int64_t>(now - from, 0);
    report_.latency.record(static_cast<uint64_t>(latency));
    ++report_.completed;
    ++report_.by_status[connection.parser.status()];
    last_completion_ns_ = now;
    last_progress_ns_ = now;
    RequestResult result;
    result.index = connection.index;
    result.status = connection.parser.status();
    result.latency_ns = latency;
    if (options_.keep_bodies) result.body = connection.parser.body();
    report(result);
    connection.in.clear();
    if (connection.parser.keep_alive()) {
        connection.state = ConnectionState::kIdle;
        --busy_;
        idle_.push_back(id);
    } else {
        close_connection(id);
        start_connect(id, now);
    }
}

void Runner::receive(std::size_t id, int64_t now) {
    Connection& connection = connections_[id];
    char buffer[64 * 1024];
    while (true) {  // level-triggered: one read, more only when the buffer was filled
        const ssize_t n = ::recv(connection.fd, buffer, sizeof buffer, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n <= 0) {  // the peer closed, or an error
            const int error = n < 0 ? errno : 0;
            if (connection.state != ConnectionState::kBusy) {  // an idle keep-alive closed
                close_connection(id);
                if (!finishing_) start_connect(id, now);
                return;
            }
            if (error == 0 && connection.parser.finish_at_eof().ok()) {
                complete(id, now);  // a read-until-close response (not keep-alive: reconnects)
                return;
            }
            fail_request(id, RequestOutcome::kIoError,
                         error == 0 ? std::string("the server closed the connection")
                                    : "recv: " + errno_text(error),
                         now);
            return;
        }
        if (connection.state == ConnectionState::kBusy) {
            std::string_view input(buffer, static_cast<std::size_t>(n));
            if (!connection.in.empty()) {
                connection.in.append(input);
                input = connection.in;
            }
            auto used = connection.parser.parse(input);
            if (!used.ok()) {
                fail_request(id, RequestOutcome::kParseError, used.error().message(), now);
                return;
            }
            if (connection.parser.done()) {
                complete(id, now);
                if (connection.state != ConnectionState::kIdle) return;  // reconnecting
            } else if (connection.in.empty()) {
                connection.in.assign(input.substr(*used));
            } else {
                connection.in.erase(0, *used);
            }
        }  // else: bytes nobody asked for, dropped
        if (static_cast<std::size_t>(n) < sizeof buffer) return;
    }
}

void Runner::handle_event(std::size_t id, uint32_t events, int64_t now) {
    Connection& connection = connections_[id];
    if (connection.fd < 0) return;
    if (connection.state == ConnectionState::kConnecting) {
        if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return;
        int error = 0;
        socklen_t length = sizeof error;
        ::getsockopt(connection.fd, SOL_SOCKET, SO_ERROR, &error, &length);
        if (error != 0 || (events & (EPOLLERR | EPOLLHUP)) != 0) {
            fail_connect(id, now, error != 0 ? error : ECONNREFUSED);
            return;
        }
        on_connected(id, now);
        return;
    }
    if ((events & EPOLLOUT) != 0 && connection.state == ConnectionState::kBusy) flush(id, now);
    if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) receive(id, now);
}

/// Makes `next_` the next request and its due time; false when there is none.
bool Runner::prepare_next(int64_t now) {
    if (next_ready_) return true;
    if (exhausted_) return false;
    if (next_index_ >= options_.max_requests || stop_.load(std::memory_order_relaxed)) {
        exhausted_ = true;
        return false;
    }
    if (!options_.schedule.open_loop() && options_.duration &&
        now - start_ns_ >= options_.duration->count()) {
        exhausted_ = true;
        return false;
    }
    next_.headers.clear();
    next_.body.clear();
    next_.recorded_offset_ns = 0;
    if (!generator_(next_index_, next_)) {
        exhausted_ = true;
        return false;
    }
    const int64_t due = options_.schedule.due_ns(next_index_, next_.recorded_offset_ns);
    if (options_.schedule.open_loop() && options_.duration && due >= options_.duration->count()) {
        exhausted_ = true;
        return false;
    }
    next_due_ = start_ns_ + due;
    next_ready_ = true;
    return true;
}

void Runner::sweep(int64_t now) {
    const int64_t request_timeout =
        std::chrono::duration_cast<std::chrono::nanoseconds>(options_.request_timeout).count();
    const int64_t connect_timeout =
        std::chrono::duration_cast<std::chrono::nanoseconds>(options_.connect_timeout).count();
    for (std::size_t id = 0; id < connections_.size(); ++id) {
        Connection& connection = connections_[id];
        switch (connection.state) {
            case ConnectionState::kBusy:
                if (now - connection.sent_ns > request_timeout) {
                    fail_request(
                        id, RequestOutcome::kTimeout,
                        fmt::format("no response within {} ms", options_.request_timeout.count()),
                        now);
                }
                break;
            case ConnectionState::kConnecting:
                if (now - connection.connect_started_ns > connect_timeout) {
                    fail_connect(id, now, ETIMEDOUT);
                }
                break;
            case ConnectionState::kClosed:
                if (now >= connection.reconnect_at_ns && !(exhausted_ && !next_ready_)) {
                    start_connect(id, now);
                }
                break;
            case ConnectionState::kIdle:
                break;
        }
    }
}

void Runner::wait(int64_t deadline_ns) {
    epoll_event events[256];
    const int64_t now = now_ns();
    const int64_t wait_ns = std::max<int64_t>(deadline_ns - now, 0);
    timespec timeout{static_cast<time_t>(wait_ns / 1'000'000'000),
                     static_cast<long>(wait_ns % 1'000'000'000)};
    int n = ::epoll_pwait2(epoll_fd_, events, 256, &timeout, nullptr);
    if (n < 0 && errno == ENOSYS) {  // kernels before 5.11: millisecond resolution
        n = ::epoll_wait(epoll_fd_, events, 256, static_cast<int>((wait_ns + 999'999) / 1'000'000));
    }
    if (n <= 0) return;
    const int64_t woke = now_ns();
    for (int i = 0; i < n; ++i) {
        const auto id = static_cast<std::size_t>(events[i].data.u64 & 0xffffffffu);
        const auto generation = static_cast<uint32_t>(events[i].data.u64 >> 32);
        if (id >= connections_.size() || connections_[id].generation != generation) continue;
        handle_event(id, events[i].events, woke);
    }
}

Result<LoadReport> Runner::run() {
    MILLRACE_TRY(resolve());
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) return Error(ErrorCode::kIo, "epoll_create1: " + errno_text(errno));
    host_header_ = options_.target.port == 80 ? options_.target.host : options_.target.authority();
    report_.target = "http://" + options_.target.authority() + options_.target.path_prefix;
    report_.connections = std::max(options_.connections, 1);
    switch (options_.schedule.kind()) {
        case LoadSchedule::Kind::kFixedRate:
            report_.schedule = "fixed_rate";
            report_.offered_rate = options_.schedule.rate();
            break;
        case LoadSchedule::Kind::kAsFastAsPossible:
            report_.schedule = "as_fast_as_possible";
            break;
        case LoadSchedule::Kind::kRecordedOffsets:
            report_.schedule = "recorded_offsets";
            break;
    }
    connections_.resize(static_cast<std::size_t>(report_.connections));
    idle_.reserve(connections_.size());

    // Open every connection before the clock starts.
    const int64_t setup_start = now_ns();
    for (std::size_t id = 0; id < connections_.size(); ++id) start_connect(id, setup_start);
    const int64_t connect_deadline =
        setup_start +
        std::chrono::duration_cast<std::chrono::nanoseconds>(options_.connect_timeout).count();
    while (true) {
        const auto settled = static_cast<std::size_t>(std::count_if(
            connections_.begin(), connections_.end(),
            [](const Connection& c) { return c.state != ConnectionState::kConnecting; }));
        const int64_t now = now_ns();
        if (settled == connections_.size() || now >= connect_deadline) break;
        wait(connect_deadline);
    }
    if (open_ == 0) {
        return Error(ErrorCode::kIo, report_.last_error.empty()
                                         ? "cannot connect to " + options_.target.authority()
                                         : report_.last_error);
    }
    for (std::size_t id = 0; id < connections_.size(); ++id) {
        if (connections_[id].state == ConnectionState::kConnecting) {
            fail_connect(id, now_ns(), ETIMEDOUT);
        }
    }

    start_ns_ = now_ns();
    last_progress_ns_ = start_ns_;
    int64_t next_sweep = start_ns_ + kSweepIntervalNs;
    const int64_t give_up_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   options_.request_timeout + options_.connect_timeout)
                                   .count();
    int64_t drain_deadline = 0;
    while (true) {
        int64_t now = now_ns();
        // Send everything that is due, while connections are free.
        while (!idle_.empty() && prepare_next(now)) {
            if (options_.schedule.open_loop() && next_due_ > now) break;
            const std::size_t id = idle_.back();
            idle_.pop_back();
            const int64_t intended = options_.schedule.open_loop() ? next_due_ : now;
            send(id, intended, now);
            next_ready_ = false;
            ++next_index_;
        }
        if (stop_.load(std::memory_order_relaxed) && !exhausted_) {
            exhausted_ = true;
            if (next_ready_) {
                next_ready_ = false;
                ++report_.unsent;  // already generated: account for it
            }
        }
        if (exhausted_ && !next_ready_ && busy_ == 0) break;
        if (now >= next_sweep) {
            sweep(now);
            next_sweep = now + kSweepIntervalNs;
        }
        if (busy_ == 0 && open_ == 0 && now - last_progress_ns_ > give_up_ns) {
            report_.aborted = fmt::format("no connection to {} for {} ms",
                                          options_.target.authority(), give_up_ns / 1'000'000) +
                              (report_.last_error.empty() ? "" : " (" + report_.last_error + ")");
            break;
        }
        // Past the duration, what is still waiting for a connection gets one request timeout.
        if (options_.duration && drain_deadline == 0 &&
            now - start_ns_ >= options_.duration->count()) {
            drain_deadline =
                now + std::chrono::duration_cast<std::chrono::nanoseconds>(options_.request_timeout)
                          .count();
        }
        if (drain_deadline != 0 && now >= drain_deadline) {
            finishing_ = true;  // time out what is in flight
            for (std::size_t id = 0; id < connections_.size(); ++id) {
                if (connections_[id].state == ConnectionState::kBusy) {
                    fail_request(id, RequestOutcome::kTimeout, "the run ended first", now);
                }
            }
            break;
        }
        int64_t deadline = next_sweep;
        if (!idle_.empty() && next_ready_) deadline = std::min(deadline, next_due_);
        if (!idle_.empty() && !next_ready_ && !exhausted_) deadline = now;
        wait(deadline);
    }
    // Requests that were due (or generated) but never found a free connection.
    if (next_ready_) {
        next_ready_ = false;
        ++report_.unsent;
        RequestResult result;
        result.index = next_index_++;
        result.outcome = RequestOutcome::kUnsent;
        result.error = "the run ended before a connection was free";
        report(result);
    }
    finishing_ = true;
    // Unless the generator or a stop ended the run: the rest of the schedule never went out.
    constexpr uint64_t kMaxUnsentCounted = 100'000'000;  // an endless generator, stopped early
    while (!exhausted_ && next_index_ < options_.max_requests &&
           report_.unsent < kMaxUnsentCounted) {
        next_.headers.clear();
        next_.body.clear();
        if (!generator_(next_index_, next_)) break;
        const int64_t due = options_.schedule.due_ns(next_index_, next_.recorded_offset_ns);
        if (options_.schedule.open_loop() && options_.duration &&
            due >= options_.duration->count()) {
            break;
        }
        if (!options_.schedule.open_loop() && options_.duration) break;
        ++report_.unsent;
        RequestResult result;
        result.index = next_index_++;
        result.outcome = RequestOutcome::kUnsent;
        result.error = report_.aborted.empty() ? "the run ended before a connection was free"
                                               : report_.aborted;
        report(result);
    }
    // A run bounded by a duration lasted at least that long, even when its last answer came
    // earlier (or never): the achieved rate is then per second of the run.
    int64_t end = last_completion_ns_ > 0 ? last_completion_ns_ : now_ns();
    if (options_.duration) end = std::max(end, start_ns_ + options_.duration->count());
    report_.elapsed_seconds = static_cast<double>(end - start_ns_) / 1e9;
    if (report_.elapsed_seconds > 0) {
        report_.achieved_rate = static_cast<double>(report_.completed) / report_.elapsed_seconds;
    }
    if (report_.offered_rate == 0 && last_send_ns_ > first_send_ns_) {
        report_.offered_rate = static_cast<double>(report_.sent - 1) /
                               (static_cast<double>(last_send_ns_ - first_send_ns_) / 1e9);
    }
    return std::move(report_);
}

}  // namespace

LoadEngine::LoadEngine(LoadOptions options) : options_(std::move(options)) {}

Result<LoadReport> LoadEngine::run(const RequestGenerator& generator,
                                   const ResponseCallback& on_result) {
    stop_.store(false, std::memory_order_relaxed);
    // Wake-ups are due to the microsecond; the default 50 µs timer slack would add up to 50 µs
    // to every request sent after a sleep. Restored after the run (it is per thread).
    const int previous_slack = ::prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
    ::prctl(PR_SET_TIMERSLACK, 1, 0, 0, 0);
    Runner runner(options_, stop_, generator, on_result);
    auto report = runner.run();
    if (previous_slack > 0) ::prctl(PR_SET_TIMERSLACK, previous_slack, 0, 0, 0);
    return report;
}

}  // namespace millrace
