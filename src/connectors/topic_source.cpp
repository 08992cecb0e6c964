#include "connectors/topic_source.h"

#include <fmt/format.h>

#include "formats/json_decoder.h"
#include "log/log.h"
#include "log/partition.h"
#include "log/partition_reader.h"
#include "log/topic.h"

namespace millrace {

Result<OpenedTopic> open_source_topic(const SourceSpec& spec, Log& log) {
    OpenedTopic out;
    out.topic = log.find_topic(spec.topic);
    if (!out.topic) {
        std::string known;
        for (const std::string& t : log.list_topics()) known += (known.empty() ? "" : ", ") + t;
        return Error(ErrorCode::kNotFound,
                     fmt::format("source `{}`: topic `{}` does not exist in {} (topics: {}); "
                                 "create it first (millrace topic create {} --partitions N)",
                                 spec.name, spec.topic, log.dir(), known.empty() ? "none" : known,
                                 spec.topic),
                     spec.location);
    }
    if (spec.schema) {
        out.schema = std::make_shared<const Schema>(*spec.schema);
    } else if (!out.topic->config().schema.empty()) {
        auto schema = parse_schema_spec(out.topic->config().schema);
        if (!schema.ok())
            return Error(ErrorCode::kConfig,
                         fmt::format("source `{}`: the topic's schema: {}", spec.name,
                                     schema.error().message()),
                         spec.location);
        out.schema = std::make_shared<const Schema>(std::move(schema).value());
    } else {
        return Error(
            ErrorCode::kConfig,
            fmt::format("source `{}`: topic `{}` has no schema; declare `schema:` on the source",
                        spec.name, spec.topic),
            spec.location);
    }
    return out;
}

Result<std::unique_ptr<TopicSource>> TopicSource::open(const SourceSpec& spec, Log& log) {
    auto source = std::make_unique<TopicSource>();
    source->name_ = spec.name;
    MILLRACE_ASSIGN_OR_RETURN(OpenedTopic opened, open_source_topic(spec, log));
    source->topic_ = std::move(opened.topic);
    source->schema_ = std::move(opened.schema);
    for (int32_t p = 0; p < source->topic_->partition_count(); ++p) {
        const auto& partition = source->topic_->partition(p);
        // Up to the last stable offset: records of a Kafka transaction still open are not
        // readable yet (and must not be skipped by the next run).
        source->bounds_.push_back(Range{partition->start_offset(), partition->stable_offset()});
    }
    if (!source->bounds_.empty()) source->offset_ = source->bounds_[0].from;
    return source;
}

Result<PollResult> TopicSource::poll(DecodeSink& sink, std::size_t max_records,
                                     Listener* listener) {
    // Past partitions that are done (or empty) to the next record.
    while (partition_ < bounds_.size() && offset_ >= bounds_[partition_].bound) {
        ++partition_;
        reader_.reset();
        if (partition_ < bounds_.size()) offset_ = bounds_[partition_].from;
    }
    if (partition_ >= bounds_.size()) return PollResult::kEnd;
    if (!reader_) {
        if (listener) {
            listener->on_unit_start(
                fmt::format("topic {} partition {}", topic_->name(), partition_));
        }
        reader_.emplace(topic_->partition(static_cast<int32_t>(partition_)), offset_,
                        bounds_[partition_].bound);
    }
    auto more = reader_->next(records_, std::max<std::size_t>(max_records, 1));
    if (!more.ok()) return std::move(more).error().with_context(fmt::format("source `{}`", name_));
    JsonDecoder decoder(schema_);
    std::size_t taken = 0;
    for (const RecordView& record : records_) {
        if (taken == max_records && max_records > 0) break;
        bytes_read_ += record.value.size();
        MILLRACE_TRY(
            decoder.decode_record(record.value, static_cast<uint64_t>(record.offset), 0, sink));
        offset_ = record.offset + 1;
        ++taken;
    }
    MILLRACE_TRY(decoder.flush(sink));
    // The reader went past what was taken: start a new one at offset_ next time.
    if (!more.value() || reader_->position() != offset_) reader_.reset();
    if (!more.value()) offset_ = bounds_[partition_].bound;
    return PollResult::kData;
}

SourcePosition TopicSource::position() const {
    return SourcePosition{partition_, static_cast<uint64_t>(offset_), 0};
}

Status TopicSource::seek(const SourcePosition& position) {
    if (position.unit > bounds_.size() ||
        (position.unit < bounds_.size() &&
         (static_cast<int64_t>(position.offset) < bounds_[position.unit].from ||
          static_cast<int64_t>(position.offset) > bounds_[position.unit].bound)) ||
        position.line != 0) {
        return Error(ErrorCode::kInvalidArgument,
                     fmt::format("source `{}`: {} is outside the partitions and offsets read",
                                 name_, position.to_string()));
    }
    partition_ = position.unit;
    offset_ = static_cast<int64_t>(position.offset);
    reader_.reset();
    return {};
}

}  // namespace millrace
