#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connectors/sink.h"
#include "project/project.h"

struct rd_kafka_s;
struct rd_kafka_topic_s;

namespace millrace {

class KafkaTransaction;

/// Writes a plan's rows to a topic of an external Kafka cluster (librdkafka), one JSON object
/// per record, keyed by the `key:` column(s) (several joined with ':'), with acks=all and an
/// idempotent producer (no duplicates or reordering from the producer's own retries).
///
/// Two modes:
/// - Own producer (batch runs): pre_commit() flushes every outstanding delivery and fails if
///   any record was not acknowledged; commit() then only records the id. At-least-once:
///   delivered records are visible at once, abort() purges only what was not sent yet, and a
///   re-run sends rows again.
/// - Through a KafkaTransaction (streaming runs): the pipeline's transactional producer, shared
///   by all its kafka: sinks. write() begins the transaction, pre_commit() flushes into it
///   (still invisible to read_committed consumers), commit() commits it with the checkpoint's
///   marker (once for all the sinks; the runner commits it before every other sink, see
///   connectors/checkpoint_decider.h), abort() aborts it. Transactional.
/// One thread.
class KafkaSink final : public Sink {
public:
    /// With `transaction` (which must outlive the sink and serve `spec`): the transactional
    /// mode; without: a producer of its own.
    static Result<std::unique_ptr<KafkaSink>> create(const SinkSpec& spec, const Schema& schema,
                                                     KafkaTransaction* transaction = nullptr);
    /// A producer for `spec`'s brokers: acks=all, idempotent, message.timeout.ms 60 s, then
    /// `settings`, then the sink's `properties:`. Delivery reports go to the KafkaSink each
    /// record was produced by. kConfig naming the property that librdkafka refused.
    static Result<rd_kafka_s*> new_producer(const SinkSpec& spec,
                                            const std::map<std::string, std::string>& settings);
    KafkaSink() = default;
    ~KafkaSink() override;
    KafkaSink(const KafkaSink&) = delete;
    KafkaSink& operator=(const KafkaSink&) = delete;

    Status write(Batch batch) override;
    Status pre_commit(uint64_t commit_id) override;
    Status commit(uint64_t commit_id) override;
    void abort() override;
    Status recover(uint64_t committed) override;
    uint64_t rows_written() const override { return rows_; }
    DeliveryGuarantee guarantee() const override {
        return transaction_ != nullptr ? DeliveryGuarantee::kTransactional
                                       : DeliveryGuarantee::kAtLeastOnce;
    }

    /// librdkafka's delivery report of one record.
    void on_delivery(int error, const char* message);

private:
    Status delivery_status() const;

    std::string topic_name_;
    rd_kafka_s* producer_ = nullptr;  // owned unless transaction_
    KafkaTransaction* transaction_ = nullptr;
    std::vector<std::size_t> key_indexes_;
    std::string buffer_;
    uint64_t rows_ = 0;
    uint64_t failed_ = 0;
    std::string first_failure_;
    CommitIds ids_;
};

}  // namespace millrace
