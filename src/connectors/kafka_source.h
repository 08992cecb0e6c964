#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "connectors/source.h"
#include "project/project.h"

struct rd_kafka_s;
struct rd_kafka_topic_s;
struct rd_kafka_message_s;
struct rd_kafka_topic_partition_list_s;

namespace millrace {

/// How long opening a Kafka source or sink waits for the brokers (metadata, end offsets) before
/// it fails with kUnavailable instead of hanging on a cluster that is down.
inline constexpr std::chrono::milliseconds kKafkaConnectTimeout{10000};

/// The bootstrap.servers text of a kafka: source or sink: "h1:9092,h2:9092".
std::string kafka_bootstrap_servers(const std::vector<std::string>& brokers);

/// A topic of an external Kafka cluster (librdkafka), read as a member of a consumer group:
/// the group's coordinator assigns partitions (subscribe), so several Millrace processes with
/// the same group share a topic's partitions. Each starts where the group committed, else at the
/// earliest or latest offset (`start_from`).
///
/// Bounded (batch runs): each partition's end offset is captured at open; records past it are
/// left for the next run, and the source ends once every partition assigned to it is read to
/// its end. Unbounded (streaming runs): polls answer kIdle when nothing is new and the source
/// never ends. A poll delivers records of one partition (current_partition(), for per-partition
/// watermarks). Values are JSON objects decoded through the declared schema.
///
/// Offsets are committed to the group only by commit_offsets(), which runs call after every
/// sink committed: a run that fails reads the same records again (at-least-once). One thread.
class KafkaSource final : public SourceReader {
public:
    enum class Mode { kBounded, kUnbounded };

    /// `default_group`: the group when the spec names none. `connect` false builds a reader
    /// that only knows its schema (explain, checks); it must not be polled.
    static Result<std::unique_ptr<KafkaSource>> open(const SourceSpec& spec,
                                                     const std::string& default_group, Mode mode,
                                                     bool connect = true);
    KafkaSource() = default;
    ~KafkaSource() override;
    KafkaSource(const KafkaSource&) = delete;
    KafkaSource& operator=(const KafkaSource&) = delete;

    const std::string& name() const override { return name_; }
    const std::shared_ptr<const Schema>& schema() const override { return schema_; }
    Result<PollResult> poll(DecodeSink& sink, std::size_t max_records, Listener* listener) override;
    /// Bounded: polls until every assigned partition is read to its captured end (an idle poll
    /// only means the group has not assigned partitions yet or a fetch is on its way).
    Status read_to_end(DecodeSink& sink, Listener* listener) override;
    SourcePosition position() const override;
    Status seek(const SourcePosition& position) override;
    std::size_t units() const override { return next_.size(); }
    std::string unit_name() const override { return "partition"; }
    uint64_t bytes_read() const override { return bytes_read_; }

    /// The partition the last poll read.
    std::size_t current_partition() const { return current_; }
    /// Commits the offsets after the records delivered so far to the group (synchronously).
    Status commit_offsets();

    /// Per partition, the next offset to deliver (-1: none delivered, or not assigned): what a
    /// checkpoint saves.
    const std::vector<int64_t>& offsets() const { return next_; }
    /// A restored checkpoint's offsets (offsets() of the run that saved it). A partition the
    /// group assigns starts at the later of its restored offset and the group's committed one:
    /// the group's offsets are committed after each checkpoint, so they trail it only when a
    /// run stopped between the two, and lead it only when another member read the partition
    /// since. Call before the first poll.
    void resume_from(std::vector<int64_t> offsets) { resume_ = std::move(offsets); }

    /// librdkafka's rebalance callback (eager assignment).
    void on_rebalance(int error, rd_kafka_topic_partition_list_s* partitions);

private:
    bool finished() const;
    /// Sets the start offsets of newly assigned partitions from resume_from().
    void resume_assigned(rd_kafka_topic_partition_list_s* partitions);

    std::string name_;
    std::string topic_name_;
    std::string brokers_;
    std::shared_ptr<const Schema> schema_;
    Mode mode_ = Mode::kBounded;
    rd_kafka_s* consumer_ = nullptr;
    rd_kafka_topic_s* topic_ = nullptr;
    rd_kafka_message_s* held_ = nullptr;  // a record of another partition, for the next poll
    std::vector<int64_t> end_;            // bounded: end offsets captured at open
    std::vector<int64_t> next_;           // next offset to deliver; -1: nothing delivered yet
    std::vector<int64_t> resume_;         // resume_from(); -1: not known
    std::vector<bool> assigned_;
    std::vector<bool> done_;  // bounded: read to its end
    bool assigned_once_ = false;
    std::chrono::steady_clock::time_point opened_;
    std::vector<std::string> unit_names_;
    std::size_t current_ = 0;
    uint64_t bytes_read_ = 0;
};

}  // namespace millrace
