#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connectors/sink.h"

namespace millrace {

class Log;
class Topic;

/// Writes a plan's rows to a log topic, one JSON object per record (the format the ingestion
/// server stores, so a topic source or `millrace topic consume` reads them back). Each written
/// Batch becomes one append (one RecordBatch per partition); pre_commit() waits until everything
/// is durable under the topic's fsync policy. A missing topic is created with default settings.
/// Optional `key_column` sets each record's key (partitioning).
///
/// At-least-once: appended records are visible to readers at once, abort() cannot take them
/// back, and a re-run appends them again. Transactional appends (records hidden from readers
/// until a commit marker) are not implemented yet.
class TopicSink final : public Sink {
public:
    static Result<std::unique_ptr<TopicSink>> create(Log& log, const std::string& topic,
                                                     std::string key_column, const Schema& schema);
    Status write(Batch batch) override;
    Status pre_commit(uint64_t commit_id) override;
    Status commit(uint64_t commit_id) override;
    /// Forgets the appends not yet waited for; they stay in the topic.
    void abort() override;
    uint64_t rows_written() const override { return rows_; }
    DeliveryGuarantee guarantee() const override { return DeliveryGuarantee::kAtLeastOnce; }

private:
    std::shared_ptr<Topic> topic_;
    std::optional<std::size_t> key_index_;
    std::string buffer_;
    uint64_t rows_ = 0;
    struct Pending;
    std::shared_ptr<Pending> pending_;
    CommitIds ids_;
};

}  // namespace millrace
