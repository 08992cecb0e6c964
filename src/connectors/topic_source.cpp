#include "connectors/topic_source.h"

#include <fmt/format.h>

#include "formats/json_decoder.h"
#include "log/log.h"
#include "log/partition.h"
#include "log/partition_reader.h"
#include "log/topic.h"

namespace millrace {

Result<std::unique_ptr<TopicSource>> TopicSource::open(const SourceSpec& spec, Log& log) {
    auto source = std::make_unique<TopicSource>();
    source->name_ = spec.name;
    source->topic_ = log.find_topic(spec.topic);
    if (!source->topic_) {
        std::string known;
        for (const std::string& t : log.list_topics()) known += (known.empty() ? "" : ", ") + t;
        return Error(ErrorCode::kNotFound,
                     fmt::format("source `{}`: topic `{}` does not exist in {} (topics: {})",
                                 spec.name, spec.topic, log.dir(), known.empty() ? "none" : known),
                     spec.location);
    }
    if (spec.schema) {
        source->schema_ = std::make_shared<const Schema>(*spec.schema);
    } else if (!source->topic_->config().schema.empty()) {
        auto schema = parse_schema_spec(source->topic_->config().schema);
        if (!schema.ok())
            return Error(ErrorCode::kConfig,
                         fmt::format("source `{}`: the topic's schema: {}", spec.name,
                                     schema.error().message()),
                         spec.location);
        source->schema_ = std::make_shared<const Schema>(std::move(schema).value());
    } else {
        return Error(
            ErrorCode::kConfig,
            fmt::format("source `{}`: topic `{}` has no schema; declare `schema:` on the source",
                        spec.name, spec.topic),
            spec.location);
    }
    for (int32_t p = 0; p < source->topic_->partition_count(); ++p) {
        const auto& partition = source->topic_->partition(p);
        source->bounds_.push_back(Range{partition->start_offset(), partition->end_offset()});
    }
    return source;
}

Status TopicSource::read(DecodeSink& sink, Listener* listener) {
    JsonDecoder decoder(schema_);
    std::vector<RecordView> records;
    for (std::size_t p = 0; p < bounds_.size(); ++p) {
        if (listener) listener->on_file(fmt::format("topic {} partition {}", topic_->name(), p));
        PartitionReader reader(topic_->partition(static_cast<int32_t>(p)), bounds_[p].from,
                               bounds_[p].bound);
        while (true) {
            auto more = reader.next(records);
            if (!more.ok())
                return std::move(more).error().with_context(fmt::format("source `{}`", name_));
            if (!more.value()) break;
            for (const RecordView& record : records) {
                bytes_read_ += record.value.size();
                MILLRACE_TRY(decoder.decode_record(record.value,
                                                   static_cast<uint64_t>(record.offset), 0, sink));
            }
        }
        MILLRACE_TRY(decoder.flush(sink));
    }
    return {};
}

}  // namespace millrace
