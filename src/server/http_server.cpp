#include "server/http_server.h"

// Boost.Asio's awaitable header needs <utility> first with GCC 12.
#include <utility>
//
#include <array>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>
#include <vector>

#include "common/cpu_count.h"
#include "listener/tcp_listener.h"

namespace millrace {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
// Concrete executor types (not the type-erased any_io_executor): every handler of a connection
// runs on its context's thread without the cost of erasing and copying executors.
using Executor = TcpListener::Executor;
using Socket = TcpListener::Socket;
using Timer = net::basic_waitable_timer<std::chrono::steady_clock,
                                        net::wait_traits<std::chrono::steady_clock>, Executor>;

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

/// 1xx, 204 and 304 responses have no body and no Content-Length (RFC 9110 6.4.1).
bool status_has_body(int status) { return status >= 200 && status != 204 && status != 304; }

/// The head of a response: status line, Server, Content-Type, the handler's headers,
/// Content-Length (not for 1xx, 204 and 304, which have no body) and Connection when it differs
/// from the version's default. Header values lose any CR or LF, so a handler's value cannot
/// split the response.
void write_head(std::string& out, const HttpResponse& response, unsigned version, bool keep_alive) {
    const auto append_value = [&out](std::string_view value) {
        if (value.find_first_of("\r\n") == std::string_view::npos) {
            out += value;
            return;
        }
        for (const char c : value) {
            if (c != '\r' && c != '\n') out += c;
        }
    };
    out.clear();
    out += version >= 11 ? "HTTP/1.1 " : "HTTP/1.0 ";
    const int status = response.status >= 100 && response.status <= 999 ? response.status : 500;
    out += static_cast<char>('0' + status / 100);
    out += static_cast<char>('0' + status / 10 % 10);
    out += static_cast<char>('0' + status % 10);
    out += ' ';
    const beast::string_view reason = http::obsolete_reason(static_cast<http::status>(status));
    out.append(reason.data(), reason.size());
    out += "\r\nServer: millrace\r\nContent-Type: ";
    append_value(response.content_type);
    out += "\r\n";
    for (const auto& [name, value] : response.headers) {
        append_value(name);
        out += ": ";
        append_value(value);
        out += "\r\n";
    }
    if (status_has_body(status)) {
        out += "Content-Length: ";
        out += std::to_string(response.body.size());
        out += "\r\n";
    }
    if (version >= 11 && !keep_alive) out += "Connection: close\r\n";
    if (version < 11 && keep_alive) out += "Connection: keep-alive\r\n";
    out += "\r\n";
}

/// One connection: read a request (headers, then body, each under its timeout), dispatch,
/// write the response, repeat while kept alive. Everything runs on the connection's thread.
///
/// Timeouts use one timer per connection, armed lazily: a read or write sets `deadline_` (a
/// clock read and a store), and the timer, when it fires, either acts on a passed deadline or
/// waits again until the current one. A request therefore costs no timer operations; the timer
/// wakes once per timeout period at most.
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
    enum class Phase { kIdle, kHeader, kBody, kWrite };

    /// Starts the clock of a read or write; kIdle stops it.
    void set_deadline(Phase phase, std::chrono::steady_clock::duration timeout) {
        phase_ = phase;
        if (phase == Phase::kIdle) return;
        timed_out_ = false;
        deadline_ = std::chrono::steady_clock::now() + timeout;
        if (timer_armed_ && timer_.expiry() <= deadline_) return;
        // Not armed, or armed for later than this deadline (a shorter timeout than the last):
        // (re)arm. Re-arming cancels the pending wait, whose handler then sees operation_aborted.
        timer_armed_ = true;
        timer_.expires_at(deadline_);
        timer_.async_wait(
            [self = shared_from_this()](beast::error_code ec) { self->on_timer(ec); });
    }

    void on_timer(beast::error_code ec) {
        if (ec == net::error::operation_aborted) return;  // re-armed or closing
        timer_armed_ = false;
        if (closed_ || phase_ == Phase::kIdle) return;
        if (std::chrono::steady_clock::now() < deadline_) {  // moved on since: wait for the new one
            timer_armed_ = true;
            timer_.expires_at(deadline_);
            timer_.async_wait(
                [self = shared_from_this()](beast::error_code e) { self->on_timer(e); });
            return;
        }
        timed_out_ = true;
        beast::error_code ignored;
        socket_.cancel(ignored);
    }

    void read_header() {
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(options_.max_header_bytes));
        parser_->body_limit(options_.max_body_bytes);
        set_deadline(Phase::kHeader, options_.header_timeout);
        http::async_read_header(socket_, buffer_, *parser_,
                                [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                    self->on_header(ec);
                                });
    }

    void on_header(beast::error_code ec) {
        if (ec) return on_read_error(ec);
        set_deadline(Phase::kIdle, {});
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
        // A request without a body (most GETs) is complete already: no second read.
        if (parser_->is_done()) return on_body({});
        read_body();
    }

    void read_body() {
        set_deadline(Phase::kBody, options_.body_timeout);
        http::async_read(
            socket_, buffer_, *parser_,
            [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_body(ec); });
    }

    void on_read_error(beast::error_code ec) {
        const bool timed_out = timed_out_;
        set_deadline(Phase::kIdle, {});
        if (timed_out) {
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
        set_deadline(Phase::kIdle, {});
        auto& message = parser_->get();
        keep_alive_ = message.keep_alive();
        version_ = message.version();
        HttpRequest request;
        request.method = to_method(message.method());
        parse_target(std::string_view(message.target().data(), message.target().size()), request);
        request.headers.reserve(
            static_cast<std::size_t>(std::distance(message.begin(), message.end())));
        for (const auto& field : message) {
            request.headers.emplace_back(std::string(field.name_string()),
                                         std::string(field.value()));
        }
        request.body = std::move(message.body());
        request.remote_address = remote_address_;
        request.received = received_;
        // A handler that answers at once does so on this thread, and dispatch() writes inline;
        // one that answers later from another thread (the log's flusher) gets queued here.
        const bool head = request.method == HttpMethod::kHead;
        router_.dispatch(request, [self = shared_from_this(), head](HttpResponse response) {
            const Executor executor = self->socket_.get_executor();
            net::dispatch(executor,
                          [self = std::move(self), head, response = std::move(response)]() mutable {
                              self->write(std::move(response), false, head);
                          });
        });
    }

    void write_error(HttpResponse response) { write(std::move(response), true, false); }

    /// Writes the head and the body with one gathering write. A response to HEAD gets the
    /// Content-Length of its body but not the body (RFC 9110 9.3.2), whatever the handler or
    /// the Router's 404/405 put in it: body bytes would be read as the next response.
    void write(HttpResponse response, bool close_after, bool head_request) {
        response_ = std::move(response);
        if (!status_has_body(response_.status)) response_.body.clear();
        response_keep_alive_ = keep_alive_ && !close_after;
        write_head(head_, response_, version_, response_keep_alive_);
        if (head_request) response_.body.clear();
        const std::array<net::const_buffer, 2> buffers{
            net::buffer(head_), net::buffer(response_.body.data(), response_.body.size())};
        set_deadline(Phase::kWrite, kWriteTimeout);
        net::async_write(socket_, buffers,
                         [self = shared_from_this()](beast::error_code ec, std::size_t) {
                             self->set_deadline(Phase::kIdle, {});
                             self->response_.body.clear();
                             self->response_.headers.clear();
                             if (ec || !self->response_keep_alive_) return self->close();
                             self->read_header();
                         });
    }

    void close() {
        closed_ = true;
        timer_.cancel();
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
    std::chrono::steady_clock::time_point deadline_{};
    Phase phase_ = Phase::kIdle;
    HttpResponse response_;  // the one being written: its body must outlive the write
    std::string head_;       // its head, reusing capacity across requests
    bool response_keep_alive_ = true;
    bool timer_armed_ = false;
    bool keep_alive_ = true;
    bool timed_out_ = false;
    bool closed_ = false;
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
                    options_.threads > 0 ? options_.threads : static_cast<int>(usable_cores()),
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
