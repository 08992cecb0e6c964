#include "server/http_server.h"

// Boost.Asio's awaitable header needs <utility> first with GCC 12.
#include <utility>
//
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>
#include <thread>
#include <vector>

#include "listener/tcp_listener.h"

namespace millrace {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
// Concrete executor types (not the type-erased any_io_executor): every handler of a connection
// runs on its strand without the cost of erasing and copying executors.
using Strand = TcpListener::Strand;
using Socket = TcpListener::Socket;
using Timer = net::basic_waitable_timer<std::chrono::steady_clock,
                                        net::wait_traits<std::chrono::steady_clock>, Strand>;

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr auto kWriteTimeout = std::chrono::seconds(30);

HttpMethod to_method(http::verb verb) {
    switch (verb) {
        case http::verb::get:
            return HttpMethod::kGet;
        case http::verb::post:
            return HttpMethod::kPost;
        case http::verb::put:
            return HttpMethod::kPut;
        case http::verb::delete_:
            return HttpMethod::kDelete;
        case http::verb::head:
            return HttpMethod::kHead;
        default:
            return HttpMethod::kOther;
    }
}

void parse_target(std::string_view target, HttpRequest& request) {
    const std::size_t question = target.find('?');
    request.path = url_decode(target.substr(0, question), false);
    if (question == std::string_view::npos) return;
    std::string_view query = target.substr(question + 1);
    while (!query.empty()) {
        const std::size_t amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        if (!pair.empty()) {
            const std::size_t equals = pair.find('=');
            request.query.emplace_back(url_decode(pair.substr(0, equals), true),
                                       equals == std::string_view::npos
                                           ? std::string()
                                           : url_decode(pair.substr(equals + 1), true));
        }
        if (amp == std::string_view::npos) break;
        query.remove_prefix(amp + 1);
    }
}

/// One connection: read a request (headers, then body, each under its timeout), dispatch,
/// write the response, repeat while kept alive. All I/O runs on the connection's strand.
class Session : public std::enable_shared_from_this<Session> {
public:
    Session(Socket socket, const HttpServerOptions& options, const Router& router)
        : socket_(std::move(socket)),
          timer_(socket_.get_executor()),
          options_(options),
          router_(router) {
        beast::error_code ec;
        const tcp::endpoint peer = socket_.remote_endpoint(ec);
        if (!ec) remote_address_ = peer.address().to_string();
    }

    void start() {
        net::dispatch(socket_.get_executor(), [self = shared_from_this()] { self->read_header(); });
    }

private:
    void arm_timer(std::chrono::milliseconds timeout) {
        timed_out_ = false;
        timer_.expires_after(timeout);
        timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
            if (ec) return;  // cancelled: the read finished in time
            self->timed_out_ = true;
            beast::error_code ignored;
            self->socket_.cancel(ignored);
        });
    }

    void read_header() {
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(options_.max_header_bytes));
        parser_->body_limit(options_.max_body_bytes);
        arm_timer(options_.header_timeout);
        http::async_read_header(socket_, buffer_, *parser_,
                                [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                    self->on_header(ec);
                                });
    }

    void on_header(beast::error_code ec) {
        if (ec) return on_read_error(ec);
        timer_.cancel();
        received_ = std::chrono::steady_clock::now();
        const auto& header = parser_->get();
        if (header.version() < 11) keep_alive_ = false;
        if (beast::iequals(header[http::field::expect], "100-continue")) {
            net::async_write(socket_, net::buffer(kContinue.data(), kContinue.size()),
                             [self = shared_from_this()](beast::error_code write_ec, std::size_t) {
                                 if (write_ec) return;
                                 self->read_body();
                             });
            return;
        }
        // A request without a body (most GETs) is complete already: no second read, no timer.
        if (parser_->is_done()) return on_body({});
        read_body();
    }

    void read_body() {
        arm_timer(options_.body_timeout);
        http::async_read(
            socket_, buffer_, *parser_,
            [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_body(ec); });
    }

    void on_read_error(beast::error_code ec) {
        timer_.cancel();
        if (timed_out_) {
            if (buffer_.size() == 0 && !parser_->got_some()) return close();  // idle keep-alive
            return write_error(json_error(408, "request timed out (headers or body too slow)"));
        }
        if (ec == http::error::end_of_stream || ec == net::error::eof ||
            ec == net::error::connection_reset || ec == net::error::operation_aborted) {
            return close();
        }
        if (ec == http::error::body_limit) {
            return write_error(json_error(
                413,
                "request body larger than " + std::to_string(options_.max_body_bytes) + " bytes"));
        }
        if (ec == http::error::header_limit) {
            return write_error(json_error(431, "request headers larger than " +
                                                   std::to_string(options_.max_header_bytes) +
                                                   " bytes"));
        }
        if (ec == http::error::partial_message) return close();
        write_error(json_error(400, "malformed HTTP request: " + ec.message()));
    }

    void on_body(beast::error_code ec) {
        if (ec) return on_read_error(ec);
        timer_.cancel();
        auto& message = parser_->get();
        keep_alive_ = message.keep_alive();
        version_ = message.version();
        HttpRequest request;
        request.method = to_method(message.method());
        parse_target(std::string_view(message.target().data(), message.target().size()), request);
        for (const auto& field : message) {
            request.headers.emplace_back(std::string(field.name_string()),
                                         std::string(field.value()));
        }
        request.body = std::move(message.body());
        request.remote_address = remote_address_;
        request.received = received_;
        // A handler that answers at once does so on this strand, and dispatch() writes inline;
        // one that answers later from another thread (the log's flusher) gets queued here.
        // A response to HEAD has no body (RFC 9110 9.3.2), whatever the handler or the Router's
        // 404/405 put in it: body bytes would be read as the next response on the connection.
        const bool head = request.method == HttpMethod::kHead;
        router_.dispatch(request, [self = shared_from_this(), head](HttpResponse response) {
            if (head) response.body.clear();
            net::dispatch(self->socket_.get_executor(),
                          [self, response = std::move(response)]() mutable {
                              self->write(std::move(response), false);
                          });
        });
    }

    void write_error(HttpResponse response) { write(std::move(response), true); }

    void write(HttpResponse response, bool close_after) {
        auto message = std::make_shared<http::response<http::string_body>>(
            static_cast<http::status>(response.status), version_);
        message->set(http::field::server, "millrace");
        message->set(http::field::content_type, response.content_type);
        for (auto& [name, value] : response.headers) message->set(name, value);
        message->keep_alive(keep_alive_ && !close_after);
        message->body() = std::move(response.body);
        message->prepare_payload();
        timer_.expires_after(kWriteTimeout);
        timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
            if (ec) return;
            beast::error_code ignored;
            self->socket_.cancel(ignored);
        });
        http::async_write(socket_, *message,
                          [self = shared_from_this(), message](beast::error_code ec, std::size_t) {
                              self->timer_.cancel();
                              if (ec || !message->keep_alive()) return self->close();
                              self->read_header();
                          });
    }

    void close() {
        beast::error_code ignored;
        socket_.shutdown(tcp::socket::shutdown_send, ignored);
        socket_.close(ignored);
    }

    Socket socket_;
    Timer timer_;
    const HttpServerOptions& options_;
    const Router& router_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    std::string remote_address_;
    std::chrono::steady_clock::time_point received_{};
    bool keep_alive_ = true;
    bool timed_out_ = false;
    unsigned version_ = 11;
};

}  // namespace

class HttpServer::Impl {
public:
    Impl(HttpServerOptions options, const Router& router, const Logger& logger)
        : options_(std::move(options)),
          router_(router),
          logger_(logger),
          listener_("listen", options_.address, options_.port,
                    options_.threads > 0
                        ? options_.threads
                        : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())),
                    [this](Socket socket) {
                        std::make_shared<Session>(std::move(socket), options_, router_)->start();
                    }) {}

    Status start() {
        MILLRACE_TRY(listener_.start());
        logger_.info("server", "listening",
                     {{"address", options_.address},
                      {"port", static_cast<int64_t>(listener_.port())},
                      {"threads", listener_.threads()}});
        return {};
    }

    void wait_for_signal() {
        net::io_context signals_io;
        net::signal_set signals(signals_io, SIGINT, SIGTERM);
        signals.async_wait([](beast::error_code, int) {});
        signals_io.run();
    }

    void stop() { listener_.stop(); }
    uint16_t port() const { return listener_.port(); }

private:
    HttpServerOptions options_;
    const Router& router_;
    Logger logger_;
    TcpListener listener_;
};

HttpServer::HttpServer(HttpServerOptions options, const Router& router, const Logger& logger)
    : impl_(std::make_unique<Impl>(std::move(options), router, logger)) {}

HttpServer::~HttpServer() { impl_->stop(); }

Status HttpServer::start() { return impl_->start(); }
uint16_t HttpServer::port() const { return impl_->port(); }
void HttpServer::wait_for_signal() { impl_->wait_for_signal(); }
void HttpServer::stop() { impl_->stop(); }

}  // namespace millrace
