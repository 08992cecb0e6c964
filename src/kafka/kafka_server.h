#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/logger.h"
#include "common/result.h"

namespace millrace::kafka {

class Broker;

struct KafkaServerOptions {
    std::string address = "127.0.0.1";
    uint16_t port = 9092;  // 0 = any free port (see KafkaServer::port())
    int threads = 2;
    /// A request frame larger than this is read past (not buffered) and answered with
    /// INVALID_REQUEST where the response has an error code; the connection stays open.
    std::size_t max_request_bytes = std::size_t{100} << 20;
    /// Requests of one connection being worked on at once; reading pauses beyond it.
    std::size_t max_in_flight = 128;
};

/// The Kafka listener, on Boost.Asio like HttpServer: an io_context per thread, each connection
/// on one of them. A connection reads frames (kafka/frame.h) and hands each to the Broker;
/// clients pipeline, so responses, which may complete out of order (a JoinGroup waits for the
/// other members, an acks=all Produce for an fsync), are written strictly in request order.
/// A frame shorter than a request header, or a read or write error, closes the connection.
///
/// Lifecycle: start() binds and starts the threads; stop() closes the listener and the
/// connections and joins the threads (idempotent). Stop it before the Broker, and destroy the
/// Broker before it: answers the Broker still holds refer to its connections.
class KafkaServer {
public:
    KafkaServer(KafkaServerOptions options, Broker& broker, const Logger& logger);
    ~KafkaServer();
    KafkaServer(const KafkaServer&) = delete;
    KafkaServer& operator=(const KafkaServer&) = delete;

    /// kIo when the address cannot be bound; kInvalidArgument when it is not an IP address.
    Status start();
    uint16_t port() const;
    void stop();

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace millrace::kafka
