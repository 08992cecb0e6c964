#pragma once

// The Broker's internals, shared by the files that define its handlers by concern:
// broker.cpp (set-up, dispatch, version checks, ApiVersions), broker_topics.cpp (Metadata,
// CreateTopics, DeleteTopics, DescribeConfigs), broker_records.cpp (Produce, Fetch,
// ListOffsets, InitProducerId), broker_groups.cpp (FindCoordinator, offsets, group APIs),
// broker_transactions.cpp (AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, TxnOffsetCommit).
// Not for use outside src/kafka.

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/event_loop.h"
#include "common/metrics_registry.h"
#include "kafka/apis.h"
#include "kafka/broker.h"
#include "kafka/frame.h"
#include "kafka/group_coordinator.h"
#include "kafka/message.h"
#include "kafka/producer_states.h"
#include "kafka/transactions.h"
#include "log/fwd.h"

namespace millrace::kafka {

inline int16_t code(KafkaError error) { return static_cast<int16_t>(error); }

/// Encodes `body` as the response to `header` (see frame.h for the header rule).
std::string encode_response(const ApiSpec& api, const RequestHeader& header, const Struct& body);

/// Request and batch counters; all null without a registry.
struct BrokerMetrics {
    explicit BrokerMetrics(MetricsRegistry* registry);
    static void count(Counter* counter, uint64_t amount = 1) {
        if (counter != nullptr) counter->increment(amount);
    }
    static constexpr std::size_t kKeys = 64;  // every ApiKey we support is below
    std::array<Counter*, kKeys> ok{};
    std::array<Counter*, kKeys> unsupported{};
    std::array<Counter*, kKeys> malformed{};
    Counter* unknown_api = nullptr;
    Counter* stored = nullptr;
    Counter* duplicate = nullptr;
    Counter* refused = nullptr;
};

class Broker::Impl {
public:
    Impl(Log& log, const Clock& clock, const Logger& logger, const BrokerOptions& options,
         MetricsRegistry* metrics);

    Status start();
    void stop();

    void handle(std::string_view frame, const std::string& client_host, Respond respond);

private:
    struct Request {
        const ApiSpec* api;
        RequestHeader header;
        Struct body;
        std::string client_host;
    };
    void reply(const Request& request, const Struct& body, Respond& respond) {
        respond(encode_response(*request.api, request.header, body));
    }

    void api_versions(Request& request, Respond& respond);
    // broker_topics.cpp
    void metadata(Request& request, Respond& respond);
    void create_topics(Request& request, Respond& respond);
    void delete_topics(Request& request, Respond& respond);
    void describe_configs(Request& request, Respond& respond);
    // broker_records.cpp
    void produce(Request& request, Respond& respond);
    void fetch(Request& request, Respond& respond);
    void list_offsets(Request& request, Respond& respond);
    void init_producer_id(Request& request, Respond& respond);
    // broker_transactions.cpp
    void add_partitions_to_txn(Request& request, Respond& respond);
    void add_offsets_to_txn(Request& request, Respond& respond);
    void end_txn(Request& request, Respond& respond);
    void txn_offset_commit(Request& request, Respond& respond);
    /// Aborts expired transactions about once a second, on the loop.
    void schedule_transaction_expiry();
    // broker_groups.cpp
    void find_coordinator(Request& request, Respond& respond);
    void offset_commit(Request& request, Respond& respond);
    void offset_fetch(Request& request, Respond& respond);
    /// JoinGroup, SyncGroup, Heartbeat, LeaveGroup, DescribeGroups, ListGroups: on the loop.
    void group_request(Request& request, Respond& respond);

    /// A topic, created when `create` and auto-creation is on. nullptr otherwise.
    std::shared_ptr<Topic> topic_for(const std::string& name, bool create);
    /// One pass of a fetch; answers (true) when it has min_bytes or its time is up.
    bool try_fetch(const std::shared_ptr<Request>& request, const std::shared_ptr<Respond>& respond,
                   int64_t deadline);

    Log& log_;
    const Clock& clock_;
    const Logger& logger_;
    BrokerOptions options_;
    BrokerMetrics metrics_;
    EventLoop loop_;
    GroupCoordinator groups_;  // loop thread only
    ProducerStates producers_;
    TransactionCoordinator transactions_;
    std::mutex create_mutex_;  // auto-creation: one creator per name
};

}  // namespace millrace::kafka
