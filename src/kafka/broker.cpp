#include "kafka/broker.h"

#include <algorithm>

#include "kafka/broker_impl.h"
#include "log/log.h"

namespace millrace::kafka {

namespace {

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

}  // namespace

std::string encode_response(const ApiSpec& api, const RequestHeader& header, const Struct& body) {
    const bool flexible = api.flexible(header.api_version);
    WireWriter writer;
    MessageCodec::encode(body, header.api_version, flexible, writer);
    return frame_response(header.correlation_id, flexible && api.key != ApiKey::kApiVersions,
                          writer.buffer());
}

BrokerMetrics::BrokerMetrics(MetricsRegistry* registry) {
    if (registry == nullptr) return;
    constexpr std::string_view kRequests = "millrace_kafka_requests_total";
    constexpr std::string_view kRequestsHelp = "Kafka requests by API and outcome.";
    for (const ApiSpec& api : supported_apis()) {
        const auto key = static_cast<std::size_t>(api.key);
        const std::string name(api.name);
        ok[key] = &registry->counter(kRequests, kRequestsHelp, {{"api", name}, {"outcome", "ok"}});
        unsupported[key] = &registry->counter(kRequests, kRequestsHelp,
                                              {{"api", name}, {"outcome", "unsupported_version"}});
        malformed[key] =
            &registry->counter(kRequests, kRequestsHelp, {{"api", name}, {"outcome", "malformed"}});
    }
    unknown_api = &registry->counter(kRequests, kRequestsHelp,
                                     {{"api", "unknown"}, {"outcome", "unsupported_version"}});
    constexpr std::string_view kBatches = "millrace_kafka_produce_batches_total";
    constexpr std::string_view kBatchesHelp = "Record batches of Kafka Produce requests.";
    stored = &registry->counter(kBatches, kBatchesHelp, {{"outcome", "stored"}});
    duplicate = &registry->counter(kBatches, kBatchesHelp, {{"outcome", "duplicate"}});
    refused = &registry->counter(kBatches, kBatchesHelp, {{"outcome", "refused"}});
}

Broker::Impl::Impl(Log& log, const Clock& clock, const Logger& logger, const BrokerOptions& options,
                   MetricsRegistry* metrics)
    : log_(log),
      clock_(clock),
      logger_(logger),
      options_(options),
      metrics_(metrics),
      loop_(clock),
      groups_(loop_, clock, options.initial_rebalance_delay),
      producers_(log.dir()),
      transactions_(log, producers_, clock, logger) {}

Status Broker::Impl::start() {
    MILLRACE_TRY(producers_.load());
    MILLRACE_TRY(transactions_.load());
    MILLRACE_TRY(loop_.open());
    loop_.start();
    loop_.post([this] {
        groups_.start();
        schedule_transaction_expiry();
    });
    return {};
}

void Broker::Impl::stop() {
    if (!loop_.running()) return;
    loop_.post([this] { groups_.fail_pending(); });
    loop_.stop();
    loop_.run_posted();
}

void Broker::Impl::api_versions(Request& request, Respond& respond) {
    reply(request, api_versions_body(0), respond);
}

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
        case ApiKey::kAddPartitionsToTxn:
            return add_partitions_to_txn(request, respond);
        case ApiKey::kAddOffsetsToTxn:
            return add_offsets_to_txn(request, respond);
        case ApiKey::kEndTxn:
            return end_txn(request, respond);
        case ApiKey::kTxnOffsetCommit:
            return txn_offset_commit(request, respond);
        case ApiKey::kJoinGroup:
        case ApiKey::kSyncGroup:
        case ApiKey::kHeartbeat:
        case ApiKey::kLeaveGroup:
        case ApiKey::kDescribeGroups:
        case ApiKey::kListGroups:
            return group_request(request, respond);
    }
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
