#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/source.h"
#include "formats/avro_schema.h"
#include "formats/json_decoder.h"
#include "log/partition_reader.h"
#include "log/schema_registry.h"
#include "project/project.h"

namespace millrace {

class Log;
class Topic;

/// A topic source's topic and the schema its records decode with (the source's `schema:`, else
/// the topic's): shared by the bounded and the streaming topic sources. Errors name the source
/// and point at its location.
/// Records in Confluent's wire format (`format: avro` or `format: json_sr`):
///
///   +------+-------------------------+--------------------------------------------+
///   | 0x00 | schema id (int32, BE)   | Avro datum, or JSON document (UTF-8 text)  |
///   +------+-------------------------+--------------------------------------------+
///
/// The id is one of the schema registry stored in the log's data directory (the one `serve`
/// answers on its HTTP port) and must name a schema of the source's kind (Avro or JSON Schema).
/// Each record becomes JSON text for the source's JsonDecoder: the Avro datum decoded with the
/// schema (avro_json.h), or the JSON document as it is (it is decoded through the source's
/// `schema:`, not validated against the JSON Schema: the producer's serializer does that). A
/// record that is not framed so, names an unknown id or one of the other kind, or does not
/// decode gets a reason instead (a dead letter). The registry is read when opened and again
/// when an id is not in it (a schema registered since).
class RegistryFramedRecords {
public:
    RegistryFramedRecords(std::string registry_dir, SchemaType type);
    /// JSON of `value` in `json`; false with `reason` when it cannot be decoded.
    bool to_json(std::string_view value, std::string& json, std::string& reason);

private:
    /// Whether `id` names a usable schema of this kind (loading it), else false with `reason`.
    bool known(int64_t id, std::string& reason);

    std::string registry_dir_;
    SchemaType type_;
    /// Avro: the parsed schema; JSON Schema: null (known ids are in `json_ids_`).
    std::map<int64_t, std::shared_ptr<const AvroSchema>> schemas_;
    std::set<int64_t> json_ids_;
    std::set<int64_t> missing_;  // ids looked for after a reload, not there: not again
};

/// The schema id of a record in the registry's wire format (nullopt: not framed so).
std::optional<int64_t> registry_schema_id(std::string_view value);

struct OpenedTopic {
    std::shared_ptr<Topic> topic;
    std::shared_ptr<const Schema> schema;
    /// Set for `format: avro` and `format: json_sr`.
    std::shared_ptr<RegistryFramedRecords> avro;
};
Result<OpenedTopic> open_source_topic(const SourceSpec& spec, Log& log);
/// Decodes one record (JSON, or `avro` framed records when set) into `sink`.
Status decode_topic_record(JsonDecoder& decoder, RegistryFramedRecords* avro,
                           const RecordView& record, std::string& scratch, DecodeSink& sink);

/// A log topic read as a bounded source: every partition from its start offset (or a given
/// one, for replays from a checkpoint) up to the end offset captured when the source is opened,
/// so a batch run sees a fixed set of records and a re-run over the same offsets sees the same
/// ones. Record values are JSON objects (what the ingestion server stores), decoded through the
/// source's schema; offsets travel in RowErrors as record_index.
///
/// A bounded SourceReader: partitions are read one after the other, and a position is
/// {unit: partition, offset: the next record's offset}.
class TopicSource final : public SourceReader {
public:
    /// kNotFound for an unknown topic; the schema is the source's, else the topic's declared
    /// one; a topic without either is refused (nothing to decode records into).
    static Result<std::unique_ptr<TopicSource>> open(const SourceSpec& spec, Log& log);

    const std::string& name() const override { return name_; }
    const std::shared_ptr<const Schema>& schema() const override { return schema_; }
    Result<PollResult> poll(DecodeSink& sink, std::size_t max_records, Listener* listener) override;
    SourcePosition position() const override;
    Status seek(const SourcePosition& position) override;
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
    std::size_t partition_ = 0;              // the partition being read
    int64_t offset_ = 0;                     // the next offset in it
    std::optional<PartitionReader> reader_;  // positioned at offset_ when set
    std::vector<RecordView> records_;
    std::shared_ptr<RegistryFramedRecords> avro_;
    std::string scratch_;
};

}  // namespace millrace
