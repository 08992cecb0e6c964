#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "exec/operator.h"

namespace millrace {

class Log;
class Topic;

/// Writes a plan's rows to a log topic, one JSON object per record (the format the ingestion
/// server stores, so a topic source or `millrace topic consume` reads them back). Each pushed
/// Batch becomes one append (one RecordBatch per partition); finish() waits until everything is
/// durable under the topic's fsync policy. A missing topic is created with default settings.
/// Optional `key_column` sets each record's key (partitioning).
class TopicSink final : public BatchSink {
public:
    static Result<std::unique_ptr<TopicSink>> create(Log& log, const std::string& topic,
                                                     std::string key_column, const Schema& schema);
    Status push(Batch batch) override;
    Status finish() override;
    uint64_t rows_written() const { return rows_; }

private:
    std::shared_ptr<Topic> topic_;
    std::optional<std::size_t> key_index_;
    std::string buffer_;
    uint64_t rows_ = 0;
    struct Pending;
    std::shared_ptr<Pending> pending_;
};

}  // namespace millrace
