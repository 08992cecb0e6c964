#pragma once

#include <memory>
#include <string>
#include <vector>

#include "connectors/bounded_source.h"
#include "project/project.h"

namespace millrace {

class Log;
class Topic;

/// A log topic read as a bounded source: every partition from its start offset (or a given
/// one, for replays from a checkpoint) up to the end offset captured when the source is opened,
/// so a batch run sees a fixed set of records and a re-run over the same offsets sees the same
/// ones. Record values are JSON objects (what the ingestion server stores), decoded through the
/// source's schema; offsets travel in RowErrors as record_index.
class TopicSource final : public BoundedSource {
public:
    /// kNotFound for an unknown topic; the schema is the source's, else the topic's declared
    /// one; a topic without either is refused (nothing to decode records into).
    static Result<std::unique_ptr<TopicSource>> open(const SourceSpec& spec, Log& log);

    const std::string& name() const override { return name_; }
    const std::shared_ptr<const Schema>& schema() const override { return schema_; }
    Status read(DecodeSink& sink, Listener* listener) override;
    std::size_t units() const override { return bounds_.size(); }
    std::string unit_name() const override { return "partition"; }
    uint64_t bytes_read() const override { return bytes_read_; }

    /// [from, bound) per partition.
    struct Range {
        int64_t from = 0;
        int64_t bound = 0;
    };
    const std::vector<Range>& ranges() const { return bounds_; }

private:
    std::string name_;
    std::shared_ptr<Topic> topic_;
    std::shared_ptr<const Schema> schema_;
    std::vector<Range> bounds_;
    uint64_t bytes_read_ = 0;
};

}  // namespace millrace
