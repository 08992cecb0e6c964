#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/logger.h"
#include "common/metrics_registry.h"
#include "common/result.h"
#include "log/fwd.h"

namespace millrace::kafka {

/// What the Kafka listener tells clients and how it treats topics it does not know.
struct BrokerOptions {
    /// Our broker id in Metadata and FindCoordinator (single node: also the controller).
    int32_t node_id = 0;
    /// The address clients must dial: every client reconnects to what Metadata returns.
    std::string advertised_host = "127.0.0.1";
    int32_t advertised_port = 9092;
    std::string cluster_id = "millrace";
    /// Create a topic a producer or consumer names in Metadata (v4+: only when the request
    /// allows it too) or Produce; off by default.
    bool auto_create_topics = false;
    /// Partitions of auto-created topics and of CreateTopics with num_partitions -1.
    int32_t default_partitions = 1;
    /// How long a new group waits for more members before its first rebalance completes
    /// (Kafka's group.initial.rebalance.delay.ms).
    std::chrono::milliseconds initial_rebalance_delay{3000};
    /// Whether the schema registry has a schema with this global id: what a topic with
    /// `require_schema` checks every produced record's framing against. Unset: no id is known,
    /// so such topics refuse every record.
    std::function<bool(int64_t id)> schema_exists;
};

class GroupCoordinator;
class ProducerStates;

/// Answers Kafka requests against the Log: one frame in, at most one frame out. The API table
/// (apis.h) decides what is supported; every request gets an answer (an unsupported version
/// gets UNSUPPORTED_VERSION, an ApiVersions one a v0 body listing our ranges), except a
/// Produce with acks=0, which gets none.
///
/// Produce validates each RecordBatch (record_batch::validate: magic 2, CRC-32C, counts,
/// codec, records) and appends it as sent (Partition::append_encoded stamps the base offset);
/// a partition with a bad batch gets CORRUPT_MESSAGE and nothing of it is stored. Fetch sends
/// stored batches as they are (Partition::read_batches). Committed offsets go to the Log's
/// ConsumerOffsets under the group id, the store `millrace topic consume --consumer` uses.
///
/// Threads: handle() may be called from any thread and calls `respond` once, on that thread or
/// on the broker's event-loop thread (groups, waiting fetches, fsync: always produces on the
/// log's flusher thread). start() starts the loop; stop() joins it (pending group requests are
/// answered with COORDINATOR_NOT_AVAILABLE or dropped).
class Broker {
public:
    /// The response frame (with its size prefix), or nullopt for "no response" (acks=0).
    using Respond = std::function<void(std::optional<std::string> frame)>;

    /// `log`, `clock`, `logger` and `metrics` (optional) must outlive the broker. Metrics:
    /// millrace_kafka_requests_total{api, outcome=ok|unsupported_version|malformed} and
    /// millrace_kafka_produce_batches_total{outcome=stored|duplicate|refused}.
    Broker(Log& log, const Clock& clock, const Logger& logger, BrokerOptions options,
           MetricsRegistry* metrics = nullptr);
    ~Broker();
    Broker(const Broker&) = delete;
    Broker& operator=(const Broker&) = delete;

    Status start();
    void stop();

    /// `frame` is one request without its size prefix; `client_host` the peer's address.
    void handle(std::string_view frame, const std::string& client_host, Respond respond);

    const BrokerOptions& options() const { return options_; }

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
    BrokerOptions options_;
};

}  // namespace millrace::kafka
