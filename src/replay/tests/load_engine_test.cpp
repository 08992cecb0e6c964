#include "replay/load_engine.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace millrace {
namespace {

/// What the test server answers to one request: status, body, delay, and how to frame it.
struct Answer {
    int status = 200;
    std::string body = "ok";
    std::chrono::milliseconds delay{0};
    bool chunked = false;
    bool close = false;
};

/// A tiny blocking HTTP/1.1 server on 127.0.0.1 with a thread per connection; answers every
/// request with handler(method, target, body).
class TestServer {
public:
    using Handler =
        std::function<Answer(const std::string&, const std::string&, const std::string&)>;

    explicit TestServer(Handler handler) : handler_(std::move(handler)) {
        listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        const int one = 1;
        ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
        EXPECT_EQ(::listen(listen_fd_, 128), 0);
        socklen_t length = sizeof address;
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
        port_ = ntohs(address.sin_port);
        acceptor_ = std::thread([this] { accept_loop(); });
    }

    ~TestServer() {
        stopping_ = true;
        ::shutdown(listen_fd_, SHUT_RDWR);
        ::close(listen_fd_);
        acceptor_.join();
        std::lock_guard lock(mutex_);
        for (int fd : client_fds_) ::shutdown(fd, SHUT_RDWR);
        for (std::thread& thread : connections_) thread.join();
        for (int fd : client_fds_) ::close(fd);
    }

    uint16_t port() const { return port_; }
    int accepted() const { return accepted_.load(); }

private:
    void accept_loop() {
        while (!stopping_) {
            const int fd = ::accept(listen_fd_, nullptr, nullptr);
            if (fd < 0) return;
            ++accepted_;
            std::lock_guard lock(mutex_);
            client_fds_.push_back(fd);
            connections_.emplace_back([this, fd] { serve(fd); });
        }
    }

    void serve(int fd) {
        std::string buffer;
        char chunk[4096];
        while (true) {
            std::size_t header_end;
            while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
                const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
                if (n <= 0) return;
                buffer.append(chunk, static_cast<std::size_t>(n));
            }
            const std::string head = buffer.substr(0, header_end);
            std::size_t length = 0;
            if (auto at = head.find("Content-Length: "); at != std::string::npos) {
                length = std::stoul(head.substr(at + 16));
            }
            while (buffer.size() < header_end + 4 + length) {
                const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
                if (n <= 0) return;
                buffer.append(chunk, static_cast<std::size_t>(n));
            }
            const std::string body = buffer.substr(header_end + 4, length);
            buffer.erase(0, header_end + 4 + length);
            const std::string method = head.substr(0, head.find(' '));
            const std::size_t target_start = head.find(' ') + 1;
            const std::string target =
                head.substr(target_start, head.find(' ', target_start) - target_start);
            const Answer answer = handler_(method, target, body);
            if (answer.delay.count() > 0) std::this_thread::sleep_for(answer.delay);
            std::string out = "HTTP/1.1 " + std::to_string(answer.status) + " X\r\n";
            if (answer.close) out += "Connection: close\r\n";
            if (answer.chunked) {
                out += "Transfer-Encoding: chunked\r\n\r\n";
                char size[32];
                std::snprintf(size, sizeof size, "%zx\r\n", answer.body.size());
                if (!answer.body.empty()) out += size + answer.body + "\r\n";
                out += "0\r\n\r\n";
            } else {
                out += "Content-Length: " + std::to_string(answer.body.size()) + "\r\n\r\n" +
                       answer.body;
            }
            if (::send(fd, out.data(), out.size(), MSG_NOSIGNAL) < 0) return;
            if (answer.close) {
                ::shutdown(fd, SHUT_WR);
                return;
            }
        }
    }

    Handler handler_;
    int listen_fd_ = -1;
    uint16_t port_ = 0;
    std::atomic<bool> stopping_{false};
    std::atomic<int> accepted_{0};
    std::thread acceptor_;
    std::mutex mutex_;
    std::vector<int> client_fds_;
    std::vector<std::thread> connections_;
};

LoadOptions options_for(const TestServer& server, LoadSchedule schedule, int connections) {
    LoadOptions options;
    options.target = *HttpUrl::parse("http://127.0.0.1:" + std::to_string(server.port()));
    options.schedule = schedule;
    options.connections = connections;
    return options;
}

TEST(LoadEngine, SendsEveryRequestAndCountsStatuses) {
    TestServer server(
        [](const std::string& method, const std::string& target, const std::string& body) {
            Answer answer;
            answer.body = method + " " + target + " " + body;
            if (target == "/missing") answer.status = 404;
            if (target == "/chunked") answer.chunked = true;
            return answer;
        });
    auto options = options_for(server, LoadSchedule::fixed_rate(2000), 4);
    options.max_requests = 300;
    options.keep_bodies = true;
    std::vector<std::string> bodies(300);
    LoadEngine engine(options);
    auto report = engine.run(
        [](uint64_t index, HttpRequestSpec& request) {
            request.method = index % 3 == 0 ? "POST" : "GET";
            request.target = index % 10 == 0 ? "/missing" : index % 10 == 1 ? "/chunked" : "/x";
            request.body = index % 3 == 0 ? "b" + std::to_string(index) : "";
            return true;
        },
        [&](const RequestResult& result) {
            ASSERT_EQ(result.outcome, RequestOutcome::kResponse);
            bodies[result.index] = std::string(result.body);
        });
    ASSERT_TRUE(report.ok()) << report.error().to_string();
    EXPECT_EQ(report->sent, 300u);
    EXPECT_EQ(report->completed, 300u);
    EXPECT_EQ(report->by_status[200], 270u);
    EXPECT_EQ(report->by_status[404], 30u);
    EXPECT_EQ(report->non_2xx(), 30u);
    EXPECT_EQ(report->failed(), 30u);
    EXPECT_EQ(report->latency.count(), 300u);
    EXPECT_EQ(bodies[3], "POST /x b3");
    EXPECT_EQ(bodies[11], "GET /chunked ");
    EXPECT_EQ(bodies[10], "GET /missing ");
    EXPECT_EQ(bodies[30], "POST /missing b30");
    EXPECT_EQ(server.accepted(), 4);  // keep-alive: no reconnects
    EXPECT_NE(report->to_json().find("\"completed\":300"), std::string::npos);
}

TEST(LoadEngine, AStalledServerInflatesLatencyInsteadOfLoweringTheRate) {
    // One connection, 200 requests/s; the first response takes 300 ms. Requests due meanwhile wait
    // for the connection, and their wait counts: no coordinated omission. A closed-loop tool
    // would report one slow request and 59 fast ones.
    std::atomic<int> served{0};
    TestServer server([&](const std::string&, const std::string&, const std::string&) {
        Answer answer;
        if (served++ == 0) answer.delay = std::chrono::milliseconds(300);
        return answer;
    });
    auto options = options_for(server, LoadSchedule::fixed_rate(200), 1);
    options.max_requests = 60;
    LoadEngine engine(options);
    auto report = engine.run([](uint64_t, HttpRequestSpec& request) {
        request.target = "/";
        return true;
    });
    ASSERT_TRUE(report.ok());
    EXPECT_EQ(report->completed, 60u);
    // Requests 0..59 are due at 0, 5, ..., 295 ms; none can be answered before 300 ms, so request
    // i waits at least 300 - 5i ms: the median (request 29) at least 155 ms.
    EXPECT_GE(report->latency.value_at_percentile(50), 150'000'000u);
    EXPECT_GE(report->latency.max(), 300'000'000u);
}

TEST(LoadEngine, ConnectionCloseResponsesReconnect) {
    TestServer server([](const std::string&, const std::string&, const std::string&) {
        Answer answer;
        answer.close = true;
        return answer;
    });
    auto options = options_for(server, LoadSchedule::as_fast_as_possible(), 2);
    options.max_requests = 20;
    LoadEngine engine(options);
    auto report = engine.run([](uint64_t, HttpRequestSpec& request) {
        request.target = "/";
        return true;
    });
    ASSERT_TRUE(report.ok());
    EXPECT_EQ(report->completed, 20u);
    EXPECT_EQ(report->by_status[200], 20u);
    EXPECT_GE(server.accepted(), 20);
}

TEST(LoadEngine, TimeoutsAreCountedAndTheRunEnds) {
    TestServer server([](const std::string&, const std::string& target, const std::string&) {
        Answer answer;
        if (target == "/slow") answer.delay = std::chrono::milliseconds(600);
        return answer;
    });
    auto options = options_for(server, LoadSchedule::as_fast_as_possible(), 2);
    options.max_requests = 4;
    options.request_timeout = std::chrono::milliseconds(100);
    std::vector<RequestOutcome> outcomes(4);
    LoadEngine engine(options);
    auto report = engine.run(
        [](uint64_t index, HttpRequestSpec& request) {
            request.target = index == 1 ? "/slow" : "/fast";
            return true;
        },
        [&](const RequestResult& result) { outcomes[result.index] = result.outcome; });
    ASSERT_TRUE(report.ok());
    EXPECT_EQ(report->timeouts, 1u);
    EXPECT_EQ(report->completed, 3u);
    EXPECT_EQ(outcomes[1], RequestOutcome::kTimeout);
    EXPECT_EQ(outcomes[3], RequestOutcome::kResponse);
}

TEST(LoadEngine, UnreachableTargetIsAnError) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);  // a port nobody listens on
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    socklen_t length = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    const int port = ntohs(address.sin_port);
    LoadOptions options;
    options.target = *HttpUrl::parse("http://127.0.0.1:" + std::to_string(port));
    options.connections = 2;
    options.max_requests = 5;
    LoadEngine engine(options);
    auto report = engine.run([](uint64_t, HttpRequestSpec& request) {
        request.target = "/";
        return true;
    });
    ::close(fd);
    ASSERT_FALSE(report.ok());
    EXPECT_EQ(report.error().code(), ErrorCode::kIo);
}

TEST(LoadEngine, DurationBoundsAFixedRateRun) {
    TestServer server(
        [](const std::string&, const std::string&, const std::string&) { return Answer{}; });
    auto options = options_for(server, LoadSchedule::fixed_rate(1000), 4);
    options.duration = std::chrono::milliseconds(200);
    LoadEngine engine(options);
    auto report = engine.run([](uint64_t, HttpRequestSpec& request) {
        request.target = "/";
        return true;
    });
    ASSERT_TRUE(report.ok());
    // Requests due at 0, 1, ..., 199 ms: exactly 200.
    EXPECT_EQ(report->sent + report->unsent, 200u);
    EXPECT_EQ(report->completed, report->sent);
}

}  // namespace
}  // namespace millrace
