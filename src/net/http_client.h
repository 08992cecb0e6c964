#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "net/http_url.h"

namespace millrace {

/// A response read by HttpClient.
struct HttpReply {
    int status = 0;
    std::string body;
    /// Response headers as sent (names in the server's case), in order.
    std::vector<std::pair<std::string, std::string>> headers;

    /// The first header named `name` (case-insensitive), or "" when there is none.
    std::string header(std::string_view name) const;
};

/// A small blocking HTTP/1.1 client for control requests (reading a topic page by page, writing
/// features through a running server, asking it to materialize): one keep-alive connection,
/// re-opened when the server closed it, a timeout per request. Not for load (replay's
/// LoadEngine is). Not thread-safe; closes its socket on destruction.
///
/// `Authorization: Bearer $MILLRACE_TOKEN` goes on every request when that environment variable
/// is set, `headers` has no Authorization of its own and `send_environment_token` is true (it is
/// false for requests to servers that are not Millrace, such as a job's webhooks, so the token
/// never leaves for a third party).
class HttpClient {
public:
    /// `headers` ("Name: value" lines without CRLF, e.g. an Authorization) go on every request.
    explicit HttpClient(HttpUrl base, std::chrono::milliseconds timeout = std::chrono::seconds(10),
                        std::vector<std::string> headers = {}, bool send_environment_token = true);
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    /// GET base path prefix + `target`. kUnavailable when the server cannot be reached or does
    /// not answer in time, kIo for a broken exchange, kParse for a malformed response; any
    /// complete response (404 included) is a value.
    Result<HttpReply> get(std::string_view target);
    /// Any method, with a body (sent with Content-Length and `content_type` when not empty).
    Result<HttpReply> request(std::string_view method, std::string_view target,
                              std::string_view body = {},
                              std::string_view content_type = "application/json");
    /// Any method with headers of this request only ("Name: value", e.g. a signed
    /// Authorization) besides the client's; no Content-Type is added. A HEAD reply has no body.
    Result<HttpReply> request_with_headers(std::string_view method, std::string_view target,
                                           const std::vector<std::string>& headers,
                                           std::string_view body = {});

private:
    Status connect_socket();
    Result<HttpReply> exchange(const std::string& request, std::string_view method);
    Result<HttpReply> send(std::string_view method, const std::string& request);
    void close_socket();

    HttpUrl base_;
    std::chrono::milliseconds timeout_;
    std::vector<std::string> headers_;
    bool send_environment_token_;
    int fd_ = -1;
};

}  // namespace millrace
