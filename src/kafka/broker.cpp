#include "kafka/broker.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <limits>
#include <mutex>

#include "common/event_loop.h"
#include "kafka/apis.h"
#include "kafka/frame.h"
#include "kafka/group_coordinator.h"
#include "kafka/message.h"
#include "kafka/producer_states.h"
#include "log/log.h"
#include "log/partition.h"
#include "log/record_batch.h"
#include "log/topic.h"

namespace millrace::kafka {

namespace {

constexpr int64_t kMicrosPerMilli = 1000;
constexpr int64_t kFetchPollMicros = 5 * kMicrosPerMilli;
constexpr int64_t kLatestTimestamp = -1;
constexpr int64_t kEarliestTimestamp = -2;

int16_t code(KafkaError error) { return static_cast<int16_t>(error); }

/// Encodes `body` as the response to `header` (see frame.h for the header rule).
std::string encode_response(const ApiSpec& api, const RequestHeader& header, const Struct& body) {
    const bool flexible = api.flexible(header.api_version);
    WireWriter writer;
    MessageCodec::encode(body, header.api_version, flexible, writer);
    return frame_response(header.correlation_id, flexible && api.key != ApiKey::kApiVersions,
                          writer.buffer());
}

/// Sets ErrorCode wherever the schema has one at this level.
bool has_field(const Schema& schema, std::string_view name) {
    return std::any_of(schema.begin(), schema.end(),
                       [&](const Field& field) { return field.name == name; });
}

Struct api_versions_body(int16_t error) {
    Struct body(find_api(static_cast<int16_t>(ApiKey::kApiVersions))->response);
    body.set("ErrorCode", error);
    for (const ApiSpec& api : supported_apis()) {
        Struct& entry = body.add("ApiKeys");
        entry.set("ApiKey", static_cast<int16_t>(api.key));
        entry.set("MinVersion", api.min_version);
        entry.set("MaxVersion", api.max_version);
    }
    return body;
}

/// The records section of a Produce partition, split into batches and each checked.
struct CheckedBatches {
    std::vector<std::string> batches;
    KafkaError error = KafkaError::kNone;
};

CheckedBatches check_batches(std::string_view records) {
    CheckedBatches out;
    if (records.empty()) {
        out.error = KafkaError::kInvalidRecord;
        return out;
    }
    while (!records.empty()) {
        if (records.size() < record_batch::kHeaderSize) {
            out.error = KafkaError::kCorruptMessage;
            return out;
        }
        const record_batch::Header header = record_batch::read_header(records.data());
        if (header.batch_length < 0 || header.total_size() > records.size()) {
            out.error = KafkaError::kCorruptMessage;
            return out;
        }
        if (header.total_size() > record_batch::kMaxBatchSize) {
            out.error = KafkaError::kMessageTooLarge;
            return out;
        }
        const std::string_view batch = records.substr(0, header.total_size());
        if (!record_batch::validate(batch).ok()) {
            out.error = KafkaError::kCorruptMessage;
            return out;
        }
        if (header.transactional() || header.control()) {
            out.error = KafkaError::kInvalidRecord;  // no transactions yet
            return out;
        }
        out.batches.emplace_back(batch);
        records.remove_prefix(header.total_size());
    }
    return out;
}

TopicConfig config_from_kafka(const Struct& topic, int32_t default_partitions,
                              std::string& problem) {
    TopicConfig config;
    const auto partitions = static_cast<int32_t>(topic.integer("NumPartitions"));
    config.partitions = partitions == -1 ? default_partitions : partitions;
    for (const Struct& entry : topic.array("Configs")) {
        if (entry.is_null("Value")) continue;
        const std::string& name = entry.string("Name");
        const std::string& value = entry.string("Value");
        try {
            if (name == "retention.ms") {
                config.retention_ms = std::stoll(value);
            } else if (name == "retention.bytes") {
                config.retention_bytes = std::stoll(value);
            } else if (name == "segment.bytes") {
                config.segment_bytes = std::stoll(value);
            }
            // Other Kafka topic configs are accepted and ignored (tools send many).
        } catch (...) {
            problem = "config " + name + " has an invalid value " + value;
        }
    }
    return config;
}

}  // namespace

/// Request and batch counters; all null without a registry.
struct BrokerMetrics {
    explicit BrokerMetrics(MetricsRegistry* registry) {
        if (registry == nullptr) return;
        constexpr std::string_view kRequests = "millrace_kafka_requests_total";
        constexpr std::string_view kRequestsHelp = "Kafka requests by API and outcome.";
        for (const ApiSpec& api : supported_apis()) {
            const auto key = static_cast<std::size_t>(api.key);
            const std::string name(api.name);
            ok[key] =
                &registry->counter(kRequests, kRequestsHelp, {{"api", name}, {"outcome", "ok"}});
            unsupported[key] = &registry->counter(
                kRequests, kRequestsHelp, {{"api", name}, {"outcome", "unsupported_version"}});
            malformed[key] = &registry->counter(kRequests, kRequestsHelp,
                                                {{"api", name}, {"outcome", "malformed"}});
        }
        unknown_api = &registry->counter(kRequests, kRequestsHelp,
                                         {{"api", "unknown"}, {"outcome", "unsupported_version"}});
        constexpr std::string_view kBatches = "millrace_kafka_produce_batches_total";
        constexpr std::string_view kBatchesHelp = "Record batches of Kafka Produce requests.";
        stored = &registry->counter(kBatches, kBatchesHelp, {{"outcome", "stored"}});
        duplicate = &registry->counter(kBatches, kBatchesHelp, {{"outcome", "duplicate"}});
        refused = &registry->counter(kBatches, kBatchesHelp, {{"outcome", "refused"}});
    }
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
         MetricsRegistry* metrics)
        : log_(log),
          clock_(clock),
          logger_(logger),
          options_(options),
          metrics_(metrics),
          loop_(clock),
          groups_(loop_, clock, options.initial_rebalance_delay),
          producers_(log.dir()) {}

    Status start() {
        MILLRACE_TRY(producers_.load());
        MILLRACE_TRY(loop_.open());
        loop_.start();
        loop_.post([this] { groups_.start(); });
        return {};
    }

    void stop() {
        if (!loop_.running()) return;
        loop_.post([this] { groups_.fail_pending(); });
        loop_.stop();
        loop_.run_posted();
    }

    void handle(std::string_view frame, const std::string& client_host, Respond respond);

private:
    struct Request {
        const ApiSpec* api;
        RequestHeader header;
        Struct body;
        std::string client_host;
    };
    using Handler = void (Impl::*)(Request&, Respond&);

    void reply(const Request& request, const Struct& body, Respond& respond) {
        respond(encode_response(*request.api, request.header, body));
    }

    void api_versions(Request& request, Respond& respond) {
        reply(request, api_versions_body(0), respond);
    }
    void metadata(Request& request, Respond& respond);
    void produce(Request& request, Respond& respond);
    void fetch(Request& request, Respond& respond);
    void list_offsets(Request& request, Respond& respond);
    void create_topics(Request& request, Respond& respond);
    void delete_topics(Request& request, Respond& respond);
    void find_coordinator(Request& request, Respond& respond);
    void offset_commit(Request& request, Respond& respond);
    void offset_fetch(Request& request, Respond& respond);
    void init_producer_id(Request& request, Respond& respond);
    void describe_configs(Request& request, Respond& respond);
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
    std::mutex create_mutex_;  // auto-creation: one creator per name
};

void Broker::Impl::handle(std::string_view frame, const std::string& client_host, Respond respond) {
    const std::optional<RequestHeader> peeked = peek_request_header(frame);
    if (!peeked) {
        // Not even a header: answer nothing the client could match; the server closes.
        respond(std::nullopt);
        return;
    }
    const ApiSpec* api = find_api(peeked->api_key);
    if (api == nullptr) {
        logger_.warn("kafka", "unsupported API key",
                     {{"api_key", static_cast<int64_t>(peeked->api_key)},
                      {"version", static_cast<int64_t>(peeked->api_version)}});
        BrokerMetrics::count(metrics_.unknown_api);
        WireWriter writer;
        writer.int16(code(KafkaError::kUnsupportedVersion));
        respond(frame_response(peeked->correlation_id, false, writer.buffer()));
        return;
    }
    const auto key = static_cast<std::size_t>(api->key);
    if (peeked->api_version < api->min_version || peeked->api_version > api->max_version) {
        BrokerMetrics::count(metrics_.unsupported[key]);
        logger_.warn("kafka", "unsupported API version",
                     {{"api", api->name},
                      {"version", static_cast<int64_t>(peeked->api_version)},
                      {"supported",
                       std::to_string(api->min_version) + "-" + std::to_string(api->max_version)}});
        if (api->key == ApiKey::kApiVersions) {
            // KIP-511: error 35 with a v0 body listing our ranges, so the client retries lower.
            WireWriter writer;
            MessageCodec::encode(api_versions_body(code(KafkaError::kUnsupportedVersion)), 0, false,
                                 writer);
            respond(frame_response(peeked->correlation_id, false, writer.buffer()));
            return;
        }
        // The nearest version we can encode, with the error where the body has a place for it.
        RequestHeader header = *peeked;
        header.api_version = std::clamp(header.api_version, api->min_version, api->max_version);
        Struct body(api->response);
        if (has_field(api->response, "ErrorCode"))
            body.set("ErrorCode", code(KafkaError::kUnsupportedVersion));
        respond(encode_response(*api, header, body));
        return;
    }
    const bool flexible = api->flexible(peeked->api_version);
    WireReader reader(frame);
    auto header = read_request_header(reader, flexible);
    auto body = header.ok()
                    ? MessageCodec::decode(api->request, peeked->api_version, flexible, reader)
                    : Result<Struct>(header.error());
    if (!body.ok()) {
        logger_.warn("kafka", "malformed request",
                     {{"api", api->name},
                      {"version", static_cast<int64_t>(peeked->api_version)},
                      {"error", body.error().message()}});
        BrokerMetrics::count(metrics_.malformed[key]);
        Struct answer(api->response);
        if (has_field(api->response, "ErrorCode"))
            answer.set("ErrorCode", code(KafkaError::kInvalidRequest));
        respond(encode_response(*api, *peeked, answer));
        return;
    }
    BrokerMetrics::count(metrics_.ok[key]);
    Request request{api, std::move(header).value(), std::move(body).value(), client_host};
    switch (api->key) {
        case ApiKey::kApiVersions:
            return api_versions(request, respond);
        case ApiKey::kMetadata:
            return metadata(request, respond);
        case ApiKey::kProduce:
            return produce(request, respond);
        case ApiKey::kFetch:
            return fetch(request, respond);
        case ApiKey::kListOffsets:
            return list_offsets(request, respond);
        case ApiKey::kCreateTopics:
            return create_topics(request, respond);
        case ApiKey::kDeleteTopics:
            return delete_topics(request, respond);
        case ApiKey::kFindCoordinator:
            return find_coordinator(request, respond);
        case ApiKey::kOffsetCommit:
            return offset_commit(request, respond);
        case ApiKey::kOffsetFetch:
            return offset_fetch(request, respond);
        case ApiKey::kInitProducerId:
            return init_producer_id(request, respond);
        case ApiKey::kDescribeConfigs:
            return describe_configs(request, respond);
        case ApiKey::kJoinGroup:
        case ApiKey::kSyncGroup:
        case ApiKey::kHeartbeat:
        case ApiKey::kLeaveGroup:
        case ApiKey::kDescribeGroups:
        case ApiKey::kListGroups:
            return group_request(request, respond);
    }
}

std::shared_ptr<Topic> Broker::Impl::topic_for(const std::string& name, bool create) {
    std::shared_ptr<Topic> topic = log_.find_topic(name);
    if (topic || !create || !options_.auto_create_topics || !is_valid_topic_name(name))
        return topic;
    std::lock_guard lock(create_mutex_);
    TopicConfig config;
    config.partitions = options_.default_partitions;
    auto created = log_.ensure_topic(name, config);
    if (!created.ok()) {
        logger_.warn("kafka", "cannot auto-create topic",
                     {{"topic", name}, {"error", created.error().message()}});
        return nullptr;
    }
    logger_.info("kafka", "auto-created topic", {{"topic", name}});
    return std::move(created).value();
}

void Broker::Impl::metadata(Request& request, Respond& respond) {
    const int16_t version = request.header.api_version;
    Struct body(request.api->response);
    Struct& broker = body.add("Brokers");
    broker.set("NodeId", options_.node_id);
    broker.set("Host", options_.advertised_host);
    broker.set("Port", options_.advertised_port);
    body.set("ClusterId", options_.cluster_id);
    body.set("ControllerId", options_.node_id);
    std::vector<std::string> names;
    const bool all =
        request.body.is_null("Topics") || (version == 0 && request.body.array("Topics").empty());
    if (all) {
        names = log_.list_topics();
    } else {
        for (const Struct& topic : request.body.array("Topics"))
            names.push_back(topic.string("Name"));
    }
    const bool may_create = version < 4 || request.body.boolean("AllowAutoTopicCreation");
    for (const std::string& name : names) {
        Struct& entry = body.add("Topics");
        entry.set("Name", name);
        if (!is_valid_topic_name(name)) {
            entry.set("ErrorCode", code(KafkaError::kInvalidTopicException));
            continue;
        }
        std::shared_ptr<Topic> topic = topic_for(name, !all && may_create);
        if (!topic) {
            entry.set("ErrorCode", code(KafkaError::kUnknownTopicOrPartition));
            continue;
        }
        for (int32_t p = 0; p < topic->partition_count(); ++p) {
            Struct& partition = entry.add("Partitions");
            partition.set("PartitionIndex", p);
            partition.set("LeaderId", options_.node_id);
            partition.set("LeaderEpoch", 0);
            partition.set("ReplicaNodes", std::vector<int64_t>{options_.node_id});
            partition.set("IsrNodes", std::vector<int64_t>{options_.node_id});
        }
    }
    reply(request, body, respond);
}

void Broker::Impl::produce(Request& request, Respond& respond) {
    const int16_t version = request.header.api_version;
    const auto acks = static_cast<int16_t>(request.body.integer("Acks"));
    Struct body(request.api->response);
    struct Pending {
        std::shared_ptr<Topic> topic;
        std::vector<PartitionAppend> appends;
    };
    std::vector<Pending> durable;
    for (const Struct& topic_data : request.body.array("TopicData")) {
        const std::string& name = topic_data.string("Name");
        Struct& topic_entry = body.add("Responses");
        topic_entry.set("Name", name);
        std::shared_ptr<Topic> topic = topic_for(name, true);
        Pending pending{topic, {}};
        for (const Struct& partition_data : topic_data.array("PartitionData")) {
            const auto index = static_cast<int32_t>(partition_data.integer("Index"));
            Struct& entry = topic_entry.add("PartitionResponses");
            entry.set("Index", index);
            entry.set("BaseOffset", -1);
            auto fail = [&](KafkaError error) { entry.set("ErrorCode", code(error)); };
            if (version < 3) {
                fail(KafkaError::kUnsupportedForMessageFormat);  // legacy message sets
                continue;
            }
            if (acks != -1 && acks != 0 && acks != 1) {
                fail(KafkaError::kInvalidRequiredAcks);
                continue;
            }
            if (!topic || index < 0 || index >= topic->partition_count()) {
                fail(KafkaError::kUnknownTopicOrPartition);
                continue;
            }
            if (!request.body.is_null("TransactionalId")) {
                fail(KafkaError::kInvalidRecord);  // transactions are not supported
                continue;
            }
            CheckedBatches checked = check_batches(partition_data.string("Records"));
            if (checked.error != KafkaError::kNone) {
                logger_.warn("kafka", "produce refused",
                             {{"topic", name},
                              {"partition", static_cast<int64_t>(index)},
                              {"error", static_cast<int64_t>(checked.error)}});
                BrokerMetrics::count(metrics_.refused);
                fail(checked.error);
                continue;
            }
            const std::shared_ptr<Partition>& partition = topic->partition(index);
            entry.set("LogStartOffset", partition->start_offset());
            auto appended = producers_.append(name, *partition, checked.batches);
            if (!appended.ok()) {
                logger_.warn("kafka", "append failed",
                             {{"topic", name},
                              {"partition", static_cast<int64_t>(index)},
                              {"error", appended.error().to_string()}});
                fail(KafkaError::kUnknownServerError);
                continue;
            }
            if (appended->error != 0) {
                entry.set("ErrorCode", appended->error);
                continue;
            }
            entry.set("BaseOffset", appended->base_offset);
            BrokerMetrics::count(appended->appended ? metrics_.stored : metrics_.duplicate,
                                 checked.batches.size());
            if (appended->appended)
                pending.appends.push_back({index, appended->base_offset, appended->last_offset});
        }
        if (topic && !pending.appends.empty()) durable.push_back(std::move(pending));
    }
    if (acks == 0) {
        respond(std::nullopt);
        return;
    }
    std::string frame = encode_response(*request.api, request.header, body);
    if (acks == 1 || durable.empty()) {
        respond(std::move(frame));
        return;
    }
    // acks=all: answer once the topic's fsync policy says the records are durable.
    struct Waiting {
        std::atomic<std::size_t> left;
        std::string frame;
        Respond respond;
    };
    auto waiting = std::make_shared<Waiting>();
    waiting->left = durable.size();
    waiting->frame = std::move(frame);
    waiting->respond = std::move(respond);
    for (Pending& pending : durable) {
        pending.topic->when_durable(pending.appends, [waiting](Status) {
            if (waiting->left.fetch_sub(1) == 1) waiting->respond(std::move(waiting->frame));
        });
    }
}

void Broker::Impl::fetch(Request& request, Respond& respond) {
    auto shared = std::make_shared<Request>(std::move(request));
    auto shared_respond = std::make_shared<Respond>(std::move(respond));
    const int64_t wait_ms = std::max<int64_t>(0, shared->body.integer("MaxWaitMs"));
    const int64_t deadline = clock_.now_micros() + std::min<int64_t>(wait_ms, 30000) * 1000;
    if (try_fetch(shared, shared_respond, wait_ms == 0 ? 0 : deadline)) return;
    // Long poll: look again on the loop until data arrives or the wait is over.
    // The pending timer owns the poll; the poll only refers to itself weakly, so a fetch still
    // waiting when the loop stops is freed with the loop's timers.
    auto poll = std::make_shared<std::function<void()>>();
    std::weak_ptr<std::function<void()>> weak = poll;
    *poll = [this, shared, shared_respond, deadline, weak] {
        if (try_fetch(shared, shared_respond, deadline)) return;
        if (auto self = weak.lock()) {
            loop_.add_timer(clock_.now_micros() + kFetchPollMicros, [self] { (*self)(); });
        }
    };
    loop_.post([this, poll] {
        loop_.add_timer(clock_.now_micros() + kFetchPollMicros, [poll] { (*poll)(); });
    });
}

bool Broker::Impl::try_fetch(const std::shared_ptr<Request>& request,
                             const std::shared_ptr<Respond>& respond, int64_t deadline) {
    const Struct& in = request->body;
    Struct body(request->api->response);
    const int64_t max_bytes = std::max<int64_t>(1, in.integer("MaxBytes"));
    int64_t total = 0;
    for (const Struct& topic_request : in.array("Topics")) {
        const std::string& name = topic_request.string("Topic");
        Struct& topic_entry = body.add("Responses");
        topic_entry.set("Topic", name);
        std::shared_ptr<Topic> topic = log_.find_topic(name);
        for (const Struct& partition_request : topic_request.array("Partitions")) {
            const auto index = static_cast<int32_t>(partition_request.integer("Partition"));
            Struct& entry = topic_entry.add("Partitions");
            entry.set("PartitionIndex", index);
            entry.set("HighWatermark", -1);
            if (!topic || index < 0 || index >= topic->partition_count()) {
                entry.set("ErrorCode", code(KafkaError::kUnknownTopicOrPartition));
                continue;
            }
            const std::shared_ptr<Partition>& partition = topic->partition(index);
            const Offset end = partition->end_offset();
            entry.set("HighWatermark", end);
            entry.set("LastStableOffset", end);
            entry.set("LogStartOffset", partition->start_offset());
            entry.set("Records", std::string());
            const Offset offset = partition_request.integer("FetchOffset");
            if (offset < partition->start_offset() || offset > end) {
                entry.set("ErrorCode", code(KafkaError::kOffsetOutOfRange));
                continue;
            }
            // KIP-74: the response's first batch goes out whole even beyond the limits; once
            // the response is full, the other partitions get nothing this time.
            if (offset == end || (total > 0 && total >= max_bytes)) continue;
            const int64_t limit = std::min<int64_t>(
                std::max<int64_t>(1, partition_request.integer("PartitionMaxBytes")),
                std::max<int64_t>(1, max_bytes - total));
            std::string batches;
            auto read = partition->read_batches(offset, static_cast<std::size_t>(limit), batches);
            if (!read.ok()) {
                entry.set("ErrorCode", code(read.error().code() == ErrorCode::kOutOfRange
                                                ? KafkaError::kOffsetOutOfRange
                                                : KafkaError::kCorruptMessage));
                continue;
            }
            total += static_cast<int64_t>(batches.size());
            entry.set("Records", std::move(batches));
        }
    }
    const int64_t min_bytes = in.integer("MinBytes");
    if (total < std::max<int64_t>(1, min_bytes) && deadline > 0 && clock_.now_micros() < deadline &&
        loop_.running()) {
        return false;
    }
    (*respond)(encode_response(*request->api, request->header, body));
    return true;
}

void Broker::Impl::list_offsets(Request& request, Respond& respond) {
    Struct body(request.api->response);
    for (const Struct& topic_request : request.body.array("Topics")) {
        const std::string& name = topic_request.string("Name");
        Struct& topic_entry = body.add("Topics");
        topic_entry.set("Name", name);
        std::shared_ptr<Topic> topic = log_.find_topic(name);
        for (const Struct& partition_request : topic_request.array("Partitions")) {
            const auto index = static_cast<int32_t>(partition_request.integer("PartitionIndex"));
            Struct& entry = topic_entry.add("Partitions");
            entry.set("PartitionIndex", index);
            if (!topic || index < 0 || index >= topic->partition_count()) {
                entry.set("ErrorCode", code(KafkaError::kUnknownTopicOrPartition));
                continue;
            }
            const std::shared_ptr<Partition>& partition = topic->partition(index);
            const int64_t timestamp = partition_request.integer("Timestamp");
            entry.set("Timestamp", -1);
            if (timestamp == kLatestTimestamp) {
                entry.set("Offset", partition->end_offset());
            } else if (timestamp == kEarliestTimestamp) {
                entry.set("Offset", partition->start_offset());
            } else {
                // The first record at or after the timestamp (the index gives a lower bound).
                Offset offset =
                    std::max(partition->offset_for_time(timestamp), partition->start_offset());
                const Offset end = partition->end_offset();
                std::string buffer;
                std::vector<RecordView> views;
                bool found = false;
                while (offset < end && !found) {
                    views.clear();
                    auto next = partition->read(offset, end, 1000, 1 << 20, buffer, views);
                    if (!next.ok() || *next <= offset) break;
                    for (const RecordView& view : views) {
                        if (view.timestamp_ms >= timestamp) {
                            entry.set("Offset", view.offset);
                            entry.set("Timestamp", view.timestamp_ms);
                            found = true;
                            break;
                        }
                    }
                    offset = *next;
                }
                if (!found) entry.set("Offset", -1);
            }
        }
    }
    reply(request, body, respond);
}

void Broker::Impl::create_topics(Request& request, Respond& respond) {
    Struct body(request.api->response);
    const bool validate_only = request.body.boolean("ValidateOnly");
    for (const Struct& topic : request.body.array("Topics")) {
        const std::string& name = topic.string("Name");
        Struct& entry = body.add("Topics");
        entry.set("Name", name);
        auto fail = [&](KafkaError error, std::string message) {
            entry.set("ErrorCode", code(error));
            entry.set("ErrorMessage", std::move(message));
        };
        if (!is_valid_topic_name(name)) {
            fail(KafkaError::kInvalidTopicException, "invalid topic name");
            continue;
        }
        const auto replication = topic.integer("ReplicationFactor");
        if (replication != -1 && replication != 1) {
            fail(KafkaError::kInvalidReplicationFactor, "a single node keeps one replica");
            continue;
        }
        std::string problem;
        TopicConfig config = config_from_kafka(topic, options_.default_partitions, problem);
        if (!problem.empty()) {
            fail(KafkaError::kInvalidConfig, problem);
            continue;
        }
        if (Status valid = config.validate(); !valid.ok()) {
            fail(
                config.partitions < 1 ? KafkaError::kInvalidPartitions : KafkaError::kInvalidConfig,
                valid.error().message());
            continue;
        }
        if (log_.find_topic(name)) {
            fail(KafkaError::kTopicAlreadyExists, "topic exists");
            continue;
        }
        if (validate_only) continue;
        auto created = log_.create_topic(name, config);
        if (!created.ok()) {
            fail(created.error().code() == ErrorCode::kAlreadyExists
                     ? KafkaError::kTopicAlreadyExists
                     : KafkaError::kInvalidConfig,
                 created.error().message());
            continue;
        }
        logger_.info("kafka", "created topic",
                     {{"topic", name}, {"partitions", static_cast<int64_t>(config.partitions)}});
    }
    reply(request, body, respond);
}

void Broker::Impl::delete_topics(Request& request, Respond& respond) {
    Struct body(request.api->response);
    for (const std::string& name : request.body.strings("TopicNames")) {
        Struct& entry = body.add("Responses");
        entry.set("Name", name);
        Status deleted = log_.delete_topic(name);
        if (!deleted.ok()) {
            entry.set("ErrorCode", code(deleted.error().code() == ErrorCode::kNotFound
                                            ? KafkaError::kUnknownTopicOrPartition
                                            : KafkaError::kUnknownServerError));
            continue;
        }
        producers_.forget_topic(name);
        logger_.info("kafka", "deleted topic", {{"topic", name}});
    }
    reply(request, body, respond);
}

void Broker::Impl::find_coordinator(Request& request, Respond& respond) {
    Struct body(request.api->response);
    if (request.body.integer("KeyType") != 0) {
        body.set("ErrorCode", code(KafkaError::kCoordinatorNotAvailable));
        body.set("ErrorMessage", std::string("only group coordinators"));
        body.set("NodeId", -1);
        body.set("Port", -1);
    } else {
        body.set("NodeId", options_.node_id);
        body.set("Host", options_.advertised_host);
        body.set("Port", options_.advertised_port);
    }
    reply(request, body, respond);
}

void Broker::Impl::offset_commit(Request& request, Respond& respond) {
    auto shared = std::make_shared<Request>(std::move(request));
    auto shared_respond = std::make_shared<Respond>(std::move(respond));
    loop_.post([this, shared, shared_respond] {
        const Struct& in = shared->body;
        const std::string& group = in.string("GroupId");
        int16_t group_error = 0;
        if (!is_valid_topic_name(group)) {
            group_error = code(KafkaError::kInvalidGroupId);
        } else {
            group_error = groups_.check_commit(
                group, static_cast<int32_t>(in.integer("GenerationIdOrMemberEpoch")),
                in.string("MemberId"));
        }
        Struct body(shared->api->response);
        for (const Struct& topic_request : in.array("Topics")) {
            const std::string& name = topic_request.string("Name");
            Struct& topic_entry = body.add("Topics");
            topic_entry.set("Name", name);
            std::shared_ptr<Topic> topic = log_.find_topic(name);
            for (const Struct& partition_request : topic_request.array("Partitions")) {
                const auto index =
                    static_cast<int32_t>(partition_request.integer("PartitionIndex"));
                Struct& entry = topic_entry.add("Partitions");
                entry.set("PartitionIndex", index);
                if (group_error != 0) {
                    entry.set("ErrorCode", group_error);
                    continue;
                }
                if (!topic || index < 0 || index >= topic->partition_count()) {
                    entry.set("ErrorCode", code(KafkaError::kUnknownTopicOrPartition));
                    continue;
                }
                Status committed = log_.consumer_offsets().commit(
                    group, name, index, partition_request.integer("CommittedOffset"));
                if (!committed.ok()) {
                    logger_.warn("kafka", "offset commit failed",
                                 {{"group", group}, {"error", committed.error().to_string()}});
                    entry.set("ErrorCode", code(KafkaError::kUnknownServerError));
                }
            }
        }
        (*shared_respond)(encode_response(*shared->api, shared->header, body));
    });
}

void Broker::Impl::offset_fetch(Request& request, Respond& respond) {
    const Struct& in = request.body;
    const std::string& group = in.string("GroupId");
    Struct body(request.api->response);
    if (!is_valid_topic_name(group)) {
        body.set("ErrorCode", code(KafkaError::kInvalidGroupId));
        reply(request, body, respond);
        return;
    }
    std::vector<std::pair<std::string, std::vector<int64_t>>> wanted;
    const bool all = in.is_null("Topics");
    if (all) {
        for (const std::string& name : log_.list_topics()) {
            std::shared_ptr<Topic> topic = log_.find_topic(name);
            if (!topic) continue;
            std::vector<int64_t> partitions;
            for (int32_t p = 0; p < topic->partition_count(); ++p) partitions.push_back(p);
            wanted.emplace_back(name, std::move(partitions));
        }
    } else {
        for (const Struct& topic : in.array("Topics"))
            wanted.emplace_back(topic.string("Name"), topic.integers("PartitionIndexes"));
    }
    for (const auto& [name, partitions] : wanted) {
        Struct topic_entry(request.api->response[1].fields);
        topic_entry.set("Name", name);
        for (int64_t index : partitions) {
            auto committed =
                log_.consumer_offsets().fetch(group, name, static_cast<PartitionId>(index));
            if (all && (!committed.ok() || !committed->has_value())) continue;
            Struct& entry = topic_entry.add("Partitions");
            entry.set("PartitionIndex", index);
            entry.set("Metadata", std::string());
            // No committed offset: -1 and no error.
            entry.set("CommittedOffset",
                      committed.ok() && committed->has_value() ? **committed : int64_t{-1});
        }
        if (!all || !topic_entry.array("Partitions").empty())
            body.array("Topics").push_back(std::move(topic_entry));
    }
    reply(request, body, respond);
}

void Broker::Impl::init_producer_id(Request& request, Respond& respond) {
    Struct body(request.api->response);
    if (!request.body.is_null("TransactionalId")) {
        body.set("ErrorCode", code(KafkaError::kInvalidRequest));  // no transactions yet
        reply(request, body, respond);
        return;
    }
    // v3+ (KIP-360): a producer that knows its id asks for the next epoch of it.
    const int64_t known_id = request.body.integer("ProducerId");
    if (known_id >= 0) {
        const auto epoch = static_cast<int16_t>(request.body.integer("ProducerEpoch"));
        if (std::optional<int16_t> next = producers_.bump_epoch(known_id, epoch)) {
            body.set("ProducerId", known_id);
            body.set("ProducerEpoch", *next);
            reply(request, body, respond);
            return;
        }
    }
    auto id = producers_.new_producer();
    if (!id.ok()) {
        logger_.warn("kafka", "cannot allocate a producer id", {{"error", id.error().to_string()}});
        body.set("ErrorCode", code(KafkaError::kUnknownServerError));
    } else {
        body.set("ProducerId", *id);
        body.set("ProducerEpoch", 0);
    }
    reply(request, body, respond);
}

void Broker::Impl::describe_configs(Request& request, Respond& respond) {
    constexpr int64_t kTopicResource = 2;
    constexpr int64_t kBrokerResource = 4;
    Struct body(request.api->response);
    for (const Struct& resource : request.body.array("Resources")) {
        Struct& result = body.add("Results");
        const int64_t type = resource.integer("ResourceType");
        const std::string& name = resource.string("ResourceName");
        result.set("ResourceType", type);
        result.set("ResourceName", name);
        std::vector<std::pair<std::string, std::string>> configs;
        if (type == kTopicResource) {
            std::shared_ptr<Topic> topic = log_.find_topic(name);
            if (!topic) {
                result.set("ErrorCode", code(KafkaError::kUnknownTopicOrPartition));
                result.set("ErrorMessage", std::string("unknown topic"));
                continue;
            }
            const TopicConfig& config = topic->config();
            configs = {{"retention.ms", std::to_string(config.retention_ms)},
                       {"retention.bytes", std::to_string(config.retention_bytes)},
                       {"segment.bytes", std::to_string(config.segment_bytes)},
                       {"cleanup.policy", "delete"},
                       {"compression.type", "producer"},
                       {"message.timestamp.type", "CreateTime"},
                       {"max.message.bytes", std::to_string(record_batch::kMaxBatchSize)}};
        } else if (type == kBrokerResource) {
            configs = {
                {"auto.create.topics.enable", options_.auto_create_topics ? "true" : "false"},
                {"num.partitions", std::to_string(options_.default_partitions)}};
        } else {
            result.set("ErrorCode", code(KafkaError::kInvalidRequest));
            result.set("ErrorMessage", std::string("unsupported resource type"));
            continue;
        }
        const bool filtered = !resource.is_null("ConfigurationKeys");
        const std::vector<std::string>& keys = resource.strings("ConfigurationKeys");
        for (const auto& [key, value] : configs) {
            if (filtered && std::find(keys.begin(), keys.end(), key) == keys.end()) continue;
            Struct& config = result.add("Configs");
            config.set("Name", key);
            config.set("Value", value);
            config.set("ReadOnly", 1);
            config.set("ConfigSource", 5);  // DEFAULT_CONFIG
        }
    }
    reply(request, body, respond);
}

void Broker::Impl::group_request(Request& request, Respond& respond) {
    auto shared = std::make_shared<Request>(std::move(request));
    auto shared_respond = std::make_shared<Respond>(std::move(respond));
    loop_.post([this, shared, shared_respond] {
        auto reply_with = [shared, shared_respond](Struct body) {
            (*shared_respond)(encode_response(*shared->api, shared->header, body));
        };
        const int16_t version = shared->header.api_version;
        switch (shared->api->key) {
            case ApiKey::kJoinGroup:
                return groups_.join(shared->body, version, shared->header.client_id.value_or(""),
                                    shared->client_host, reply_with);
            case ApiKey::kSyncGroup:
                return groups_.sync(shared->body, reply_with);
            case ApiKey::kHeartbeat:
                return groups_.heartbeat(shared->body, reply_with);
            case ApiKey::kLeaveGroup:
                return groups_.leave(shared->body, version, reply_with);
            case ApiKey::kDescribeGroups:
                return groups_.describe(shared->body, reply_with);
            default:
                return groups_.list(reply_with);
        }
    });
}

Broker::Broker(Log& log, const Clock& clock, const Logger& logger, BrokerOptions options,
               MetricsRegistry* metrics)
    : impl_(std::make_unique<Impl>(log, clock, logger, options, metrics)),
      options_(std::move(options)) {}

Broker::~Broker() { stop(); }

Status Broker::start() { return impl_->start(); }

void Broker::stop() { impl_->stop(); }

void Broker::handle(std::string_view frame, const std::string& client_host, Respond respond) {
    impl_->handle(frame, client_host, std::move(respond));
}

}  // namespace millrace::kafka
