#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "replay/http_url.h"

namespace millrace {

/// A response read by HttpClient.
struct HttpReply {
    int status = 0;
    std::string body;
};

/// A small blocking HTTP/1.1 client for control requests (reading a topic page by page): one
/// keep-alive connection, re-opened when the server closed it, a timeout per request. Not for
/// load (LoadEngine is). Not thread-safe; closes its socket on destruction.
class HttpClient {
public:
    /// `headers` ("Name: value" lines without CRLF, e.g. an Authorization) go on every request.
    explicit HttpClient(HttpUrl base, std::chrono::milliseconds timeout = std::chrono::seconds(10),
                        std::vector<std::string> headers = {});
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    /// GET base path prefix + `target`. kIo for connection failures and timeouts, kParse for a
    /// malformed response; any complete response (404 included) is a value.
    Result<HttpReply> get(std::string_view target);

private:
    Status connect_socket();
    Result<HttpReply> exchange(const std::string& request);
    void close_socket();

    HttpUrl base_;
    std::chrono::milliseconds timeout_;
    std::vector<std::string> headers_;
    int fd_ = -1;
};

}  // namespace millrace
