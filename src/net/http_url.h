#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace millrace {

/// An `http://host[:port][/path]` URL (no TLS, no user info). `path_prefix` is "" or a path
/// without a trailing slash, put in front of every request target sent to it.
struct HttpUrl {
    std::string host;
    uint16_t port = 80;
    std::string path_prefix;

    /// "host:port", for the Host header and messages.
    std::string authority() const;

    /// Parses a URL; kInvalidArgument naming the problem (https, missing host, bad port...).
    static Result<HttpUrl> parse(std::string_view url);
};

}  // namespace millrace
