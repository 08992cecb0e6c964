#include "kafka/broker_impl.h"
#include "log/log.h"
#include "log/topic.h"

namespace millrace::kafka {

void Broker::Impl::find_coordinator(Request& request, Respond& respond) {
    Struct body(request.api->response);
    // Key type 0: a group; 1: a transactional id. This broker coordinates both.
    if (request.body.integer("KeyType") != 0 && request.body.integer("KeyType") != 1) {
        body.set("ErrorCode", code(KafkaError::kInvalidRequest));
        body.set("ErrorMessage", std::string("unknown coordinator key type"));
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

}  // namespace millrace::kafka
