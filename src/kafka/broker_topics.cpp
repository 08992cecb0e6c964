#include <algorithm>

#include "kafka/broker_impl.h"
#include "log/log.h"
#include "log/record_batch.h"
#include "log/topic.h"

namespace millrace::kafka {

namespace {

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

}  // namespace millrace::kafka
