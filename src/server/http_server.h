#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/logger.h"
#include "common/result.h"
#include "server/router.h"

namespace millrace {

struct HttpServerOptions {
    std::string address = "127.0.0.1";
    uint16_t port = 8080;  // 0 = any free port (see HttpServer::port())
    int threads = 0;       // 0 = one per core
    std::size_t max_body_bytes = std::size_t{16} << 20;  // larger bodies get 413
    std::size_t max_header_bytes = 16 << 10;             // larger headers get 431
    /// A request's headers must arrive within this time of the read starting (also the idle
    /// time allowed on a kept-alive connection), its body within body_timeout after them;
    /// otherwise the client gets 408 and the connection is closed (slowloris).
    std::chrono::milliseconds header_timeout{10'000};
    std::chrono::milliseconds body_timeout{30'000};
};

/// The HTTP/1.1 server (docs/architecture.md §7): requests parsed by Boost.Beast, responses
/// written by hand; `threads` threads with an io_context each, every connection on one of them,
/// keep-alive, and the Router for everything past parsing.
///
/// Before a request reaches the router: a request line or header that does not parse → 400,
/// headers over max_header_bytes → 431, a body over max_body_bytes → 413, too slow → 408; each
/// with a JSON `{"error": ...}` body, and the connection closed. `Expect: 100-continue` is
/// answered. Handlers answer through HttpResponder from any thread (a durability callback on
/// the log's flusher thread); the response is written on the connection's thread.
///
/// Lifecycle: start() binds and starts the threads; stop() closes the listener and every
/// connection and joins the threads (idempotent). Responders called after stop() are dropped,
/// so stop the server, then whatever calls responders (the Log), then destroy the server.
class HttpServer {
public:
    HttpServer(HttpServerOptions options, const Router& router, const Logger& logger);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    /// kIo when the address cannot be bound; kInvalidArgument when it is not an IP address.
    Status start();
    /// The bound port (the real one when options.port was 0).
    uint16_t port() const;
    /// Blocks until SIGINT or SIGTERM arrives (for `millrace serve`).
    void wait_for_signal();
    void stop();

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace millrace
