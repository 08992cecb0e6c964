#include "kafka/broker_impl.h"
#include "log/topic_config.h"

namespace millrace::kafka {

namespace {

constexpr int64_t kExpiryCheckMicros = 1'000'000;

}  // namespace

void Broker::Impl::add_partitions_to_txn(Request& request, Respond& respond) {
    const Struct& in = request.body;
    std::vector<std::pair<std::string, PartitionId>> partitions;
    for (const Struct& topic : in.array("Topics")) {
        for (const int64_t index : topic.integers("Partitions")) {
            partitions.emplace_back(topic.string("Name"), static_cast<PartitionId>(index));
        }
    }
    const std::vector<KafkaError> errors =
        transactions_.add_partitions(in.string("TransactionalId"), in.integer("ProducerId"),
                                     static_cast<int16_t>(in.integer("ProducerEpoch")), partitions);
    Struct body(request.api->response);
    std::size_t next = 0;
    for (const Struct& topic : in.array("Topics")) {
        Struct& topic_entry = body.add("Results");
        topic_entry.set("Name", topic.string("Name"));
        for (const int64_t index : topic.integers("Partitions")) {
            Struct& entry = topic_entry.add("Results");
            entry.set("PartitionIndex", index);
            entry.set("ErrorCode", code(errors[next++]));
        }
    }
    reply(request, body, respond);
}

void Broker::Impl::add_offsets_to_txn(Request& request, Respond& respond) {
    const Struct& in = request.body;
    Struct body(request.api->response);
    body.set("ErrorCode",
             code(transactions_.add_offsets(in.string("TransactionalId"), in.integer("ProducerId"),
                                            static_cast<int16_t>(in.integer("ProducerEpoch")),
                                            in.string("GroupId"))));
    reply(request, body, respond);
}

void Broker::Impl::end_txn(Request& request, Respond& respond) {
    const Struct& in = request.body;
    Struct body(request.api->response);
    body.set("ErrorCode",
             code(transactions_.end(in.string("TransactionalId"), in.integer("ProducerId"),
                                    static_cast<int16_t>(in.integer("ProducerEpoch")),
                                    in.boolean("Committed"))));
    reply(request, body, respond);
}

void Broker::Impl::txn_offset_commit(Request& request, Respond& respond) {
    const Struct& in = request.body;
    const std::string& group = in.string("GroupId");
    std::vector<TransactionOffset> offsets;
    for (const Struct& topic : in.array("Topics")) {
        for (const Struct& partition : topic.array("Partitions")) {
            offsets.push_back({group, topic.string("Name"),
                               static_cast<PartitionId>(partition.integer("PartitionIndex")),
                               partition.integer("CommittedOffset")});
        }
    }
    KafkaError error = is_valid_topic_name(group) ? KafkaError::kNone : KafkaError::kInvalidGroupId;
    if (error == KafkaError::kNone) {
        error = transactions_.txn_offset_commit(
            in.string("TransactionalId"), in.integer("ProducerId"),
            static_cast<int16_t>(in.integer("ProducerEpoch")), offsets);
    }
    Struct body(request.api->response);
    for (const Struct& topic : in.array("Topics")) {
        Struct& topic_entry = body.add("Topics");
        topic_entry.set("Name", topic.string("Name"));
        for (const Struct& partition : topic.array("Partitions")) {
            Struct& entry = topic_entry.add("Partitions");
            entry.set("PartitionIndex", partition.integer("PartitionIndex"));
            entry.set("ErrorCode", code(error));
        }
    }
    reply(request, body, respond);
}

void Broker::Impl::schedule_transaction_expiry() {
    loop_.add_timer(clock_.now_micros() + kExpiryCheckMicros, [this] {
        transactions_.abort_expired();
        if (loop_.running()) schedule_transaction_expiry();
    });
}

}  // namespace millrace::kafka
