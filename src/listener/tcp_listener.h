#pragma once

// Boost.Asio's awaitable header needs <utility> first with GCC 12.
#include <utility>
//
#include <boost/asio.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"

namespace millrace {

/// A TCP listener on Boost.Asio with its own threads: one io_context per thread, each run by
/// one thread; each accepted connection goes to the next thread's context (round-robin), with
/// TCP_NODELAY set, and is handed to `on_connection` on the accepting thread. A connection's
/// handlers all run on its context's one thread, so they never run concurrently: no strand is
/// needed, and work from other threads reaches a connection by posting to its executor.
/// Thread-safety: start() and stop() from one thread; on_connection runs on the listener's.
class TcpListener {
public:
    using Executor = boost::asio::io_context::executor_type;
    using Socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>;
    using OnConnection = std::function<void(Socket socket)>;

    /// `label` starts the errors about the address ("listen", "kafka listen").
    TcpListener(std::string label, std::string address, uint16_t port, int threads,
                OnConnection on_connection);
    ~TcpListener();  // stops
    TcpListener(const TcpListener&) = delete;
    TcpListener& operator=(const TcpListener&) = delete;

    /// Binds, listens and starts the threads. kInvalidArgument for an address that is not an IP
    /// address; kIo naming address:port when opening, binding or listening fails.
    Status start();
    /// Closes the acceptor, stops every context and joins the threads (open connections end
    /// with their contexts). Idempotent.
    void stop();
    uint16_t port() const { return port_; }
    int threads() const { return threads_; }

private:
    using WorkGuard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
    boost::asio::io_context& context(std::size_t index);
    void accept();

    std::string label_;
    std::string address_;
    uint16_t requested_port_;
    int threads_;
    OnConnection on_connection_;
    std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
    std::vector<std::unique_ptr<WorkGuard>> guards_;
    std::size_t next_context_ = 0;
    boost::asio::ip::tcp::acceptor acceptor_;
    std::vector<std::thread> workers_;
    uint16_t port_ = 0;
    bool stopped_ = false;
};

}  // namespace millrace
