#pragma once

#include <chrono>
#include <string>

#include "common/result.h"

namespace millrace {

struct HttpResponse {
    int status = 0;
    std::string body;
};

/// A minimal blocking HTTP/1.1 client for `http` tasks and webhooks: http:// URLs only (no TLS),
/// numeric or resolvable host, one request per connection (`Connection: close`), the response
/// read until the peer closes or Content-Length is reached. Errors: kInvalidArgument for a bad
/// URL, kIo for connection failures and timeouts, kParse for a malformed status line.
Result<HttpResponse> http_request(const std::string& method, const std::string& url,
                                  const std::string& body, const std::string& content_type,
                                  std::chrono::milliseconds timeout);

}  // namespace millrace
