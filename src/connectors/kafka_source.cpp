#include "connectors/kafka_source.h"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <cstdio>

#include "formats/json_decoder.h"

namespace millrace {

std::string kafka_bootstrap_servers(const std::vector<std::string>& brokers) {
    std::string out;
    for (const std::string& broker : brokers) out += (out.empty() ? "" : ",") + broker;
    return out;
}

namespace {

// How long a bounded source waits for the group to assign it partitions (a first rebalance
// waits for the other members of the group) before it fails instead of hanging.
constexpr std::chrono::seconds kAssignTimeout{60};

void rebalance_callback(rd_kafka_t* /*consumer*/, rd_kafka_resp_err_t error,
                        rd_kafka_topic_partition_list_t* partitions, void* opaque) {
    static_cast<KafkaSource*>(opaque)->on_rebalance(static_cast<int>(error), partitions);
}

}  // namespace

Result<std::unique_ptr<KafkaSource>> KafkaSource::open(const SourceSpec& spec,
                                                       const std::string& default_group, Mode mode,
                                                       bool connect) {
    auto source = std::make_unique<KafkaSource>();
    source->name_ = spec.name;
    source->topic_name_ = spec.topic;
    source->mode_ = mode;
    source->brokers_ = kafka_bootstrap_servers(spec.brokers);
    if (!spec.schema) {
        return Error(ErrorCode::kConfig,
                     fmt::format("source `{}`: a kafka source needs a `schema:` (its records are "
                                 "JSON objects decoded through it)",
                                 spec.name),
                     spec.location);
    }
    source->schema_ = std::make_shared<const Schema>(*spec.schema);
    if (!connect) return source;

    char errstr[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    auto set = [&](const std::string& key, const std::string& value) -> Status {
        if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr, sizeof errstr) !=
            RD_KAFKA_CONF_OK) {
            return Error(
                ErrorCode::kConfig,
                fmt::format("source `{}`: kafka property `{}`: {}", spec.name, key, errstr),
                spec.location);
        }
        return {};
    };
    Status configured = [&]() -> Status {
        MILLRACE_TRY(set("bootstrap.servers", source->brokers_));
        MILLRACE_TRY(set("group.id", spec.group.empty() ? default_group : spec.group));
        MILLRACE_TRY(set("client.id", "millrace"));
        MILLRACE_TRY(set("enable.auto.commit", "false"));
        MILLRACE_TRY(set("enable.auto.offset.store", "false"));
        MILLRACE_TRY(set("enable.partition.eof", "true"));
        MILLRACE_TRY(set("auto.offset.reset",
                         spec.start_from == StartFrom::kLatest ? "latest" : "earliest"));
        for (const auto& [key, value] : spec.properties) MILLRACE_TRY(set(key, value));
        return {};
    }();
    if (!configured.ok()) {
        rd_kafka_conf_destroy(conf);
        return configured.error();
    }
    rd_kafka_conf_set_opaque(conf, source.get());
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_callback);
    source->consumer_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (source->consumer_ == nullptr) {
        rd_kafka_conf_destroy(conf);
        return Error(
            ErrorCode::kConfig,
            fmt::format("source `{}`: cannot create a Kafka consumer: {}", spec.name, errstr),
            spec.location);
    }
    rd_kafka_poll_set_consumer(source->consumer_);
    source->topic_ = rd_kafka_topic_new(source->consumer_, spec.topic.c_str(), nullptr);
    const int timeout_ms = static_cast<int>(kKafkaConnectTimeout.count());
    const rd_kafka_metadata_t* metadata = nullptr;
    rd_kafka_resp_err_t err =
        rd_kafka_metadata(source->consumer_, 0, source->topic_, &metadata, timeout_ms);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return Error(
            ErrorCode::kUnavailable,
            fmt::format("source `{}`: no answer from the Kafka brokers {} within {}s "
                        "({}); are they running?",
                        spec.name, source->brokers_, timeout_ms / 1000, rd_kafka_err2str(err)),
            spec.location);
    }
    int partitions = 0;
    rd_kafka_resp_err_t topic_err = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
    if (metadata->topic_cnt == 1) {
        topic_err = metadata->topics[0].err;
        partitions = metadata->topics[0].partition_cnt;
    }
    rd_kafka_metadata_destroy(metadata);
    if (topic_err != RD_KAFKA_RESP_ERR_NO_ERROR || partitions == 0) {
        return Error(
            ErrorCode::kNotFound,
            fmt::format("source `{}`: topic `{}` on the Kafka brokers {}: {}", spec.name,
                        spec.topic, source->brokers_,
                        topic_err != RD_KAFKA_RESP_ERR_NO_ERROR ? rd_kafka_err2str(topic_err)
                                                                : "it has no partitions"),
            spec.location);
    }
    const auto count = static_cast<std::size_t>(partitions);
    source->next_.assign(count, -1);
    source->end_.assign(count, 0);
    source->assigned_.assign(count, false);
    source->done_.assign(count, false);
    for (int p = 0; p < partitions; ++p) {
        source->unit_names_.push_back(fmt::format("kafka topic {} partition {}", spec.topic, p));
        if (mode != Mode::kBounded) continue;
        int64_t low = 0;
        int64_t high = 0;
        err = rd_kafka_query_watermark_offsets(source->consumer_, spec.topic.c_str(), p, &low,
                                               &high, timeout_ms);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            return Error(ErrorCode::kUnavailable,
                         fmt::format("source `{}`: the end offset of topic `{}` partition {}: {}",
                                     spec.name, spec.topic, p, rd_kafka_err2str(err)),
                         spec.location);
        }
        source->end_[static_cast<std::size_t>(p)] = high;
    }
    rd_kafka_topic_partition_list_t* subscription = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(subscription, spec.topic.c_str(), RD_KAFKA_PARTITION_UA);
    err = rd_kafka_subscribe(source->consumer_, subscription);
    rd_kafka_topic_partition_list_destroy(subscription);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return Error(ErrorCode::kUnavailable,
                     fmt::format("source `{}`: subscribing to topic `{}`: {}", spec.name,
                                 spec.topic, rd_kafka_err2str(err)),
                     spec.location);
    }
    source->opened_ = std::chrono::steady_clock::now();
    return source;
}

KafkaSource::~KafkaSource() {
    if (held_ != nullptr) rd_kafka_message_destroy(held_);
    if (topic_ != nullptr) rd_kafka_topic_destroy(topic_);
    if (consumer_ != nullptr) {
        if (assigned_once_) {
            rd_kafka_consumer_close(consumer_);  // leaves the group at once
            rd_kafka_destroy(consumer_);
        } else {
            // Never joined (the brokers were not reached): nothing to leave.
            rd_kafka_destroy_flags(consumer_, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
        }
    }
}

void KafkaSource::resume_assigned(rd_kafka_topic_partition_list_t* partitions) {
    bool any = false;
    for (int i = 0; i < partitions->cnt; ++i) {
        const auto p = static_cast<std::size_t>(partitions->elems[i].partition);
        any = any || (p < resume_.size() && resume_[p] >= 0);
    }
    if (!any) return;  // the group's committed offsets, as librdkafka fetches them
    // The group's committed offsets, to compare with the restored ones (RD_KAFKA_OFFSET_INVALID
    // where there are none). Failing that, the restored ones alone.
    const rd_kafka_resp_err_t err =
        rd_kafka_committed(consumer_, partitions, static_cast<int>(kKafkaConnectTimeout.count()));
    for (int i = 0; i < partitions->cnt; ++i) {
        rd_kafka_topic_partition_t& partition = partitions->elems[i];
        const auto p = static_cast<std::size_t>(partition.partition);
        if (p >= resume_.size() || resume_[p] < 0) continue;
        const bool committed_known = err == RD_KAFKA_RESP_ERR_NO_ERROR && partition.offset >= 0;
        if (!committed_known || partition.offset < resume_[p]) partition.offset = resume_[p];
        next_[p] = partition.offset;
    }
}

void KafkaSource::on_rebalance(int error, rd_kafka_topic_partition_list_t* partitions) {
    const auto code = static_cast<rd_kafka_resp_err_t>(error);
    if (code == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        std::fill(assigned_.begin(), assigned_.end(), false);
        for (int i = 0; i < partitions->cnt; ++i) {
            const auto p = static_cast<std::size_t>(partitions->elems[i].partition);
            if (p < assigned_.size()) assigned_[p] = true;
        }
        assigned_once_ = true;
        resume_assigned(partitions);
        rd_kafka_assign(consumer_, partitions);
        // Which process reads what is an operator's first question when several share a group.
        std::string list;
        for (int i = 0; i < partitions->cnt; ++i)
            list += fmt::format("{}{}", i == 0 ? "" : ", ", partitions->elems[i].partition);
        std::fprintf(stderr,
                     "source `%s`: the Kafka group assigned partitions [%s] of topic `%s`\n",
                     name_.c_str(), list.c_str(), topic_name_.c_str());
    } else {
        // Revoked: another member reads these partitions from the group's committed offsets
        // now, so what this run delivered and did not commit may be read again there.
        for (int i = 0; i < partitions->cnt; ++i) {
            const auto p = static_cast<std::size_t>(partitions->elems[i].partition);
            if (p < assigned_.size()) {
                assigned_[p] = false;
                next_[p] = -1;
            }
        }
        if (held_ != nullptr) {
            rd_kafka_message_destroy(held_);
            held_ = nullptr;
        }
        rd_kafka_assign(consumer_, nullptr);
    }
}

bool KafkaSource::finished() const {
    if (mode_ != Mode::kBounded || !assigned_once_) return false;
    for (std::size_t p = 0; p < assigned_.size(); ++p) {
        if (assigned_[p] && !done_[p] && end_[p] > std::max<int64_t>(next_[p], 0)) return false;
    }
    return true;
}

Result<PollResult> KafkaSource::poll(DecodeSink& sink, std::size_t max_records,
                                     Listener* listener) {
    if (consumer_ == nullptr)
        return Error(ErrorCode::kInternal, fmt::format("source `{}` is not connected", name_));
    JsonDecoder decoder(schema_);
    std::size_t delivered = 0;
    bool started = false;
    while (delivered < std::max<std::size_t>(max_records, 1)) {
        rd_kafka_message_t* message = held_;
        held_ = nullptr;
        if (message == nullptr)
            message = rd_kafka_consumer_poll(consumer_, delivered == 0 && !finished() ? 100 : 0);
        if (message == nullptr) break;
        const auto p = static_cast<std::size_t>(message->partition);
        if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            const rd_kafka_resp_err_t err = message->err;
            const std::string text = rd_kafka_message_errstr(message);
            rd_kafka_message_destroy(message);
            if (err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                if (p < done_.size()) done_[p] = true;
                continue;
            }
            if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
                err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC || err == RD_KAFKA_RESP_ERR__FATAL ||
                err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
                err == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED) {
                return Error(
                    ErrorCode::kUnavailable,
                    fmt::format("source `{}`: Kafka topic `{}`: {}", name_, topic_name_, text));
            }
            continue;  // transient (a broker reconnecting): librdkafka retries
        }
        if (p >= next_.size() || !assigned_[p]) {
            rd_kafka_message_destroy(message);
            continue;
        }
        if (mode_ == Mode::kBounded && message->offset >= end_[p]) {
            done_[p] = true;  // past the end captured at open: the next run's
            rd_kafka_message_destroy(message);
            continue;
        }
        if (started && p != current_) {
            held_ = message;  // one partition per poll
            break;
        }
        if (!started && listener != nullptr) listener->on_unit_start(unit_names_[p]);
        started = true;
        current_ = p;
        const std::string_view value(static_cast<const char*>(message->payload), message->len);
        bytes_read_ += value.size();
        Result<bool> decoded =
            decoder.decode_record(value, static_cast<uint64_t>(message->offset), 0, sink);
        next_[p] = message->offset + 1;
        if (mode_ == Mode::kBounded && next_[p] >= end_[p]) done_[p] = true;
        rd_kafka_message_destroy(message);
        if (!decoded.ok()) return decoded.error();
        ++delivered;
    }
    MILLRACE_TRY(decoder.flush(sink));
    if (delivered > 0) return PollResult::kData;
    if (finished()) return PollResult::kEnd;
    if (mode_ == Mode::kBounded && !assigned_once_ &&
        std::chrono::steady_clock::now() - opened_ > kAssignTimeout) {
        return Error(ErrorCode::kUnavailable,
                     fmt::format("source `{}`: the Kafka group coordinator at {} assigned no "
                                 "partitions of topic `{}` within {}s",
                                 name_, brokers_, topic_name_, kAssignTimeout.count()));
    }
    return PollResult::kIdle;
}

Status KafkaSource::read_to_end(DecodeSink& sink, Listener* listener) {
    constexpr std::size_t kPollRecords = 8192;
    if (mode_ != Mode::kBounded) return SourceReader::read_to_end(sink, listener);
    while (true) {
        MILLRACE_ASSIGN_OR_RETURN(PollResult result, poll(sink, kPollRecords, listener));
        if (result == PollResult::kEnd) return {};
    }
}

SourcePosition KafkaSource::position() const {
    if (next_.empty()) return SourcePosition{};
    return SourcePosition{current_, static_cast<uint64_t>(std::max<int64_t>(next_[current_], 0)),
                          0};
}

Status KafkaSource::seek(const SourcePosition& position) {
    if (position.unit >= next_.size() || position.line != 0 || !assigned_[position.unit]) {
        return Error(ErrorCode::kInvalidArgument,
                     fmt::format("source `{}`: {} is not an assigned partition and offset of "
                                 "Kafka topic `{}`",
                                 name_, position.to_string(), topic_name_));
    }
    const auto offset = static_cast<int64_t>(position.offset);
    const rd_kafka_resp_err_t err =
        rd_kafka_seek(topic_, static_cast<int32_t>(position.unit), offset,
                      static_cast<int>(kKafkaConnectTimeout.count()));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return Error(ErrorCode::kUnavailable,
                     fmt::format("source `{}`: seek: {}", name_, rd_kafka_err2str(err)));
    }
    if (held_ != nullptr) {
        rd_kafka_message_destroy(held_);
        held_ = nullptr;
    }
    next_[position.unit] = offset;
    done_[position.unit] = mode_ == Mode::kBounded && offset >= end_[position.unit];
    current_ = position.unit;
    return {};
}

Status KafkaSource::commit_offsets() {
    if (consumer_ == nullptr) return {};
    rd_kafka_topic_partition_list_t* offsets = rd_kafka_topic_partition_list_new(1);
    for (std::size_t p = 0; p < next_.size(); ++p) {
        if (!assigned_[p] || next_[p] < 0) continue;
        rd_kafka_topic_partition_list_add(offsets, topic_name_.c_str(), static_cast<int32_t>(p))
            ->offset = next_[p];
    }
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (offsets->cnt > 0) err = rd_kafka_commit(consumer_, offsets, 0);
    rd_kafka_topic_partition_list_destroy(offsets);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return Error(ErrorCode::kUnavailable,
                     fmt::format("source `{}`: committing the group's offsets of topic `{}`: {}",
                                 name_, topic_name_, rd_kafka_err2str(err)));
    }
    return {};
}

}  // namespace millrace
