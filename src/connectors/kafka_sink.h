#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connectors/sink.h"
#include "project/project.h"

struct rd_kafka_s;
struct rd_kafka_topic_s;

namespace millrace {

/// Writes a plan's rows to a topic of an external Kafka cluster (librdkafka), one JSON object
/// per record, keyed by the `key:` column(s) (several joined with ':'), with acks=all and an
/// idempotent producer (no duplicates or reordering from the producer's own retries).
///
/// pre_commit() flushes every outstanding delivery and fails if any record was not
/// acknowledged; commit() then only records the id. At-least-once: delivered records are
/// visible at once, abort() purges only what was not sent yet, and a re-run sends rows again
/// (transactional producers are not used). One thread.
class KafkaSink final : public Sink {
public:
    static Result<std::unique_ptr<KafkaSink>> create(const SinkSpec& spec, const Schema& schema);
    KafkaSink() = default;
    ~KafkaSink() override;
    KafkaSink(const KafkaSink&) = delete;
    KafkaSink& operator=(const KafkaSink&) = delete;

    Status write(Batch batch) override;
    Status pre_commit(uint64_t commit_id) override;
    Status commit(uint64_t commit_id) override;
    void abort() override;
    uint64_t rows_written() const override { return rows_; }
    DeliveryGuarantee guarantee() const override { return DeliveryGuarantee::kAtLeastOnce; }

    /// librdkafka's delivery report of one record.
    void on_delivery(int error, const char* message);

private:
    Status delivery_status() const;

    std::string topic_name_;
    rd_kafka_s* producer_ = nullptr;
    std::vector<std::size_t> key_indexes_;
    std::string buffer_;
    uint64_t rows_ = 0;
    uint64_t failed_ = 0;
    std::string first_failure_;
    CommitIds ids_;
};

}  // namespace millrace
