#include "kafka/kafka_server.h"

// Boost.Asio's awaitable header needs <utility> first with GCC 12.
#include <utility>
//
#include <boost/asio.hpp>
#include <deque>
#include <map>
#include <optional>
#include <thread>
#include <vector>

#include "kafka/apis.h"
#include "kafka/broker.h"
#include "kafka/frame.h"
#include "kafka/message.h"
#include "listener/tcp_listener.h"

namespace millrace::kafka {

namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using Socket = TcpListener::Socket;
using ErrorCodeType = boost::system::error_code;

constexpr std::size_t kRequestHeaderBytes = 8;  // api_key, api_version, correlation_id
constexpr std::size_t kDiscardChunk = 64 << 10;

/// The answer to a frame over the size limit: the API's response with its defaults and, where
/// it has one, error INVALID_REQUEST (an unknown API gets just the error code).
std::string oversized_response(const RequestHeader& header) {
    const ApiSpec* api = find_api(header.api_key);
    WireWriter writer;
    if (api == nullptr || header.api_version < api->min_version ||
        header.api_version > api->max_version) {
        writer.int16(static_cast<int16_t>(KafkaError::kInvalidRequest));
        return frame_response(header.correlation_id, false, writer.buffer());
    }
    Struct body(api->response);
    for (const Field& field : api->response) {
        if (field.name == "ErrorCode") {
            body.set("ErrorCode", static_cast<int16_t>(KafkaError::kInvalidRequest));
        }
    }
    const bool flexible = api->flexible(header.api_version);
    MessageCodec::encode(body, header.api_version, flexible, writer);
    return frame_response(header.correlation_id, flexible && api->key != ApiKey::kApiVersions,
                          writer.buffer());
}

/// One connection: read a frame, hand it to the broker, write responses in request order.
/// Everything runs on the connection's thread (its context's one thread).
class Session : public std::enable_shared_from_this<Session> {
public:
    Session(Socket socket, const KafkaServerOptions& options, Broker& broker, const Logger& logger)
        : socket_(std::move(socket)), options_(options), broker_(broker), logger_(logger) {
        ErrorCodeType ec;
        const tcp::endpoint peer = socket_.remote_endpoint(ec);
        if (!ec) client_host_ = peer.address().to_string();
    }

    void start() { read_size(); }

private:
    void read_size() {
        if (reading_ || closed_) return;
        if (in_flight_ >= options_.max_in_flight) return;  // resumed by a written response
        reading_ = true;
        net::async_read(
            socket_, net::buffer(size_bytes_),
            [self = shared_from_this()](ErrorCodeType ec, std::size_t) { self->on_size(ec); });
    }

    void on_size(ErrorCodeType ec) {
        if (ec) return close();
        const auto* b = reinterpret_cast<const unsigned char*>(size_bytes_);
        const int64_t size = static_cast<int32_t>((uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) |
                                                  (uint32_t{b[2]} << 8) | b[3]);
        if (size < static_cast<int64_t>(kRequestHeaderBytes)) {
            logger_.warn("kafka", "frame too short for a request header; closing",
                         {{"client", client_host_}, {"size", size}});
            return close();
        }
        if (static_cast<uint64_t>(size) > options_.max_request_bytes) {
            logger_.warn("kafka", "request larger than max_request_bytes refused",
                         {{"client", client_host_},
                          {"size", size},
                          {"max_request_bytes", static_cast<int64_t>(options_.max_request_bytes)}});
            frame_.resize(kRequestHeaderBytes);
            net::async_read(socket_, net::buffer(frame_),
                            [self = shared_from_this(), size](ErrorCodeType error, std::size_t) {
                                if (error) return self->close();
                                self->discard(static_cast<uint64_t>(size) - kRequestHeaderBytes);
                            });
            return;
        }
        frame_.resize(static_cast<std::size_t>(size));
        net::async_read(socket_, net::buffer(frame_),
                        [self = shared_from_this()](ErrorCodeType error, std::size_t) {
                            self->on_frame(error);
                        });
    }

    void discard(uint64_t left) {
        if (left == 0) {
            const RequestHeader header = *peek_request_header(frame_);
            const uint64_t sequence = next_sequence_++;
            ++in_flight_;
            complete(sequence, oversized_response(header));
            reading_ = false;
            return read_size();
        }
        discard_buffer_.resize(std::min<uint64_t>(left, kDiscardChunk));
        net::async_read(socket_, net::buffer(discard_buffer_),
                        [self = shared_from_this(), left](ErrorCodeType ec, std::size_t got) {
                            if (ec) return self->close();
                            self->discard(left - got);
                        });
    }

    void on_frame(ErrorCodeType ec) {
        if (ec) return close();
        reading_ = false;
        const uint64_t sequence = next_sequence_++;
        ++in_flight_;
        std::string frame = std::move(frame_);
        frame_.clear();
        auto self = shared_from_this();
        broker_.handle(frame, client_host_, [self, sequence](std::optional<std::string> response) {
            net::post(self->socket_.get_executor(),
                      [self, sequence, response = std::move(response)]() mutable {
                          self->complete(sequence, std::move(response));
                      });
        });
        read_size();
    }

    /// Records the answer to request `sequence` and writes every answer now due, in order.
    void complete(uint64_t sequence, std::optional<std::string> response) {
        done_.emplace(sequence, std::move(response));
        while (!done_.empty() && done_.begin()->first == next_to_send_) {
            if (done_.begin()->second) outbox_.push_back(std::move(*done_.begin()->second));
            done_.erase(done_.begin());
            ++next_to_send_;
            --in_flight_;
        }
        write();
        read_size();
    }

    void write() {
        if (writing_ || outbox_.empty() || closed_) return;
        writing_ = true;
        net::async_write(socket_, net::buffer(outbox_.front()),
                         [self = shared_from_this()](ErrorCodeType ec, std::size_t) {
                             self->writing_ = false;
                             if (ec) return self->close();
                             self->outbox_.pop_front();
                             self->write();
                         });
    }

    void close() {
        if (closed_) return;
        closed_ = true;
        ErrorCodeType ignored;
        socket_.shutdown(tcp::socket::shutdown_both, ignored);
        socket_.close(ignored);
    }

    Socket socket_;
    const KafkaServerOptions& options_;
    Broker& broker_;
    const Logger& logger_;
    std::string client_host_;
    char size_bytes_[4] = {};
    std::string frame_;
    std::string discard_buffer_;
    bool reading_ = false;
    bool writing_ = false;
    bool closed_ = false;
    uint64_t next_sequence_ = 0;
    uint64_t next_to_send_ = 0;
    std::size_t in_flight_ = 0;
    std::map<uint64_t, std::optional<std::string>> done_;
    std::deque<std::string> outbox_;
};

}  // namespace

class KafkaServer::Impl {
public:
    Impl(KafkaServerOptions options, Broker& broker, const Logger& logger)
        : options_(std::move(options)),
          broker_(broker),
          logger_(logger),
          listener_(
              "kafka listen", options_.address, options_.port, options_.threads,
              [this](Socket socket) {
                  std::make_shared<Session>(std::move(socket), options_, broker_, logger_)->start();
              }) {}

    Status start() {
        MILLRACE_TRY(listener_.start());
        logger_.info(
            "kafka", "listening",
            {{"address", options_.address}, {"port", static_cast<int64_t>(listener_.port())}});
        return {};
    }
    void stop() { listener_.stop(); }
    uint16_t port() const { return listener_.port(); }

private:
    KafkaServerOptions options_;
    Broker& broker_;
    Logger logger_;
    TcpListener listener_;
};

KafkaServer::KafkaServer(KafkaServerOptions options, Broker& broker, const Logger& logger)
    : impl_(std::make_unique<Impl>(std::move(options), broker, logger)) {}

KafkaServer::~KafkaServer() { impl_->stop(); }

Status KafkaServer::start() { return impl_->start(); }
uint16_t KafkaServer::port() const { return impl_->port(); }
void KafkaServer::stop() { impl_->stop(); }

}  // namespace millrace::kafka
