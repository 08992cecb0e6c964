#pragma once

#include <memory>
#include <string>
#include <vector>

#include "connectors/source.h"
#include "connectors/topic_source.h"
#include "log/fwd.h"
#include "log/record_batch.h"
#include "project/project.h"

namespace millrace {

class Log;
class Topic;

/// A log topic read as an unbounded source (a `mode: streaming` pipeline): every partition from
/// the pipeline's committed consumer offset (else its earliest or latest offset, as the source's
/// `start_from` says) on, polling for records as they are appended. Polls take the partitions in
/// turn, at most `max_records` from one partition per poll, so current_partition() tells which
/// partition a delivered batch came from (per-partition watermarks). A poll that finds nothing
/// new anywhere answers kIdle; the source never ends.
///
/// Record values are JSON objects decoded through the source's schema; offsets travel in
/// RowErrors as record_index. position() is {unit: the partition last read, offset: its next
/// offset}; offsets() has every partition's. One thread at a time.
class StreamingTopicSource final : public SourceReader {
public:
    /// `consumer`: the name the pipeline's offsets are committed under (consumer_name()).
    static Result<std::unique_ptr<StreamingTopicSource>> open(const SourceSpec& spec, Log& log,
                                                              const std::string& consumer);
    /// The consumer name of a pipeline's topic sources: "pipeline-<name>".
    static std::string consumer_name(const std::string& pipeline);

    const std::string& name() const override { return name_; }
    const std::shared_ptr<const Schema>& schema() const override { return schema_; }
    Result<PollResult> poll(DecodeSink& sink, std::size_t max_records, Listener* listener) override;
    SourcePosition position() const override;
    Status seek(const SourcePosition& position) override;
    std::size_t units() const override { return offsets_.size(); }
    std::string unit_name() const override { return "partition"; }
    uint64_t bytes_read() const override { return bytes_read_; }

    /// The partition the last poll read (valid during and after a poll that returned kData).
    std::size_t current_partition() const { return current_; }
    /// The next offset to read, per partition.
    const std::vector<Offset>& offsets() const { return offsets_; }
    /// Stores offsets() as the consumer's committed positions (durably).
    Status commit_offsets(Log& log) const;

private:
    std::string name_;
    std::string consumer_;
    std::shared_ptr<Topic> topic_;
    std::shared_ptr<const Schema> schema_;
    std::vector<Offset> offsets_;
    std::vector<std::string> unit_names_;  // "topic t partition p", for the listener
    std::shared_ptr<RegistryFramedRecords> avro_;
    std::string scratch_;
    std::size_t next_ = 0;  // the partition the next poll tries first
    std::size_t current_ = 0;
    uint64_t bytes_read_ = 0;
    std::vector<RecordView> records_;
};

}  // namespace millrace
