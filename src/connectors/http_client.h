#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace millrace {

/// Where an HTTP client connects: `http://host:port` (https is not supported).
struct HttpEndpoint {
    std::string host;
    uint16_t port = 80;
    std::string base_path;  // prefix for every target, without a trailing '/'; often ""
};

/// Parses `http://host[:port][/base]` or `host:port`; kInvalidArgument otherwise.
Result<HttpEndpoint> parse_http_url(std::string_view url);

struct HttpClientResponse {
    int status = 0;
    std::string body;
    std::string content_type;
};

/// A small blocking HTTP/1.1 client over one keep-alive connection (Boost.Beast in the .cpp):
/// for commands that talk to a running `millrace serve` (writing features through it,
/// materializing through it). Reconnects once when the server closed an idle connection.
/// Not thread-safe; one request at a time.
///
/// Errors: kUnavailable when the server cannot be reached (connection refused, timeout), kIo
/// for a broken exchange. HTTP error statuses are responses, not errors.
class HttpClient {
public:
    HttpClient(HttpEndpoint endpoint, std::chrono::milliseconds timeout);
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    /// Headers are added as given; `Authorization: Bearer $MILLRACE_TOKEN` is added when that
    /// environment variable is set and no Authorization header is given.
    Result<HttpClientResponse> request(
        std::string_view method, std::string_view target, std::string_view body = {},
        std::string_view content_type = "application/json",
        const std::vector<std::pair<std::string, std::string>>& headers = {});

    const HttpEndpoint& endpoint() const { return endpoint_; }

private:
    class Connection;
    HttpEndpoint endpoint_;
    std::chrono::milliseconds timeout_;
    std::unique_ptr<Connection> connection_;
};

}  // namespace millrace
