#include "connectors/topic_source.h"

#include <fmt/format.h>

#include "formats/avro_json.h"
#include "formats/avro_reader.h"
#include "formats/json_decoder.h"
#include "log/log.h"
#include "log/partition.h"
#include "log/partition_reader.h"
#include "log/schema_registry.h"
#include "log/topic.h"

namespace millrace {

namespace {

constexpr std::size_t kFrameHeader = 5;  // magic byte 0 and the 4-byte schema id
constexpr std::size_t kMaxAvroValues = 1 << 20;
constexpr std::size_t kMaxRawBytes = 65536;

}  // namespace

RegistryFramedRecords::RegistryFramedRecords(std::string registry_dir, SchemaType type)
    : registry_dir_(std::move(registry_dir)), type_(type) {}

bool RegistryFramedRecords::known(int64_t id, std::string& reason) {
    if (schemas_.contains(id) || json_ids_.contains(id)) return true;
    if (missing_.contains(id)) {
        reason = "schema id " + std::to_string(id) + " is not in the schema registry";
        return false;
    }
    // Read the registry as it is now: the id may have been registered since the last look.
    SchemaRegistry registry(registry_dir_, /*read_only=*/true);
    Status loaded = registry.load();
    std::optional<RegisteredSchema> registered =
        loaded.ok() ? registry.by_id(id) : std::optional<RegisteredSchema>();
    if (!registered) {
        missing_.insert(id);
        reason = loaded.ok() ? "schema id " + std::to_string(id) + " is not in the schema registry"
                             : "the schema registry cannot be read: " + loaded.error().message();
        return false;
    }
    if (registered->type != type_) {
        missing_.insert(id);
        reason = "schema id " + std::to_string(id) +
                 (registered->type == SchemaType::kJson
                      ? " is a JSON Schema, not Avro (use format: json_sr)"
                      : " is an Avro schema, not a JSON Schema (use format: avro)");
        return false;
    }
    if (type_ == SchemaType::kJson) {
        json_ids_.insert(id);
        return true;
    }
    auto parsed = AvroSchema::parse(registered->schema, "schema id " + std::to_string(id));
    if (!parsed.ok()) {
        missing_.insert(id);
        reason = parsed.error().message();
        return false;
    }
    schemas_[id] = *parsed;
    return true;
}

std::optional<int64_t> registry_schema_id(std::string_view value) {
    if (value.size() < kFrameHeader || value[0] != 0) return std::nullopt;
    const auto byte = [&](std::size_t at) {
        return static_cast<uint32_t>(static_cast<unsigned char>(value[at]));
    };
    return static_cast<int64_t>((byte(1) << 24) | (byte(2) << 16) | (byte(3) << 8) | byte(4));
}

bool RegistryFramedRecords::to_json(std::string_view value, std::string& json,
                                    std::string& reason) {
    const std::optional<int64_t> id = registry_schema_id(value);
    if (!id) {
        reason = "not in the schema registry's wire format (magic byte 0 and a 4-byte schema id)";
        return false;
    }
    if (!known(*id, reason)) return false;
    std::string_view payload = value.substr(kFrameHeader);
    if (type_ == SchemaType::kJson) {
        json.assign(payload);
        return true;
    }
    const std::shared_ptr<const AvroSchema>& schema = schemas_.at(*id);
    std::size_t budget = kMaxAvroValues;
    auto decoded = avro_decode(schema->root(), payload, budget);
    if (!decoded.ok()) {
        reason = "Avro datum of schema id " + std::to_string(*id) +
                 " does not decode: " + decoded.error().message();
        return false;
    }
    if (!payload.empty()) {
        reason = "bytes after the Avro datum of schema id " + std::to_string(*id);
        return false;
    }
    json.clear();
    avro_to_json(schema->root(), *decoded, json);
    return true;
}

Status decode_topic_record(JsonDecoder& decoder, RegistryFramedRecords* avro,
                           const RecordView& record, std::string& scratch, DecodeSink& sink) {
    const auto index = static_cast<uint64_t>(record.offset);
    std::string reason;
    if (avro == nullptr) {
        MILLRACE_TRY(decoder.decode_record(record.value, index, 0, sink));
        return {};
    }
    if (!avro->to_json(record.value, scratch, reason)) {
        RowError error;
        error.record_index = index;
        error.reason = std::move(reason);
        error.raw = std::string(record.value.substr(0, kMaxRawBytes));
        sink.on_error(std::move(error));
        return {};
    }
    MILLRACE_TRY(decoder.decode_record(scratch, index, 0, sink));
    return {};
}

Result<OpenedTopic> open_source_topic(const SourceSpec& spec, Log& log) {
    OpenedTopic out;
    if (spec.format == DataFormat::kAvro || spec.format == DataFormat::kJsonSr) {
        out.avro = std::make_shared<RegistryFramedRecords>(
            log.dir() + "/_schemas",
            spec.format == DataFormat::kAvro ? SchemaType::kAvro : SchemaType::kJson);
    }
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
    source->avro_ = std::move(opened.avro);
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
        MILLRACE_TRY(decode_topic_record(decoder, avro_.get(), record, scratch_, sink));
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
