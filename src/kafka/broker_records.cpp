#include <algorithm>
#include <atomic>
#include <functional>
#include <optional>
#include <string>

#include "kafka/broker_impl.h"
#include "log/log.h"
#include "log/partition.h"
#include "log/record_batch.h"
#include "log/topic.h"

namespace millrace::kafka {

namespace {

constexpr int64_t kLatestTimestamp = -1;
constexpr int64_t kEarliestTimestamp = -2;

/// The records section of a Produce partition, split into batches and each checked.
struct CheckedBatches {
    std::vector<std::string> batches;
    KafkaError error = KafkaError::kNone;
    int64_t producer_id = -1;  // of transactional batches (all the same producer)
    int16_t epoch = -1;
};

CheckedBatches check_batches(std::string_view records, bool transactional) {
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
        // Markers are the coordinator's to write; a transactional batch needs a transactional
        // request, whose partitions the coordinator knows.
        if (header.control() || header.transactional() != transactional) {
            out.error = KafkaError::kInvalidRecord;
            return out;
        }
        if (transactional && out.producer_id < 0) {
            out.producer_id = header.producer_id;
            out.epoch = header.producer_epoch;
        } else if (transactional &&
                   (out.producer_id != header.producer_id || out.epoch != header.producer_epoch)) {
            out.error = KafkaError::kInvalidRecord;
            return out;
        }
        out.batches.emplace_back(batch);
        records.remove_prefix(header.total_size());
    }
    return out;
}

/// Why a record of `batches` (checked ones) is not in the schema registry's wire format with a
/// known schema id (nullopt: every one is), for topics with `require_schema`.
std::optional<std::string> unregistered_record(const std::vector<std::string>& batches,
                                               const std::function<bool(int64_t)>& known) {
    std::string expanded;
    std::vector<RecordView> records;
    for (const std::string& batch : batches) {
        std::string_view plain = batch;
        Result<bool> decompressed = record_batch::decompress_all(batch, expanded);
        if (!decompressed.ok()) return decompressed.error().message();
        if (*decompressed) plain = expanded;
        records.clear();
        if (Status decoded = record_batch::decode(plain, 0, records); !decoded.ok())
            return decoded.error().message();
        for (const RecordView& record : records) {
            const std::string_view value = record.value;
            if (value.size() < 5 || value[0] != 0) {
                return "record " + std::to_string(record.offset) +
                       " of the batch is not in the schema registry's wire format (magic byte 0 "
                       "and a 4-byte schema id)";
            }
            const auto byte = [&](std::size_t at) {
                return static_cast<uint32_t>(static_cast<unsigned char>(value[at]));
            };
            const auto id =
                static_cast<int64_t>((byte(1) << 24) | (byte(2) << 16) | (byte(3) << 8) | byte(4));
            if (!known || !known(id))
                return "schema id " + std::to_string(id) + " is not in the schema registry";
        }
    }
    return std::nullopt;
}

}  // namespace

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
            const bool transactional = !request.body.is_null("TransactionalId");
            CheckedBatches checked = check_batches(partition_data.string("Records"), transactional);
            if (checked.error == KafkaError::kNone && topic->config().require_schema) {
                // INVALID_RECORD, as Kafka brokers with schema validation answer; the reason
                // goes to the log (Produce below v8 has no error message).
                if (auto why = unregistered_record(checked.batches, options_.schema_exists)) {
                    logger_.warn("kafka", "produce refused: the topic requires registered schemas",
                                 {{"topic", name},
                                  {"partition", static_cast<int64_t>(index)},
                                  {"reason", *why}});
                    BrokerMetrics::count(metrics_.refused);
                    fail(KafkaError::kInvalidRecord);
                    continue;
                }
            }
            const std::shared_ptr<Partition>& partition = topic->partition(index);
            Result<ProduceOutcome> appended = ProduceOutcome{};
            auto append = [&] { appended = producers_.append(name, *partition, checked.batches); };
            if (checked.error == KafkaError::kNone) {
                if (transactional) {
                    checked.error = transactions_.produce(request.body.string("TransactionalId"),
                                                          checked.producer_id, checked.epoch, name,
                                                          index, append);
                } else {
                    append();
                }
            }
            if (checked.error != KafkaError::kNone) {
                logger_.warn("kafka", "produce refused",
                             {{"topic", name},
                              {"partition", static_cast<int64_t>(index)},
                              {"error", static_cast<int64_t>(checked.error)}});
                BrokerMetrics::count(metrics_.refused);
                fail(checked.error);
                continue;
            }
            entry.set("LogStartOffset", partition->start_offset());
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
    AppendSignal& appends = log_.appends();
    uint64_t seen = appends.generation();
    if (try_fetch(shared, shared_respond, wait_ms == 0 ? 0 : deadline)) return;
    // Long poll: look again on the loop after each append to the log, and answer with what
    // there is at the deadline. The deadline timer owns the poll; the log's signal holds it
    // weakly, so a fetch still waiting when the loop stops is freed with the loop's timers.
    struct Waiting {
        std::function<void()> poll;
        bool done = false;  // loop thread only
    };
    auto waiting = std::make_shared<Waiting>();
    std::weak_ptr<Waiting> weak = waiting;
    auto wait_for_append = [this, &appends, weak](uint64_t generation) {
        appends.wait_once(generation, weak, [this, weak] {
            loop_.post([weak] {
                if (auto self = weak.lock()) self->poll();
            });
        });
    };
    waiting->poll = [this, shared, shared_respond, deadline, weak, wait_for_append, &appends] {
        auto self = weak.lock();
        if (!self || self->done) return;
        const uint64_t generation = appends.generation();
        if (try_fetch(shared, shared_respond, deadline)) {
            self->done = true;
            return;
        }
        wait_for_append(generation);
    };
    loop_.post([this, waiting, shared, shared_respond, deadline, wait_for_append, seen] {
        loop_.add_timer(deadline, [this, waiting, shared, shared_respond] {
            if (waiting->done) return;
            waiting->done = true;
            try_fetch(shared, shared_respond, 0);  // time is up: answer with what there is
        });
        wait_for_append(seen);
    });
}

bool Broker::Impl::try_fetch(const std::shared_ptr<Request>& request,
                             const std::shared_ptr<Respond>& respond, int64_t deadline) {
    const Struct& in = request->body;
    Struct body(request->api->response);
    const int64_t max_bytes = std::max<int64_t>(1, in.integer("MaxBytes"));
    const bool read_committed = in.integer("IsolationLevel") == 1;
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
            const Offset stable = partition->stable_offset();
            entry.set("HighWatermark", end);
            entry.set("LastStableOffset", stable);
            entry.set("LogStartOffset", partition->start_offset());
            entry.set("Records", std::string());
            const Offset offset = partition_request.integer("FetchOffset");
            if (offset < partition->start_offset() || offset > end) {
                entry.set("ErrorCode", code(KafkaError::kOffsetOutOfRange));
                continue;
            }
            // KIP-74: the response's first batch goes out whole even beyond the limits; once
            // the response is full, the other partitions get nothing this time.
            // read_committed (isolation level 1) stops at the last stable offset.
            const Offset visible = read_committed ? stable : end;
            if (offset >= visible || (total > 0 && total >= max_bytes)) continue;
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
            if (read_committed) {
                // Whole batches only, none from an open transaction; the client drops the
                // records of the aborted transactions listed (it reads their markers too).
                std::size_t keep = 0;
                Offset last = offset;
                while (keep + record_batch::kHeaderSize <= batches.size()) {
                    const record_batch::Header header =
                        record_batch::read_header(batches.data() + keep);
                    if (header.base_offset >= stable) break;
                    last = header.last_offset();
                    keep += header.total_size();
                }
                batches.resize(keep);
                if (keep == 0) continue;
                for (const AbortedTransaction& aborted :
                     partition->aborted_transactions(offset, last)) {
                    Struct& item = entry.add("AbortedTransactions");
                    item.set("ProducerId", aborted.producer_id);
                    item.set("FirstOffset", aborted.first_offset);
                }
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
    const bool read_committed = request.body.integer("IsolationLevel") == 1;
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
                // read_committed consumers start at the last stable offset, others at the end.
                entry.set("Offset",
                          read_committed ? partition->stable_offset() : partition->end_offset());
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

void Broker::Impl::init_producer_id(Request& request, Respond& respond) {
    Struct body(request.api->response);
    if (!request.body.is_null("TransactionalId")) {
        // The transactional id's producer, fencing (and aborting the transaction of) any
        // earlier incarnation.
        const TransactionalProducer producer = transactions_.init_producer(
            request.body.string("TransactionalId"),
            static_cast<int32_t>(request.body.integer("TransactionTimeoutMs")));
        body.set("ErrorCode", code(producer.error));
        body.set("ProducerId", producer.producer_id);
        body.set("ProducerEpoch", producer.epoch);
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

}  // namespace millrace::kafka
