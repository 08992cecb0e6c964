#include "scheduler/http_client.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace millrace {

namespace {

class Socket {
public:
    explicit Socket(int fd) : fd_(fd) {}
    ~Socket() {
        if (fd_ >= 0) ::close(fd_);
    }
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
    int fd() const { return fd_; }

private:
    int fd_;
};

}  // namespace

Result<HttpResponse> http_request(const std::string& method, const std::string& url,
                                  const std::string& body, const std::string& content_type,
                                  std::chrono::milliseconds timeout) {
    constexpr std::string_view kScheme = "http://";
    if (url.rfind(kScheme, 0) != 0) {
        return Error(ErrorCode::kInvalidArgument, "only http:// URLs are supported: " + url);
    }
    const std::string rest = url.substr(kScheme.size());
    const std::size_t slash = rest.find('/');
    const std::string authority = rest.substr(0, slash);
    const std::string path = slash == std::string::npos ? "/" : rest.substr(slash);
    std::string host = authority, port = "80";
    if (const std::size_t colon = authority.rfind(':'); colon != std::string::npos) {
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
    }
    if (host.empty()) return Error(ErrorCode::kInvalidArgument, "no host in " + url);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* addresses = nullptr;
    if (const int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &addresses); rc != 0) {
        return Error(ErrorCode::kIo, "cannot resolve " + host + ": " + gai_strerror(rc));
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto remaining_ms = [&] {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        return static_cast<int>(std::max<int64_t>(0, left.count()));
    };
    Socket socket(::socket(addresses->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    int rc =
        socket.fd() < 0 ? -1 : ::connect(socket.fd(), addresses->ai_addr, addresses->ai_addrlen);
    ::freeaddrinfo(addresses);
    if (rc < 0 && errno == EINPROGRESS) {
        pollfd p{socket.fd(), POLLOUT, 0};
        if (::poll(&p, 1, remaining_ms()) != 1) {
            return Error(ErrorCode::kIo, "connecting to " + authority + ": timed out");
        }
        int error = 0;
        socklen_t length = sizeof(error);
        ::getsockopt(socket.fd(), SOL_SOCKET, SO_ERROR, &error, &length);
        rc = error == 0 ? 0 : -1;
        errno = error;
    }
    if (rc < 0) {
        return Error(ErrorCode::kIo, "connecting to " + authority + ": " + std::strerror(errno));
    }
    std::string request = method + " " + path + " HTTP/1.1\r\nHost: " + authority +
                          "\r\nConnection: close\r\nUser-Agent: millrace-scheduler\r\n";
    if (!body.empty() || method == "POST" || method == "PUT") {
        request += "Content-Type: " + (content_type.empty() ? "text/plain" : content_type) +
                   "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    }
    request += "\r\n" + body;
    std::size_t sent = 0;
    while (sent < request.size()) {
        pollfd p{socket.fd(), POLLOUT, 0};
        if (::poll(&p, 1, remaining_ms()) != 1) {
            return Error(ErrorCode::kIo, "sending to " + authority + ": timed out");
        }
        const ssize_t n =
            ::send(socket.fd(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            return Error(ErrorCode::kIo, "sending to " + authority + ": " + std::strerror(errno));
        }
        if (n > 0) sent += static_cast<std::size_t>(n);
    }
    std::string response;
    char buffer[16384];
    std::size_t header_end = std::string::npos;
    std::size_t content_length = std::string::npos;
    while (true) {
        if (header_end != std::string::npos && content_length != std::string::npos &&
            response.size() >= header_end + 4 + content_length) {
            break;
        }
        pollfd p{socket.fd(), POLLIN, 0};
        if (::poll(&p, 1, remaining_ms()) != 1) {
            return Error(ErrorCode::kIo, "waiting for " + authority + ": timed out");
        }
        const ssize_t n = ::recv(socket.fd(), buffer, sizeof(buffer), 0);
        if (n == 0) break;
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) continue;
            return Error(ErrorCode::kIo, "reading from " + authority + ": " + std::strerror(errno));
        }
        response.append(buffer, static_cast<std::size_t>(n));
        if (response.size() > (std::size_t{64} << 20)) {
            return Error(ErrorCode::kResourceExhausted, "response from " + url + " over 64 MiB");
        }
        if (header_end == std::string::npos) {
            header_end = response.find("\r\n\r\n");
            if (header_end != std::string::npos) {
                std::string headers = response.substr(0, header_end);
                for (char& c : headers)
                    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                if (const std::size_t at = headers.find("\r\ncontent-length:");
                    at != std::string::npos) {
                    content_length = std::strtoull(headers.c_str() + at + 17, nullptr, 10);
                }
                if (method == "HEAD") content_length = 0;
            }
        }
    }
    HttpResponse result;
    if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12) {
        return Error(ErrorCode::kParse, "malformed HTTP response from " + url);
    }
    result.status = std::atoi(response.c_str() + 9);
    if (header_end != std::string::npos) result.body = response.substr(header_end + 4);
    return result;
}

}  // namespace millrace
