#include "connectors/streaming_topic_source.h"

#include <fmt/format.h>

#include <algorithm>

#include "connectors/topic_source.h"
#include "formats/json_decoder.h"
#include "log/consumer_offsets.h"
#include "log/log.h"
#include "log/partition.h"
#include "log/partition_reader.h"
#include "log/topic.h"

namespace millrace {

std::string StreamingTopicSource::consumer_name(const std::string& pipeline) {
    return "pipeline-" + pipeline;
}

Result<std::unique_ptr<StreamingTopicSource>> StreamingTopicSource::open(
    const SourceSpec& spec, Log& log, const std::string& consumer) {
    auto source = std::make_unique<StreamingTopicSource>();
    source->name_ = spec.name;
    source->consumer_ = consumer;
    MILLRACE_ASSIGN_OR_RETURN(OpenedTopic opened, open_source_topic(spec, log));
    source->topic_ = std::move(opened.topic);
    source->schema_ = std::move(opened.schema);
    source->avro_ = std::move(opened.avro);
    for (int32_t p = 0; p < source->topic_->partition_count(); ++p) {
        const auto& partition = source->topic_->partition(p);
        MILLRACE_ASSIGN_OR_RETURN(std::optional<Offset> committed,
                                  log.consumer_offsets().fetch(consumer, spec.topic, p));
        Offset from = spec.start_from == StartFrom::kLatest ? partition->stable_offset()
                                                            : partition->start_offset();
        // Records before the partition's start were removed by retention: start at what is left.
        if (committed)
            from = std::clamp(*committed, partition->start_offset(), partition->end_offset());
        source->offsets_.push_back(from);
    }
    for (std::size_t p = 0; p < source->offsets_.size(); ++p)
        source->unit_names_.push_back(fmt::format("topic {} partition {}", spec.topic, p));
    return source;
}

Result<PollResult> StreamingTopicSource::poll(DecodeSink& sink, std::size_t max_records,
                                              Listener* listener) {
    const std::size_t partitions = offsets_.size();
    for (std::size_t tried = 0; tried < partitions; ++tried) {
        const std::size_t p = (next_ + tried) % partitions;
        const auto& partition = topic_->partition(static_cast<int32_t>(p));
        // Records of a Kafka transaction still open wait until it ends.
        const Offset end = partition->stable_offset();
        if (offsets_[p] >= end) continue;
        next_ = (p + 1) % partitions;
        current_ = p;
        if (listener) listener->on_unit_start(unit_names_[p]);
        PartitionReader reader(partition, offsets_[p], end);
        auto more = reader.next(records_, std::max<std::size_t>(max_records, 1));
        if (!more.ok())
            return std::move(more).error().with_context(fmt::format("source `{}`", name_));
        JsonDecoder decoder(schema_);
        for (const RecordView& record : records_) {
            bytes_read_ += record.value.size();
            MILLRACE_TRY(decode_topic_record(decoder, avro_.get(), record, scratch_, sink));
            offsets_[p] = record.offset + 1;
        }
        MILLRACE_TRY(decoder.flush(sink));
        if (!more.value()) offsets_[p] = end;
        return PollResult::kData;
    }
    return PollResult::kIdle;
}

SourcePosition StreamingTopicSource::position() const {
    if (offsets_.empty()) return SourcePosition{};
    return SourcePosition{current_, static_cast<uint64_t>(offsets_[current_]), 0};
}

Status StreamingTopicSource::seek(const SourcePosition& position) {
    if (position.unit >= offsets_.size() || position.line != 0) {
        return Error(ErrorCode::kInvalidArgument,
                     fmt::format("source `{}`: {} is not a partition and offset of topic `{}`",
                                 name_, position.to_string(), topic_->name()));
    }
    const auto& partition = topic_->partition(static_cast<int32_t>(position.unit));
    const auto offset = static_cast<Offset>(position.offset);
    if (offset < partition->start_offset() || offset > partition->end_offset()) {
        return Error(
            ErrorCode::kInvalidArgument,
            fmt::format("source `{}`: offset {} is outside partition {} ([{}, {}])", name_, offset,
                        position.unit, partition->start_offset(), partition->end_offset()));
    }
    offsets_[position.unit] = offset;
    current_ = position.unit;
    return {};
}

Status StreamingTopicSource::commit_offsets(Log& log) const {
    for (std::size_t p = 0; p < offsets_.size(); ++p) {
        MILLRACE_TRY(log.consumer_offsets().commit(consumer_, topic_->name(),
                                                   static_cast<PartitionId>(p), offsets_[p]));
    }
    return {};
}

}  // namespace millrace
