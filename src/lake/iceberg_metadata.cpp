#include "lake/iceberg_metadata.h"

#include <simdjson.h>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <random>

#include "common/json_string.h"

namespace millrace {

namespace {

std::optional<DataType> data_type_of(std::string_view name) {
    if (name == "boolean") return DataType::kBool;
    if (name == "int") return DataType::kInt32;
    if (name == "long") return DataType::kInt64;
    // `float` columns (other engines' tables) read as doubles; float_ids remembers them.
    if (name == "double" || name == "float") return DataType::kFloat64;
    if (name == "string") return DataType::kString;
    if (name == "binary") return DataType::kBytes;
    if (name == "timestamptz" || name == "timestamp") return DataType::kTimestamp;
    if (name == "date") return DataType::kDate;
    return std::nullopt;
}

void append_string_map(std::string& out, const std::map<std::string, std::string>& map) {
    out += "{";
    bool first = true;
    for (const auto& [key, value] : map) {
        if (!first) out += ", ";
        first = false;
        append_json_string(out, key);
        out += ": ";
        append_json_string(out, value);
    }
    out += "}";
}

// The partition_by item that names an Iceberg partition field, so that PartitionSpec::parse
// gives back the same folder names.
Result<std::string> partition_item(const Schema& schema, const std::vector<int32_t>& ids,
                                   int64_t source_id, std::string_view transform,
                                   std::string_view name, const std::string& source) {
    auto position = std::find(ids.begin(), ids.end(), source_id);
    if (position == ids.end()) {
        return Error(ErrorCode::kCorruption,
                     source + ": partition field `" + std::string(name) + "` has no source column");
    }
    const std::string column = schema.field(static_cast<std::size_t>(position - ids.begin())).name;
    std::string item;
    std::string default_name;
    if (transform == "identity") {
        item = column;
        default_name = column;
    } else if (transform == "day") {
        item = "date(" + column + ")";
        default_name = "day";
    } else if (transform == "hour" || transform == "month" || transform == "year") {
        item = std::string(transform) + "(" + column + ")";
        default_name = std::string(transform);
    } else if ((transform.rfind("bucket[", 0) == 0 || transform.rfind("truncate[", 0) == 0) &&
               transform.back() == ']') {
        const bool bucket = transform.front() == 'b';
        const std::size_t open = transform.find('[');
        const std::string width(transform.substr(open + 1, transform.size() - open - 2));
        item = std::string(bucket ? "bucket(" : "truncate(") + width + ", " + column + ")";
        default_name = column + (bucket ? "_bucket" : "_trunc");
    } else {
        return Error(ErrorCode::kUnsupported, source + ": partition transform `" +
                                                  std::string(transform) + "` is not supported");
    }
    if (name != default_name) item += " as " + std::string(name);
    return item;
}

}  // namespace

bool is_float_id(const std::vector<int32_t>& float_ids, int32_t id) {
    return std::find(float_ids.begin(), float_ids.end(), id) != float_ids.end();
}

std::vector<std::size_t> float_positions(const std::vector<int32_t>& field_ids,
                                         const std::vector<int32_t>& float_ids) {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < field_ids.size(); ++i) {
        if (is_float_id(float_ids, field_ids[i])) out.push_back(i);
    }
    return out;
}

std::string_view iceberg_type_name(DataType type, bool is_float) {
    switch (type) {
        case DataType::kBool:
            return "boolean";
        case DataType::kInt32:
            return "int";
        case DataType::kInt64:
            return "long";
        case DataType::kFloat64:
            return is_float ? "float" : "double";
        case DataType::kString:
            return "string";
        case DataType::kBytes:
            return "binary";
        case DataType::kTimestamp:
            return "timestamptz";
        case DataType::kDate:
            return "date";
    }
    return "string";
}

static std::vector<int32_t> column_ids_or_positions(const std::vector<int32_t>& ids,
                                                    std::size_t columns) {
    if (ids.size() == columns) return ids;
    std::vector<int32_t> out(columns);
    for (std::size_t i = 0; i < columns; ++i) out[i] = static_cast<int32_t>(i + 1);
    return out;
}

std::vector<int32_t> TableMetadata::column_ids() const {
    return column_ids_or_positions(field_ids, schema.size());
}

std::string iceberg_schema_json(const Schema& schema, int64_t schema_id,
                                const std::vector<int32_t>& field_ids,
                                const std::vector<int32_t>& float_ids) {
    const std::vector<int32_t> ids = column_ids_or_positions(field_ids, schema.size());
    std::string out =
        R"({"type": "struct", "schema-id": )" + std::to_string(schema_id) + R"(, "fields": [)";
    for (std::size_t i = 0; i < schema.size(); ++i) {
        const Field& field = schema.field(i);
        if (i > 0) out += ", ";
        out += "{\"id\": " + std::to_string(ids[i]) + ", \"name\": ";
        append_json_string(out, field.name);
        out += ", \"required\": ";
        out += field.nullable ? "false" : "true";
        out += ", \"type\": \"" +
               std::string(iceberg_type_name(field.type, is_float_id(float_ids, ids[i]))) + "\"}";
    }
    out += "]}";
    return out;
}

std::string iceberg_partition_spec_json(const PartitionSpec& spec,
                                        const std::vector<int32_t>& field_ids) {
    std::string out = R"({"spec-id": 0, "fields": [)";
    for (std::size_t i = 0; i < spec.items().size(); ++i) {
        const PartitionSpec::Item& item = spec.items()[i];
        if (i > 0) out += ", ";
        const int64_t source_id = item.column < field_ids.size()
                                      ? field_ids[item.column]
                                      : static_cast<int64_t>(item.column + 1);
        out += "{\"source-id\": " + std::to_string(source_id) +
               ", \"field-id\": " + std::to_string(1000 + i) + ", \"name\": ";
        append_json_string(out, item.name);
        out += ", \"transform\": \"" + PartitionSpec::transform(item) + "\"}";
    }
    out += "]}";
    return out;
}

std::string random_uuid() {
    std::random_device device;
    unsigned char bytes[16];
    for (unsigned char& b : bytes) b = static_cast<unsigned char>(device() & 0xff);
    bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40);
    bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);
    char out[40];
    std::snprintf(out, sizeof(out),
                  "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", bytes[0],
                  bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8],
                  bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]);
    return out;
}

const IcebergSnapshot* TableMetadata::find(int64_t snapshot_id) const {
    for (const IcebergSnapshot& s : snapshots) {
        if (s.snapshot_id == snapshot_id) return &s;
    }
    return nullptr;
}

std::string TableMetadata::to_json() const {
    auto spec = PartitionSpec::parse(partition_by, schema);
    std::string out = "{\n  \"format-version\": 2,\n  \"table-uuid\": ";
    append_json_string(out, table_uuid);
    out += ",\n  \"location\": ";
    append_json_string(out, location);
    out += ",\n  \"last-sequence-number\": " + std::to_string(last_sequence_number);
    out += ",\n  \"last-updated-ms\": " + std::to_string(last_updated_ms);
    const std::vector<int32_t> ids = column_ids();
    int64_t highest_id = last_column_id;
    for (int32_t id : ids) highest_id = std::max<int64_t>(highest_id, id);
    out += ",\n  \"last-column-id\": " + std::to_string(highest_id);
    out += ",\n  \"current-schema-id\": " + std::to_string(schema_id) + ",\n  \"schemas\": [";
    for (const std::string& other : other_schemas) out += other + ", ";
    out += iceberg_schema_json(schema, schema_id, ids, float_ids) + "]";
    out += ",\n  \"default-spec-id\": 0,\n  \"partition-specs\": [" +
           iceberg_partition_spec_json(spec.ok() ? *spec : PartitionSpec(), ids) + "]";
    out += ",\n  \"last-partition-id\": " +
           std::to_string(999 + (spec.ok() ? spec->items().size() : 0));
    out +=
        ",\n  \"default-sort-order-id\": 0,\n  \"sort-orders\": [{\"order-id\": 0, "
        "\"fields\": []}]";
    out += ",\n  \"properties\": ";
    append_string_map(out, properties);
    if (current_snapshot_id) {
        const std::string id = std::to_string(*current_snapshot_id);
        out += ",\n  \"current-snapshot-id\": " + id;
        out += ",\n  \"refs\": {\"main\": {\"snapshot-id\": " + id + ", \"type\": \"branch\"}}";
    } else {
        // -1, not an absent key: what older Iceberg readers require for "no snapshot".
        out += ",\n  \"current-snapshot-id\": -1,\n  \"refs\": {}";
    }
    out += ",\n  \"snapshots\": [";
    for (std::size_t i = 0; i < snapshots.size(); ++i) {
        const IcebergSnapshot& s = snapshots[i];
        out += i > 0 ? ",\n    " : "\n    ";
        out += "{\"snapshot-id\": " + std::to_string(s.snapshot_id);
        if (s.parent_id) out += ", \"parent-snapshot-id\": " + std::to_string(*s.parent_id);
        out += ", \"sequence-number\": " + std::to_string(s.sequence_number);
        out += ", \"timestamp-ms\": " + std::to_string(s.timestamp_ms);
        out += ", \"manifest-list\": ";
        append_json_string(out, s.manifest_list);
        out += ", \"summary\": ";
        append_string_map(out, s.summary);
        out += ", \"schema-id\": " + std::to_string(s.schema_id) + "}";
    }
    out += "]";
    out += ",\n  \"snapshot-log\": [";
    for (std::size_t i = 0; i < snapshot_log.size(); ++i) {
        out += (i > 0 ? ", " : "") + std::string("{\"timestamp-ms\": ") +
               std::to_string(snapshot_log[i].first) +
               ", \"snapshot-id\": " + std::to_string(snapshot_log[i].second) + "}";
    }
    out += "]";
    out += ",\n  \"metadata-log\": [";
    for (std::size_t i = 0; i < metadata_log.size(); ++i) {
        out += (i > 0 ? ", " : "") + std::string("{\"timestamp-ms\": ") +
               std::to_string(metadata_log[i].first) + ", \"metadata-file\": ";
        append_json_string(out, metadata_log[i].second);
        out += "}";
    }
    out += "]\n}\n";
    return out;
}

Result<TableMetadata> TableMetadata::parse(std::string_view json, const std::string& source) {
    auto corrupt = [&](const std::string& what) {
        return Error(ErrorCode::kCorruption, source + ": " + what);
    };
    simdjson::dom::parser parser;
    simdjson::padded_string padded(json);
    simdjson::dom::element root;
    if (parser.parse(padded).get(root) != simdjson::SUCCESS || !root.is_object()) {
        return corrupt("not a JSON table metadata file");
    }
    TableMetadata m;
    int64_t i = 0;
    std::string_view text;
    if (root["format-version"].get(i) != simdjson::SUCCESS || i != 2) {
        return corrupt("not an Iceberg format-version 2 table");
    }
    if (root["table-uuid"].get(text) != simdjson::SUCCESS) return corrupt("no table-uuid");
    m.table_uuid = std::string(text);
    if (root["location"].get(text) != simdjson::SUCCESS) return corrupt("no location");
    m.location = std::string(text);
    if (root["last-sequence-number"].get(i) != simdjson::SUCCESS) {
        return corrupt("no last-sequence-number");
    }
    m.last_sequence_number = i;
    if (root["last-updated-ms"].get(i) == simdjson::SUCCESS) m.last_updated_ms = i;
    int64_t schema_id = 0;
    if (root["current-schema-id"].get(i) == simdjson::SUCCESS) schema_id = i;
    simdjson::dom::array array;
    if (root["schemas"].get(array) != simdjson::SUCCESS) return corrupt("no schemas");
    bool found_schema = false;
    m.schema_id = schema_id;
    if (root["last-column-id"].get(i) == simdjson::SUCCESS) m.last_column_id = i;
    for (auto schema : array) {
        if (found_schema || (schema["schema-id"].get(i) == simdjson::SUCCESS && i != schema_id)) {
            m.other_schemas.push_back(simdjson::minify(schema));
            continue;
        }
        simdjson::dom::array fields;
        if (schema["fields"].get(fields) != simdjson::SUCCESS)
            return corrupt("schema without fields");
        std::vector<Field> out;
        std::vector<int32_t> ids;
        std::vector<int32_t> float_ids;
        for (auto field : fields) {
            std::string_view name, type;
            bool required = false;
            if (field["id"].get(i) != simdjson::SUCCESS ||
                field["name"].get(name) != simdjson::SUCCESS ||
                field["required"].get(required) != simdjson::SUCCESS) {
                return corrupt("bad schema field");
            }
            if (field["type"].get(type) != simdjson::SUCCESS) {
                return Error(ErrorCode::kUnsupported, source + ": column `" + std::string(name) +
                                                          "` has a nested type, which Millrace "
                                                          "does not read");
            }
            // Column ids are what data files are matched by (schema evolution renames, drops
            // and reorders columns): positive and unique.
            if (i < 1 || i > std::numeric_limits<int32_t>::max() ||
                std::find(ids.begin(), ids.end(), static_cast<int32_t>(i)) != ids.end()) {
                return corrupt("field `" + std::string(name) + "` has a bad or repeated id " +
                               std::to_string(i));
            }
            ids.push_back(static_cast<int32_t>(i));
            auto data_type = data_type_of(type);
            if (!data_type) {
                return Error(ErrorCode::kUnsupported, source + ": column `" + std::string(name) +
                                                          "` has type `" + std::string(type) +
                                                          "`, which Millrace does not read");
            }
            if (type == "float") float_ids.push_back(static_cast<int32_t>(i));
            out.push_back(Field{std::string(name), *data_type, !required});
        }
        auto made = Schema::make(std::move(out));
        if (!made.ok()) return corrupt(made.error().message());
        m.schema = std::move(made).value();
        m.field_ids = std::move(ids);
        m.float_ids = std::move(float_ids);
        found_schema = true;
    }
    if (!found_schema) return corrupt("no current schema");
    if (root["partition-specs"].get(array) != simdjson::SUCCESS)
        return corrupt("no partition-specs");
    int64_t spec_id = 0;
    if (root["default-spec-id"].get(i) == simdjson::SUCCESS) spec_id = i;
    for (auto spec : array) {
        if (spec["spec-id"].get(i) == simdjson::SUCCESS && i != spec_id) continue;
        simdjson::dom::array fields;
        if (spec["fields"].get(fields) != simdjson::SUCCESS) return corrupt("bad partition spec");
        for (auto field : fields) {
            std::string_view name, transform;
            if (field["source-id"].get(i) != simdjson::SUCCESS ||
                field["name"].get(name) != simdjson::SUCCESS ||
                field["transform"].get(transform) != simdjson::SUCCESS) {
                return corrupt("bad partition field");
            }
            MILLRACE_ASSIGN_OR_RETURN(std::string item, partition_item(m.schema, m.field_ids, i,
                                                                       transform, name, source));
            m.partition_by.push_back(std::move(item));
        }
        break;
    }
    if (auto spec = PartitionSpec::parse(m.partition_by, m.schema); !spec.ok()) {
        // E.g. another engine's table partitioned by a float or double column.
        return Error(ErrorCode::kUnsupported,
                     source + ": the partition spec does not fit the schema Millrace reads (" +
                         spec.error().message() + ")");
    }
    simdjson::dom::object object;
    if (root["properties"].get(object) == simdjson::SUCCESS) {
        for (auto field : object) {
            if (field.value.get(text) != simdjson::SUCCESS) return corrupt("bad properties");
            m.properties[std::string(field.key)] = std::string(text);
        }
    }
    if (root["current-snapshot-id"].get(i) == simdjson::SUCCESS && i >= 0) {
        m.current_snapshot_id = i;
    }
    if (root["snapshots"].get(array) == simdjson::SUCCESS) {
        for (auto snapshot : array) {
            IcebergSnapshot s;
            if (snapshot["snapshot-id"].get(i) != simdjson::SUCCESS) return corrupt("bad snapshot");
            s.snapshot_id = i;
            if (snapshot["parent-snapshot-id"].get(i) == simdjson::SUCCESS) s.parent_id = i;
            if (snapshot["sequence-number"].get(i) == simdjson::SUCCESS) s.sequence_number = i;
            if (snapshot["timestamp-ms"].get(i) == simdjson::SUCCESS) s.timestamp_ms = i;
            if (snapshot["schema-id"].get(i) == simdjson::SUCCESS) s.schema_id = i;
            if (snapshot["manifest-list"].get(text) != simdjson::SUCCESS) {
                return corrupt("snapshot " + std::to_string(s.snapshot_id) +
                               " has no manifest-list");
            }
            s.manifest_list = std::string(text);
            if (snapshot["summary"].get(object) == simdjson::SUCCESS) {
                for (auto field : object) {
                    if (field.value.get(text) == simdjson::SUCCESS) {
                        s.summary[std::string(field.key)] = std::string(text);
                    }
                }
            }
            m.snapshots.push_back(std::move(s));
        }
    }
    if (m.current_snapshot_id && !m.find(*m.current_snapshot_id)) {
        return corrupt("current-snapshot-id " + std::to_string(*m.current_snapshot_id) +
                       " is not among the snapshots");
    }
    if (root["snapshot-log"].get(array) == simdjson::SUCCESS) {
        for (auto entry : array) {
            int64_t ts = 0, id = 0;
            if (entry["timestamp-ms"].get(ts) == simdjson::SUCCESS &&
                entry["snapshot-id"].get(id) == simdjson::SUCCESS) {
                m.snapshot_log.emplace_back(ts, id);
            }
        }
    }
    if (root["metadata-log"].get(array) == simdjson::SUCCESS) {
        for (auto entry : array) {
            int64_t ts = 0;
            if (entry["timestamp-ms"].get(ts) == simdjson::SUCCESS &&
                entry["metadata-file"].get(text) == simdjson::SUCCESS) {
                m.metadata_log.emplace_back(ts, std::string(text));
            }
        }
    }
    return m;
}

}  // namespace millrace
