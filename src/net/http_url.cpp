#include "net/http_url.h"

#include <charconv>

namespace millrace {

std::string HttpUrl::authority() const { return host + ":" + std::to_string(port); }

Result<HttpUrl> HttpUrl::parse(std::string_view url) {
    const std::string text(url);
    auto invalid = [&](const std::string& why) {
        return Error(ErrorCode::kInvalidArgument, "bad URL `" + text + "`: " + why);
    };
    constexpr std::string_view kScheme = "http://";
    if (url.starts_with("https://")) return invalid("https is not supported, use http://");
    if (!url.starts_with(kScheme)) return invalid("it must start with http://");
    url.remove_prefix(kScheme.size());
    const std::size_t slash = url.find_first_of("/?#");
    std::string_view authority = url.substr(0, slash);
    std::string_view path = slash == std::string_view::npos ? "" : url.substr(slash);
    if (!path.empty() && path.front() != '/') return invalid("a query or fragment needs a path");
    if (authority.find('@') != std::string_view::npos) return invalid("user info is not supported");
    HttpUrl result;
    if (authority.starts_with('[')) {
        const std::size_t close = authority.find(']');
        if (close == std::string_view::npos) return invalid("unclosed [ in the host");
        result.host = std::string(authority.substr(1, close - 1));
        authority.remove_prefix(close + 1);
        if (!authority.empty() && authority.front() != ':') return invalid("junk after the host");
    } else {
        const std::size_t colon = authority.find(':');
        result.host = std::string(authority.substr(0, colon));
        authority = colon == std::string_view::npos ? "" : authority.substr(colon);
    }
    if (result.host.empty()) return invalid("no host");
    if (!authority.empty()) {  // ":port"
        authority.remove_prefix(1);
        unsigned port = 0;
        auto [ptr, ec] =
            std::from_chars(authority.data(), authority.data() + authority.size(), port);
        if (ec != std::errc() || ptr != authority.data() + authority.size() || port == 0 ||
            port > 65535) {
            return invalid("the port must be a number in 1..65535");
        }
        result.port = static_cast<uint16_t>(port);
    }
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    if (path.find_first_of("?#") != std::string_view::npos) {
        return invalid("a base URL cannot have a query or fragment");
    }
    result.path_prefix = std::string(path);
    return result;
}

Result<HttpEndpoint> HttpEndpoint::parse(std::string_view url) {
    constexpr std::string_view kScheme = "http://";
    std::string_view rest = url;
    if (url.starts_with(kScheme)) rest.remove_prefix(kScheme.size());
    const std::size_t start = rest.find_first_of("/?#");
    const std::size_t split =
        start == std::string_view::npos ? url.size() : url.size() - rest.size() + start;
    MILLRACE_ASSIGN_OR_RETURN(HttpUrl server, HttpUrl::parse(url.substr(0, split)));
    std::string_view target = url.substr(split);
    if (const std::size_t hash = target.find('#'); hash != std::string_view::npos) {
        target = target.substr(0, hash);
    }
    HttpEndpoint endpoint{std::move(server), std::string(target)};
    if (endpoint.target.empty() || endpoint.target.front() != '/') {
        endpoint.target.insert(0, "/");
    }
    return endpoint;
}

}  // namespace millrace
