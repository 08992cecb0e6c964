#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "common/clock.h"
#include "common/logger.h"
#include "kafka/broker.h"
#include "kafka/kafka_server.h"
#include "log/log.h"
#include "project/project.h"

namespace millrace {

/// A port nothing listens on right now, for a server whose advertised address must be known
/// before it starts.
inline uint16_t free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    ::close(fd);
    return ntohs(address.sin_port);
}

/// An in-process Kafka listener over a log of its own, with one topic, `rows`.
class KafkaListener {
public:
    explicit KafkaListener(const std::string& dir) {
        auto log = Log::open(dir, clock_);
        if (!log.ok()) return;
        log_ = std::move(log).value();
        if (!log_->ensure_topic("rows", TopicConfig{}).ok()) return;
        kafka::BrokerOptions options;
        options.advertised_port = free_port();
        broker_ = std::make_unique<kafka::Broker>(*log_, clock_, logger_, options);
        if (!broker_->start().ok()) return;
        kafka::KafkaServerOptions server_options;
        server_options.port = static_cast<uint16_t>(options.advertised_port);
        server_ = std::make_unique<kafka::KafkaServer>(server_options, *broker_, logger_);
        started_ = server_->start().ok();
    }
    ~KafkaListener() {
        if (server_) server_->stop();
        if (broker_) broker_->stop();
        broker_.reset();
        server_.reset();
        log_.reset();
    }
    bool started() const { return started_; }
    Log& log() { return *log_; }
    SinkSpec spec() const {
        SinkSpec spec;
        spec.kind = SinkKind::kKafka;
        spec.brokers = {"127.0.0.1:" + std::to_string(server_->port())};
        spec.topic = "rows";
        spec.key = {"id"};
        return spec;
    }

private:
    SystemClock clock_;
    Logger logger_{[](std::string_view) {}};
    std::unique_ptr<Log> log_;
    std::unique_ptr<kafka::Broker> broker_;
    std::unique_ptr<kafka::KafkaServer> server_;
    bool started_ = false;
};

}  // namespace millrace
