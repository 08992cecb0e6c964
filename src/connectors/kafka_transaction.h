#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connectors/checkpoint_decider.h"
#include "project/project.h"

struct rd_kafka_s;

namespace millrace {

/// The one transactional producer (librdkafka) that every `kafka:` sink of a streaming
/// pipeline writes through, so that all their records of a checkpoint commit together, once,
/// with the checkpoint's id (docs/kafka.md, "Exactly-once Kafka sinks"). It is the
/// pipeline's CheckpointDecider: a Kafka transaction cannot survive its producer (a new
/// producer with the same transactional.id aborts what the dead one left open), so instead of
/// staging it commits after the checkpoint's metadata and before every other sink, and the
/// commit carries a marker that says which checkpoint it was:
///
///   transaction of checkpoint 7 (all or nothing, read_committed consumers see it at once)
///   ├── records of every kafka: sink of the pipeline since checkpoint 6
///   └── TxnOffsetCommit: group `millrace-commits.<transactional.id>`,
///       partition 0 of the first sink's topic, offset 7     <- the marker
///
/// The marker costs no record in a user's topic and is read back with OffsetFetch
/// (committed_markers(), from partition 0 of every sink's topic, so that reordering the sinks
/// between runs still finds it), after init_transactions has ended whatever the dead run left
/// open, so the answer is final.
///
/// Lifecycle: create() (a producer, nothing sent); the first write after a commit begins a
/// transaction (init_transactions first, once); commit(id) ends it; abort() aborts it.
/// Destroying it with a transaction open leaves that to the brokers (the next producer with the
/// id, or transaction.timeout.ms, aborts it). One thread: the pipeline's.
class KafkaTransaction final : public CheckpointDecider {
public:
    /// A producer for the brokers and properties of `spec` (a `kafka:` sink) with
    /// `transactional_id` (a `transactional.id` among the sink's properties wins) and a
    /// transaction.timeout.ms longer than `checkpoint_interval` (default: the larger of 60 s
    /// and four intervals, at most 15 min; a configured one must exceed the interval).
    static Result<std::unique_ptr<KafkaTransaction>> create(
        const SinkSpec& spec, const std::string& transactional_id,
        std::chrono::milliseconds checkpoint_interval);
    ~KafkaTransaction() override;
    KafkaTransaction(const KafkaTransaction&) = delete;
    KafkaTransaction& operator=(const KafkaTransaction&) = delete;

    /// Whether a `kafka:` sink `spec` can write through this producer: the same brokers and
    /// properties (another cluster would need a second transaction, which cannot commit
    /// atomically with this one).
    bool serves(const SinkSpec& spec) const;
    rd_kafka_s* producer() const { return producer_; }
    /// A sink writing through it: its topic is one more place to look for markers.
    void add_topic(const std::string& topic);
    const std::string& transactional_id() const { return transactional_id_; }
    const std::string& marker_group() const { return marker_group_; }
    int64_t timeout_ms() const { return timeout_ms_; }

    /// Before a record is produced: begins a transaction unless one is open.
    Status begin();
    /// Aborts the open transaction, if any (a failed run).
    void abort();

    std::string kind() const override { return "kafka"; }
    std::string name() const override { return transactional_id_; }
    bool deciding() const override { return open_; }
    Status commit(uint64_t id) override;
    Result<std::vector<uint64_t>> committed_markers() override;
    /// With the fenced producer's error, when it was fenced (a transaction that timed out on
    /// the brokers); else `error` as it is. For errors of deliveries into the transaction.
    Error explain(Error error) const;

private:
    KafkaTransaction() = default;
    Status initialize();
    /// The error of a failed transactional call, with what it means for the run.
    Error failure(const char* what, const std::string& detail, bool fatal) const;

    rd_kafka_s* producer_ = nullptr;
    std::string bootstrap_;
    std::map<std::string, std::string> properties_;
    std::string transactional_id_;
    std::string marker_group_;
    std::string marker_topic_;         // where commit() writes the marker
    std::vector<std::string> topics_;  // where committed_markers() looks
    int64_t timeout_ms_ = 0;
    bool initialized_ = false;
    bool open_ = false;
    std::optional<uint64_t> committed_;  // the marker this run committed last
};

}  // namespace millrace
