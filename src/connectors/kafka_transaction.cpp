#include "connectors/kafka_transaction.h"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <charconv>

#include "connectors/kafka_sink.h"
#include "connectors/kafka_source.h"

namespace millrace {

namespace {

// How long one transactional call (init, send offsets, commit, abort) may take. librdkafka
// retries inside it; past it the call fails and the run with it.
constexpr int kTransactionCallTimeoutMs = 60000;
// Kafka's default transaction.max.timeout.ms: a longer transaction timeout is refused.
constexpr int64_t kMaxTransactionTimeoutMs = 900000;
constexpr int kCommitAttempts = 3;

/// Takes ownership of `error`: its text, and whether it is fatal, retriable or asks for an abort.
struct TransactionError {
    explicit TransactionError(rd_kafka_error_t* error)
        : text(rd_kafka_error_string(error)),
          fatal(rd_kafka_error_is_fatal(error) != 0),
          retriable(rd_kafka_error_is_retriable(error) != 0),
          requires_abort(rd_kafka_error_txn_requires_abort(error) != 0) {
        rd_kafka_error_destroy(error);
    }
    std::string text;
    bool fatal;
    bool retriable;
    bool requires_abort;
};

void add_unique(std::vector<std::string>& topics, const std::string& topic) {
    if (std::find(topics.begin(), topics.end(), topic) == topics.end()) topics.push_back(topic);
}

std::optional<int64_t> parse_ms(const std::string& text) {
    int64_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

}  // namespace

Result<std::unique_ptr<KafkaTransaction>> KafkaTransaction::create(
    const SinkSpec& spec, const std::string& transactional_id,
    std::chrono::milliseconds checkpoint_interval) {
    std::unique_ptr<KafkaTransaction> transaction(new KafkaTransaction());
    transaction->bootstrap_ = kafka_bootstrap_servers(spec.brokers);
    transaction->properties_ = spec.properties;
    auto configured_id = spec.properties.find("transactional.id");
    transaction->transactional_id_ =
        configured_id != spec.properties.end() ? configured_id->second : transactional_id;
    transaction->marker_group_ = "millrace-commits." + transaction->transactional_id_;
    transaction->marker_topic_ = spec.topic;
    const int64_t interval_ms = checkpoint_interval.count();
    auto configured_timeout = spec.properties.find("transaction.timeout.ms");
    if (configured_timeout != spec.properties.end()) {
        std::optional<int64_t> timeout = parse_ms(configured_timeout->second);
        if (timeout && *timeout <= interval_ms) {
            return Error(ErrorCode::kConfig,
                         fmt::format("kafka sink `{}`: transaction.timeout.ms {} is not longer "
                                     "than the checkpoint interval ({} ms): every transaction "
                                     "would time out before its checkpoint commits it",
                                     spec.topic, *timeout, interval_ms),
                         spec.location);
        }
        transaction->timeout_ms_ = timeout.value_or(0);
    } else {
        transaction->timeout_ms_ =
            std::min(std::max<int64_t>(60000, 4 * interval_ms), kMaxTransactionTimeoutMs);
        if (transaction->timeout_ms_ <= interval_ms) {
            return Error(ErrorCode::kConfig,
                         fmt::format("kafka sink `{}`: the checkpoint interval ({} ms) is not "
                                     "shorter than Kafka's longest transaction ({} ms); "
                                     "shorten checkpoint_interval",
                                     spec.topic, interval_ms, kMaxTransactionTimeoutMs),
                         spec.location);
        }
    }
    std::map<std::string, std::string> settings{
        {"transactional.id", transaction->transactional_id_},
        {"transaction.timeout.ms", std::to_string(transaction->timeout_ms_)},
        // librdkafka requires message.timeout.ms <= transaction.timeout.ms.
        {"message.timeout.ms", std::to_string(std::min<int64_t>(60000, transaction->timeout_ms_))},
    };
    MILLRACE_ASSIGN_OR_RETURN(transaction->producer_, KafkaSink::new_producer(spec, settings));
    return transaction;
}

KafkaTransaction::~KafkaTransaction() {
    if (producer_ == nullptr) return;
    rd_kafka_purge(producer_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_destroy(producer_);
}

bool KafkaTransaction::serves(const SinkSpec& spec) const {
    return kafka_bootstrap_servers(spec.brokers) == bootstrap_ && spec.properties == properties_;
}

Error KafkaTransaction::failure(const char* what, const std::string& detail, bool fatal) const {
    std::string message =
        fmt::format("kafka transaction `{}`: {}: {}", transactional_id_, what, detail);
    if (fatal) {
        message += fmt::format(
            " (the producer was fenced: the brokers aborted the transaction, which happens when "
            "it stays open longer than transaction.timeout.ms ({} ms; raise it in the sink's "
            "properties, above the checkpoint interval and the time a checkpoint takes), or "
            "another producer took over transactional.id `{}`); the run restarts from its last "
            "complete checkpoint",
            timeout_ms_, transactional_id_);
    }
    return Error(ErrorCode::kUnavailable, std::move(message));
}

Status KafkaTransaction::initialize() {
    if (initialized_) return {};
    // Fences any earlier producer with this transactional.id and ends what it left open:
    // aborted, or committed when its commit was already decided.
    rd_kafka_error_t* error = rd_kafka_init_transactions(producer_, kTransactionCallTimeoutMs);
    if (error != nullptr) {
        TransactionError e(error);
        return failure("init_transactions", e.text, e.fatal);
    }
    initialized_ = true;
    return {};
}

Status KafkaTransaction::begin() {
    if (open_) return {};
    MILLRACE_TRY(initialize());
    rd_kafka_error_t* error = rd_kafka_begin_transaction(producer_);
    if (error != nullptr) {
        TransactionError e(error);
        return failure("begin_transaction", e.text, e.fatal);
    }
    open_ = true;
    return {};
}

void KafkaTransaction::abort() {
    if (!open_) return;
    open_ = false;
    // A failed abort leaves the transaction to the next producer with this id or to the
    // brokers' timeout; either aborts it.
    if (rd_kafka_error_t* error = rd_kafka_abort_transaction(producer_, kTransactionCallTimeoutMs))
        rd_kafka_error_destroy(error);
}

Status KafkaTransaction::commit(uint64_t id) {
    if (!open_ || committed_ == id) return {};
    rd_kafka_topic_partition_list_t* offsets = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(offsets, marker_topic_.c_str(), 0)->offset =
        static_cast<int64_t>(id);
    rd_kafka_consumer_group_metadata_t* group =
        rd_kafka_consumer_group_metadata_new(marker_group_.c_str());
    rd_kafka_error_t* error =
        rd_kafka_send_offsets_to_transaction(producer_, offsets, group, kTransactionCallTimeoutMs);
    rd_kafka_consumer_group_metadata_destroy(group);
    rd_kafka_topic_partition_list_destroy(offsets);
    for (int attempt = 1; error == nullptr; ++attempt) {
        error = rd_kafka_commit_transaction(producer_, kTransactionCallTimeoutMs);
        if (error == nullptr) {
            open_ = false;
            committed_ = id;
            return {};
        }
        if (!rd_kafka_error_is_retriable(error) || attempt == kCommitAttempts) break;
        rd_kafka_error_destroy(error);
        error = nullptr;
    }
    TransactionError e(error);
    if (e.requires_abort) abort();
    return failure(fmt::format("committing checkpoint {}", id).c_str(), e.text, e.fatal);
}

void KafkaTransaction::add_topic(const std::string& topic) { add_unique(topics_, topic); }

Error KafkaTransaction::explain(Error error) const {
    char detail[512];
    if (rd_kafka_fatal_error(producer_, detail, sizeof detail) == RD_KAFKA_RESP_ERR_NO_ERROR)
        return error;
    return failure("producing", error.message() + "; " + detail, true);
}

Result<std::vector<uint64_t>> KafkaTransaction::committed_markers() {
    // First end what a dead run left open, so that the markers read next are final.
    MILLRACE_TRY(initialize());
    char errstr[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    std::map<std::string, std::string> settings = properties_;
    // Producer settings mean nothing to the reader (librdkafka would warn about each).
    for (const char* key : {"transactional.id", "transaction.timeout.ms", "linger.ms", "acks",
                            "enable.idempotence", "message.timeout.ms", "compression.type"})
        settings.erase(key);
    settings["bootstrap.servers"] = bootstrap_;
    settings["group.id"] = marker_group_;
    settings["enable.auto.commit"] = "false";
    settings["isolation.level"] = "read_committed";
    settings["client.id"] = "millrace";
    for (const auto& [key, value] : settings) {
        if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr, sizeof errstr) !=
            RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(conf);
            return Error(ErrorCode::kConfig,
                         fmt::format("kafka transaction `{}`: property `{}`: {}", transactional_id_,
                                     key, errstr));
        }
    }
    rd_kafka_t* consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (consumer == nullptr) {
        rd_kafka_conf_destroy(conf);
        return Error(ErrorCode::kConfig,
                     fmt::format("kafka transaction `{}`: cannot create a consumer: {}",
                                 transactional_id_, errstr));
    }
    std::vector<std::string> topics = topics_;
    add_unique(topics, marker_topic_);
    rd_kafka_topic_partition_list_t* partitions =
        rd_kafka_topic_partition_list_new(static_cast<int>(topics.size()));
    for (const std::string& topic : topics)
        rd_kafka_topic_partition_list_add(partitions, topic.c_str(), 0);
    rd_kafka_resp_err_t failed =
        rd_kafka_committed(consumer, partitions, kTransactionCallTimeoutMs);
    std::vector<uint64_t> markers;
    for (int i = 0; i < partitions->cnt; ++i) {
        const rd_kafka_topic_partition_t& marker = partitions->elems[i];
        if (failed == RD_KAFKA_RESP_ERR_NO_ERROR) failed = marker.err;
        if (marker.offset >= 0) markers.push_back(static_cast<uint64_t>(marker.offset));
    }
    rd_kafka_topic_partition_list_destroy(partitions);
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);
    if (failed != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return Error(
            ErrorCode::kUnavailable,
            fmt::format("kafka transaction `{}`: cannot read which checkpoint it "
                        "committed last (group `{}`) from the brokers {}: {}",
                        transactional_id_, marker_group_, bootstrap_, rd_kafka_err2str(failed)));
    }
    return markers;
}

}  // namespace millrace
