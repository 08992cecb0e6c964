#include "net/http_client.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "net/http_response_parser.h"

namespace millrace {

namespace {

int64_t now_ms() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

/// Waits until `fd` is ready for `events` or the deadline passes; false on timeout.
bool wait_for(int fd, short events, int64_t deadline_ms) {
    while (true) {
        const int64_t left = deadline_ms - now_ms();
        if (left <= 0) return false;
        pollfd entry{fd, events, 0};
        const int n = ::poll(&entry, 1, static_cast<int>(left));
        if (n > 0) return true;
        if (n < 0 && errno != EINTR) return true;  // let the next call report the error
    }
}

}  // namespace

HttpClient::HttpClient(HttpUrl base, std::chrono::milliseconds timeout,
                       std::vector<std::string> headers, bool send_environment_token)
    : base_(std::move(base)),
      timeout_(timeout),
      headers_(std::move(headers)),
      send_environment_token_(send_environment_token) {}

HttpClient::~HttpClient() { close_socket(); }

void HttpClient::close_socket() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

Status HttpClient::connect_socket() {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(base_.port);
    const int rc = ::getaddrinfo(base_.host.c_str(), port.c_str(), &hints, &found);
    if (rc != 0 || found == nullptr) {
        return Error(ErrorCode::kUnavailable,
                     "cannot resolve `" + base_.host + "`: " + ::gai_strerror(rc));
    }
    const std::string where = "cannot connect to " + base_.authority() + ": ";
    fd_ = ::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
        ::freeaddrinfo(found);
        return Error(ErrorCode::kIo, where + std::strerror(errno));
    }
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const int connected = ::connect(fd_, found->ai_addr, found->ai_addrlen);
    const int connect_errno = errno;
    ::freeaddrinfo(found);
    if (connected != 0 && connect_errno != EINPROGRESS) {
        close_socket();
        return Error(ErrorCode::kUnavailable, where + std::strerror(connect_errno));
    }
    if (!wait_for(fd_, POLLOUT, now_ms() + timeout_.count())) {
        close_socket();
        return Error(ErrorCode::kUnavailable, where + "timed out");
    }
    int error = 0;
    socklen_t length = sizeof error;
    ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) {
        close_socket();
        return Error(ErrorCode::kUnavailable, where + std::strerror(error));
    }
    return {};
}

Result<HttpReply> HttpClient::get(std::string_view target) { return request("GET", target); }

std::string HttpReply::header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (key.size() == name.size() && strncasecmp(key.data(), name.data(), name.size()) == 0) {
            return value;
        }
    }
    return {};
}

Result<HttpReply> HttpClient::request(std::string_view method, std::string_view target,
                                      std::string_view body, std::string_view content_type) {
    std::vector<std::string> headers;
    if (!body.empty() || method == "POST" || method == "PUT") {
        headers.push_back("Content-Type: " + std::string(content_type));
    }
    headers.push_back("Accept: application/json");
    return request_with_headers(method, target, headers, body);
}

Result<HttpReply> HttpClient::request_with_headers(std::string_view method, std::string_view target,
                                                   const std::vector<std::string>& headers,
                                                   std::string_view body) {
    std::string request = std::string(method) + " " + base_.path_prefix + std::string(target) +
                          " HTTP/1.1\r\nHost: " + base_.authority() + "\r\n";
    bool has_authorization = false;
    for (const std::vector<std::string>* list :
         {static_cast<const std::vector<std::string>*>(&headers_), &headers}) {
        for (const std::string& header : *list) {
            request += header + "\r\n";
            if (header.size() > 14 && strncasecmp(header.c_str(), "authorization:", 14) == 0) {
                has_authorization = true;
            }
        }
    }
    if (!has_authorization && send_environment_token_) {
        if (const char* token = std::getenv("MILLRACE_TOKEN"); token != nullptr && *token) {
            request += "Authorization: Bearer " + std::string(token) + "\r\n";
        }
    }
    if (!body.empty() || method == "POST" || method == "PUT") {
        request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    request += "\r\n";
    request += body;
    return send(method, request);
}

Result<HttpReply> HttpClient::send(std::string_view method, const std::string& request) {
    // A kept-alive connection the server has since closed fails at once: retry on a new one.
    if (fd_ >= 0) {
        auto reply = exchange(request, method);
        if (reply.ok()) return reply;
        close_socket();
    }
    MILLRACE_TRY(connect_socket());
    auto reply = exchange(request, method);
    if (!reply.ok()) close_socket();
    return reply;
}

Result<HttpReply> HttpClient::exchange(const std::string& request, std::string_view method) {
    const int64_t deadline = now_ms() + timeout_.count();
    const std::string where = std::string(method) + " to " + base_.authority() + ": ";
    std::size_t sent = 0;
    while (sent < request.size()) {
        const ssize_t n = ::send(fd_, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += static_cast<std::size_t>(n);
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (!wait_for(fd_, POLLOUT, deadline))
                return Error(ErrorCode::kIo, where + "timed out");
        } else {
            return Error(ErrorCode::kIo, where + std::strerror(errno));
        }
    }
    HttpResponseParser parser(true);
    parser.reset(method == "HEAD");
    std::string pending;
    char buffer[64 * 1024];
    while (!parser.done()) {
        const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (!wait_for(fd_, POLLIN, deadline)) {
                return Error(ErrorCode::kUnavailable, where + "no answer within " +
                                                          std::to_string(timeout_.count()) + " ms");
            }
            continue;
        }
        if (n < 0) return Error(ErrorCode::kIo, where + std::strerror(errno));
        if (n == 0) {
            MILLRACE_TRY(parser.finish_at_eof());
            close_socket();
            break;
        }
        pending.append(buffer, static_cast<std::size_t>(n));
        MILLRACE_ASSIGN_OR_RETURN(std::size_t used, parser.parse(pending));
        pending.erase(0, used);
    }
    if (!parser.keep_alive()) close_socket();
    HttpReply reply;
    reply.status = parser.status();
    reply.body = parser.body();
    reply.headers = parser.headers();
    return reply;
}

}  // namespace millrace
