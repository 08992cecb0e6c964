#include "connectors/http_client.h"

#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <cstdlib>

namespace millrace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

Result<HttpEndpoint> parse_http_url(std::string_view url) {
    const std::string original(url);
    if (url.rfind("https://", 0) == 0) {
        return Error(ErrorCode::kInvalidArgument,
                     fmt::format("`{}`: https is not supported; use http://", original));
    }
    if (url.rfind("http://", 0) == 0) url.remove_prefix(7);
    HttpEndpoint endpoint;
    const std::size_t slash = url.find('/');
    if (slash != std::string_view::npos) {
        std::string_view base = url.substr(slash);
        while (!base.empty() && base.back() == '/') base.remove_suffix(1);
        endpoint.base_path = std::string(base);
        url = url.substr(0, slash);
    }
    std::string_view host = url;
    const std::size_t colon = url.rfind(':');
    if (colon != std::string_view::npos && url.find(']') == std::string_view::npos) {
        host = url.substr(0, colon);
        std::string_view port = url.substr(colon + 1);
        unsigned value = 0;
        auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (ec != std::errc() || end != port.data() + port.size() || value == 0 ||
            value > 65535) {
            return Error(ErrorCode::kInvalidArgument,
                         fmt::format("`{}`: bad port `{}`", original, port));
        }
        endpoint.port = static_cast<uint16_t>(value);
    }
    if (host.empty()) {
        return Error(ErrorCode::kInvalidArgument,
                     fmt::format("`{}` is not an http://host:port URL", original));
    }
    endpoint.host = std::string(host);
    return endpoint;
}

class HttpClient::Connection {
public:
    asio::io_context io;
    tcp::socket socket{io};
    beast::flat_buffer buffer;
};

HttpClient::HttpClient(HttpEndpoint endpoint, std::chrono::milliseconds timeout)
    : endpoint_(std::move(endpoint)), timeout_(timeout) {}

HttpClient::~HttpClient() = default;

Result<HttpClientResponse> HttpClient::request(
    std::string_view method, std::string_view target, std::string_view body,
    std::string_view content_type,
    const std::vector<std::pair<std::string, std::string>>& headers) {
    const std::string where = fmt::format("http://{}:{}", endpoint_.host, endpoint_.port);
    for (int attempt = 0; attempt < 2; ++attempt) {
        const bool fresh = connection_ == nullptr;
        if (fresh) {
            auto connection = std::make_unique<Connection>();
            beast::error_code ec;
            tcp::resolver resolver(connection->io);
            auto results =
                resolver.resolve(endpoint_.host, std::to_string(endpoint_.port), ec);
            if (!ec) asio::connect(connection->socket, results, ec);
            if (ec) {
                return Error(ErrorCode::kUnavailable,
                             fmt::format("cannot reach {}: {}", where, ec.message()));
            }
            timeval tv{};
            tv.tv_sec = timeout_.count() / 1000;
            tv.tv_usec = (timeout_.count() % 1000) * 1000;
            ::setsockopt(connection->socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv,
                         sizeof(tv));
            ::setsockopt(connection->socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv,
                         sizeof(tv));
            connection->socket.set_option(tcp::no_delay(true), ec);
            connection_ = std::move(connection);
        }
        http::request<http::string_body> request;
        request.method_string(std::string(method));
        request.target(endpoint_.base_path + std::string(target));
        request.version(11);
        request.set(http::field::host, fmt::format("{}:{}", endpoint_.host, endpoint_.port));
        request.set(http::field::user_agent, "millrace");
        bool has_auth = false;
        for (const auto& [name, value] : headers) {
            request.set(name, value);
            if (beast::iequals(name, "authorization")) has_auth = true;
        }
        if (!has_auth) {
            if (const char* token = std::getenv("MILLRACE_TOKEN"); token != nullptr && *token) {
                request.set(http::field::authorization, fmt::format("Bearer {}", token));
            }
        }
        if (!body.empty() || method == "POST" || method == "PUT") {
            request.set(http::field::content_type, std::string(content_type));
            request.body() = std::string(body);
            request.prepare_payload();
        }
        beast::error_code ec;
        http::write(connection_->socket, request, ec);
        http::response_parser<http::string_body> parser;
        parser.body_limit(std::uint64_t{1} << 30);
        if (!ec) http::read(connection_->socket, connection_->buffer, parser, ec);
        if (ec) {
            connection_.reset();
            // A kept-alive connection the server closed: try once more on a new one.
            if (!fresh && attempt == 0) continue;
            const bool timed_out = ec == asio::error::would_block || ec == asio::error::timed_out;
            return Error(timed_out ? ErrorCode::kUnavailable : ErrorCode::kIo,
                         fmt::format("{} {}{}: {}", method, where, target,
                                     timed_out ? fmt::format("no answer within {} ms",
                                                             timeout_.count())
                                               : ec.message()));
        }
        auto& response = parser.get();
        HttpClientResponse out;
        out.status = static_cast<int>(response.result_int());
        out.content_type = std::string(response[http::field::content_type]);
        out.body = std::move(response.body());
        if (!response.keep_alive()) connection_.reset();
        return out;
    }
    return Error(ErrorCode::kIo, fmt::format("{} {}{}: connection lost", method, where, target));
}

}  // namespace millrace
