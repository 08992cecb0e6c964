#include "listener/tcp_listener.h"

#include <algorithm>
#include <utility>

namespace millrace {

namespace net = boost::asio;
using tcp = net::ip::tcp;

TcpListener::TcpListener(std::string label, std::string address, uint16_t port, int threads,
                         OnConnection on_connection)
    : label_(std::move(label)),
      address_(std::move(address)),
      requested_port_(port),
      threads_(std::max(1, threads)),
      on_connection_(std::move(on_connection)),
      acceptor_(net::make_strand(context(0))) {}

TcpListener::~TcpListener() { stop(); }

net::io_context& TcpListener::context(std::size_t index) {
    while (contexts_.size() < static_cast<std::size_t>(threads_)) {
        contexts_.push_back(std::make_unique<net::io_context>(1));
    }
    return *contexts_[index];
}

Status TcpListener::start() {
    boost::system::error_code ec;
    const net::ip::address address = net::ip::make_address(address_, ec);
    if (ec) {
        return Error(ErrorCode::kInvalidArgument,
                     label_ + " address `" + address_ + "` is not an IP address");
    }
    const tcp::endpoint endpoint(address, requested_port_);
    auto fail = [&](std::string_view what) {
        return Error(ErrorCode::kIo, std::string(what) + " " + address_ + ":" +
                                         std::to_string(requested_port_) + ": " + ec.message());
    };
    acceptor_.open(endpoint.protocol(), ec);
    if (ec) return fail("opening");
    acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    acceptor_.bind(endpoint, ec);
    if (ec) return fail("binding");
    acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) return fail("listening on");
    port_ = acceptor_.local_endpoint(ec).port();
    accept();
    for (int i = 0; i < threads_; ++i) {
        guards_.push_back(std::make_unique<WorkGuard>(context(i).get_executor()));
        workers_.emplace_back([this, i] { context(i).run(); });
    }
    return {};
}

void TcpListener::accept() {
    net::io_context& target = context(next_context_++ % static_cast<std::size_t>(threads_));
    acceptor_.async_accept(target.get_executor(),
                           [this](boost::system::error_code ec, Socket socket) {
                               if (ec == net::error::operation_aborted || !acceptor_.is_open()) {
                                   return;
                               }
                               if (!ec) {
                                   socket.set_option(tcp::no_delay(true), ec);
                                   on_connection_(std::move(socket));
                               }
                               accept();
                           });
}

void TcpListener::stop() {
    if (stopped_) return;
    stopped_ = true;
    net::post(acceptor_.get_executor(), [this] {
        boost::system::error_code ignored;
        acceptor_.close(ignored);
    });
    guards_.clear();
    for (auto& io : contexts_) io->stop();
    for (auto& worker : workers_) worker.join();
    workers_.clear();
}

}  // namespace millrace
