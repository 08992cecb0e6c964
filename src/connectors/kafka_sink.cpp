#include "connectors/kafka_sink.h"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>

#include "connectors/kafka_source.h"
#include "connectors/kafka_transaction.h"
#include "formats/json_encoder.h"
#include "types/value.h"

namespace millrace {

namespace {

// How long pre_commit() waits for the outstanding deliveries; message.timeout.ms (set below
// and overridable through `properties:`) fails each record before that.
constexpr int kFlushTimeoutMs = 120000;

// Each record carries the sink that produced it (a transactional producer is shared by all the
// kafka: sinks of a pipeline).
void delivery_callback(rd_kafka_t* /*producer*/, const rd_kafka_message_t* message,
                       void* /*opaque*/) {
    if (message->_private == nullptr) return;
    static_cast<KafkaSink*>(message->_private)
        ->on_delivery(static_cast<int>(message->err), message->err != RD_KAFKA_RESP_ERR_NO_ERROR
                                                          ? rd_kafka_err2str(message->err)
                                                          : "");
}

}  // namespace

Result<rd_kafka_s*> KafkaSink::new_producer(const SinkSpec& spec,
                                            const std::map<std::string, std::string>& settings) {
    const std::string what = fmt::format("kafka sink `{}`", spec.topic);
    char errstr[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    auto set = [&](const std::string& key, const std::string& value) -> Status {
        if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr, sizeof errstr) !=
            RD_KAFKA_CONF_OK) {
            return Error(ErrorCode::kConfig,
                         fmt::format("{}: kafka property `{}`: {}", what, key, errstr),
                         spec.location);
        }
        return {};
    };
    Status configured = [&]() -> Status {
        MILLRACE_TRY(set("bootstrap.servers", kafka_bootstrap_servers(spec.brokers)));
        MILLRACE_TRY(set("client.id", "millrace"));
        MILLRACE_TRY(set("acks", "all"));
        MILLRACE_TRY(set("enable.idempotence", "true"));
        MILLRACE_TRY(set("message.timeout.ms", "60000"));
        MILLRACE_TRY(set("linger.ms", "5"));
        for (const auto& [key, value] : settings) MILLRACE_TRY(set(key, value));
        for (const auto& [key, value] : spec.properties) MILLRACE_TRY(set(key, value));
        return {};
    }();
    if (!configured.ok()) {
        rd_kafka_conf_destroy(conf);
        return configured.error();
    }
    rd_kafka_conf_set_dr_msg_cb(conf, delivery_callback);
    rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (producer == nullptr) {
        rd_kafka_conf_destroy(conf);
        return Error(ErrorCode::kConfig,
                     fmt::format("{}: cannot create a Kafka producer: {}", what, errstr),
                     spec.location);
    }
    return producer;
}

Result<std::unique_ptr<KafkaSink>> KafkaSink::create(const SinkSpec& spec, const Schema& schema,
                                                     KafkaTransaction* transaction) {
    auto sink = std::make_unique<KafkaSink>();
    sink->topic_name_ = spec.topic;
    const std::string what = fmt::format("kafka sink `{}`", spec.topic);
    for (const std::string& column : spec.key) {
        auto index = schema.index_of(column);
        if (!index) {
            return Error(ErrorCode::kNotFound,
                         fmt::format("{}: unknown key column `{}`", what, column), spec.location);
        }
        sink->key_indexes_.push_back(*index);
    }
    const std::string brokers = kafka_bootstrap_servers(spec.brokers);
    if (transaction != nullptr) {
        sink->transaction_ = transaction;
        sink->producer_ = transaction->producer();
        transaction->add_topic(spec.topic);
    } else {
        MILLRACE_ASSIGN_OR_RETURN(sink->producer_, new_producer(spec, {}));
    }
    // Ask for the topic now, so a cluster that is down or a missing topic fails the run before
    // it reads anything, within a bounded time.
    rd_kafka_topic_t* topic = rd_kafka_topic_new(sink->producer_, spec.topic.c_str(), nullptr);
    const rd_kafka_metadata_t* metadata = nullptr;
    const int timeout_ms = static_cast<int>(kKafkaConnectTimeout.count());
    const rd_kafka_resp_err_t err =
        rd_kafka_metadata(sink->producer_, 0, topic, &metadata, timeout_ms);
    rd_kafka_topic_destroy(topic);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return Error(ErrorCode::kUnavailable,
                     fmt::format("{}: no answer from the Kafka brokers {} within {}s ({}); are "
                                 "they running?",
                                 what, brokers, timeout_ms / 1000, rd_kafka_err2str(err)),
                     spec.location);
    }
    rd_kafka_resp_err_t topic_err = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
    if (metadata->topic_cnt == 1) topic_err = metadata->topics[0].err;
    rd_kafka_metadata_destroy(metadata);
    if (topic_err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return Error(ErrorCode::kNotFound,
                     fmt::format("{}: topic `{}` on the Kafka brokers {}: {}", what, spec.topic,
                                 brokers, rd_kafka_err2str(topic_err)),
                     spec.location);
    }
    return sink;
}

KafkaSink::~KafkaSink() {
    if (producer_ == nullptr) return;
    // Destroying an uncommitted sink is an abort: what was not sent yet is dropped. The
    // reports of the purged records are served now, while every sink sharing a transactional
    // producer is still alive (the first one destroyed serves them all).
    rd_kafka_purge(producer_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    if (transaction_ != nullptr) {
        rd_kafka_poll(producer_, 0);
        return;
    }
    rd_kafka_flush(producer_, 1000);
    rd_kafka_destroy(producer_);
}

void KafkaSink::on_delivery(int error, const char* message) {
    if (error == RD_KAFKA_RESP_ERR_NO_ERROR) return;
    if (failed_++ == 0) first_failure_ = message;
}

Status KafkaSink::delivery_status() const {
    if (failed_ == 0) return {};
    Error error(ErrorCode::kUnavailable,
                fmt::format("kafka sink `{}`: {} record(s) were not delivered: {}", topic_name_,
                            failed_, first_failure_));
    return transaction_ != nullptr ? transaction_->explain(std::move(error)) : error;
}

Status KafkaSink::write(Batch batch) {
    const std::size_t n = batch.num_rows();
    if (n == 0) return {};
    if (transaction_ != nullptr) MILLRACE_TRY(transaction_->begin());
    buffer_.clear();
    JsonEncoder encoder;
    encoder.encode(batch, buffer_);  // one line per row
    std::string key;
    std::size_t start = 0;
    for (std::size_t r = 0; r < n; ++r) {
        const std::size_t end = buffer_.find('\n', start);
        const std::string_view value = std::string_view(buffer_).substr(start, end - start);
        start = end + 1;
        key.clear();
        for (std::size_t k = 0; k < key_indexes_.size(); ++k) {
            if (k > 0) key += ':';
            key += batch.value_at(r, key_indexes_[k]).to_string();
        }
        while (true) {
            const rd_kafka_resp_err_t err = rd_kafka_producev(
                producer_, RD_KAFKA_V_TOPIC(topic_name_.c_str()),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(this),
                RD_KAFKA_V_KEY(key_indexes_.empty() ? nullptr : key.data(),
                               key_indexes_.empty() ? 0 : key.size()),
                RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()), RD_KAFKA_V_END);
            if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
            if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                return Error(
                    ErrorCode::kUnavailable,
                    fmt::format("kafka sink `{}`: {}", topic_name_, rd_kafka_err2str(err)));
            }
            rd_kafka_poll(producer_, 100);  // the local queue is full: let deliveries drain
            MILLRACE_TRY(delivery_status());
        }
    }
    rd_kafka_poll(producer_, 0);  // delivery reports so far
    rows_ += n;
    return delivery_status();
}

Status KafkaSink::pre_commit(uint64_t commit_id) {
    MILLRACE_TRY(ids_.check_pre_commit(commit_id));
    const rd_kafka_resp_err_t err = rd_kafka_flush(producer_, kFlushTimeoutMs);
    MILLRACE_TRY(delivery_status());
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return Error(
            ErrorCode::kUnavailable,
            fmt::format("kafka sink `{}`: {} record(s) still undelivered after {}s", topic_name_,
                        rd_kafka_outq_len(producer_), kFlushTimeoutMs / 1000));
    }
    ids_.pre_committed(commit_id);
    return {};
}

Status KafkaSink::commit(uint64_t commit_id) {
    MILLRACE_ASSIGN_OR_RETURN(bool replay, ids_.check_commit(commit_id));
    if (replay) return {};
    // The transaction holds every kafka: sink's records: the first sink to commit (or the
    // runner, before every other sink) commits it; for the others this is a no-op.
    if (transaction_ != nullptr) MILLRACE_TRY(transaction_->commit(commit_id));
    ids_.committed(commit_id);
    return {};
}

Status KafkaSink::recover(uint64_t committed) {
    // Nothing is staged here: the pipeline decided the restored checkpoint from the
    // transaction's marker before any sink recovers (pipeline/checkpoint_decision.h), and
    // the first write's init_transactions aborts whatever else the dead run left open.
    if (committed != 0) ids_.committed(committed);
    return {};
}

void KafkaSink::abort() {
    rd_kafka_purge(producer_, RD_KAFKA_PURGE_F_QUEUE);
    rd_kafka_poll(producer_, 0);
    if (transaction_ != nullptr) transaction_->abort();
    failed_ = 0;
    first_failure_.clear();
    ids_.aborted();
}

}  // namespace millrace
