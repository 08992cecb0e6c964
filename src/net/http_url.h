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

/// A full URL split into the server to connect to and the request target to send it
/// (`http://h:1/a/b?q=1` → server `h:1`, target `/a/b?q=1`; the target is "/" when the URL has
/// no path; a fragment is dropped, as browsers do).
struct HttpEndpoint {
    HttpUrl server;
    std::string target;

    /// kInvalidArgument naming the problem, as HttpUrl::parse.
    static Result<HttpEndpoint> parse(std::string_view url);
};

}  // namespace millrace
